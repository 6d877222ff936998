// Partition-local rows (local-global aggregation) of hot-products and
// daily-active-users: two batch transactions that add to the same product,
// minute and day, each holding a partition of its own, write that partition's
// rows, so the second never waits for the first's locks; the reads sum a
// key's rows. The control case
// (both batches on one partition) shows the same setup does catch a wait.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DailyActiveUserStore } from '../../src/jobs/daily-active-users/daily-active-user-store.js';
import { HotProductStore, type ClickBatch } from '../../src/jobs/hot-products/hot-product-store.js';
import { createDb, type Db, type Tx } from '../../src/store/prisma-client.js';
import { TestRuns, type TestDatabase } from '../helpers/job-runs.js';

const MINUTE = Date.UTC(2026, 0, 1, 12, 0);
const DAY = '2026-01-01';

const clicks = (clicks: number, atMs: number, category: string): ClickBatch => ({
  minutes: [{ productId: 'p1', minuteMs: MINUTE, clicks }],
  actions: [{ productId: 'p1', minuteMs: MINUTE, action: 'cart', events: 1 }],
  totals: [{ productId: 'p1', clicks, lastClickMs: atMs, category, categoryAtMs: atMs }],
});

/** True for MySQL's lock wait timeout (1205), however the driver adapter wraps it. */
const isLockWaitTimeout = (err: unknown): boolean => {
  const text = `${String(err)} ${JSON.stringify(err, Object.getOwnPropertyNames(err ?? {}))}`;
  return /lock wait timeout|1205/i.test(text);
};

describe('partition-local rows: two partitions adding to one key never wait for each other', () => {
  const runs = new TestRuns();
  let db: TestDatabase;
  let prisma: Db;

  before(async () => {
    db = await runs.freshDb();
    prisma = createDb(db.url);
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined when before() failed
    await prisma?.$disconnect();
    await runs.cleanup();
  });

  /**
   * Runs `first` in a transaction kept open (its row locks held) while
   * `second` runs and commits in another transaction whose lock waits give up
   * after 1 second; then commits `first`.
   * @throws what `second` threw (a lock wait timeout when they share a row).
   */
  async function overlapping(first: (tx: Tx) => Promise<void>, second: (tx: Tx) => Promise<void>): Promise<void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let wrote!: () => void;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    const firstTx = prisma.$transaction(
      async (tx) => {
        await first(tx);
        wrote();
        await held;
      },
      { timeout: 30_000 },
    );
    await written;
    try {
      await prisma.$transaction(
        async (tx) => {
          // This test's own client: the session setting goes with its connections.
          await tx.$executeRaw`SET SESSION innodb_lock_wait_timeout = 1`;
          await second(tx);
        },
        { timeout: 30_000 },
      );
    } finally {
      release();
      await firstTx;
    }
  }

  it('hot-products: partitions 0 and 1 add to product p1 at once, and the reads sum them', async () => {
    const store = new HotProductStore(prisma, { rankingTtlMs: 0 });
    await overlapping(
      (tx) => store.addBatch(tx, 0, clicks(2, MINUTE + 1_000, 'tv')),
      (tx) => store.addBatch(tx, 1, clicks(3, MINUTE + 2_000, 'phone')),
    );
    assert.deepEqual(await store.ranking(MINUTE, MINUTE + 60_000, 10), [
      // The category of the latest click over both partitions.
      { productId: 'p1', clicks: 5, category: 'phone' },
    ]);
    const { minutes } = await store.productMinutes('p1', MINUTE, MINUTE + 60_000);
    assert.deepEqual([...minutes], [[MINUTE, 5]]);
    assert.deepEqual(await store.rankingByCategory(MINUTE, MINUTE + 60_000, 10), [
      { productId: 'p1', clicks: 5, category: 'phone' },
    ]);
  });

  it('daily-active-users: partitions 0 and 1 count users of one day at once, and the day sums them', async () => {
    const store = new DailyActiveUserStore(prisma);
    await overlapping(
      (tx) => store.addBatch(tx, 0, [{ day: DAY, uids: ['u1', 'u2'] }], []),
      (tx) => store.addBatch(tx, 1, [{ day: DAY, uids: ['u3'] }], []),
    );
    assert.deepEqual([...(await store.range(DAY, DAY))], [[DAY, { activeUsers: 3, newUsers: 0 }]]);
  });

  it('control: two transactions of ONE partition on the same product do wait (and give up after 1 s)', async () => {
    const store = new HotProductStore(prisma, { rankingTtlMs: 0 });
    await assert.rejects(
      overlapping(
        (tx) => store.addBatch(tx, 5, clicks(1, MINUTE + 3_000, 'tv')),
        (tx) => store.addBatch(tx, 5, clicks(1, MINUTE + 4_000, 'tv')),
      ),
      isLockWaitTimeout,
    );
  });
});
