// Partition-local rows (local-global aggregation) of hot-products,
// daily-active-users, recharge-metrics and ad-clicks: two batch transactions
// that add to the same key, each holding a partition of its own, write that
// partition's rows, so the second never waits for the first's locks; the
// reads sum a key's rows. The control case (both batches on one partition)
// shows the same setup does catch a wait. For the jobs that publish a key's
// total with each commit, the ordering row taken last makes the totals those
// after each commit, in commit order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DailyActiveUserStore } from '../../src/jobs/daily-active-users/daily-active-user-store.js';
import { HotProductStore, type ClickBatch } from '../../src/jobs/hot-products/hot-product-store.js';
import { AdClickStore } from '../../src/jobs/ad-clicks/ad-click-store.js';
import { RechargeMetricsStore } from '../../src/jobs/recharge-metrics/recharge-metrics-store.js';
import { RechargeServingState } from '../../src/jobs/recharge-metrics/recharge-serving-state.js';
import type { CityDayDelta, MinuteDelta } from '../../src/jobs/recharge-metrics/recharge.js';
import { createDb, type Db, type Tx } from '../../src/store/prisma-client.js';
import { TestRuns, type TestDatabase } from '../helpers/job-runs.js';
import { randomName } from '../helpers/services.js';

const MINUTE = Date.UTC(2026, 0, 1, 12, 0);
const DAY = '2026-01-01';

/** The batch transactions' isolation (`DatabasePartitionStore.commitBatches`). */
const BATCH_TX = { timeout: 30_000, isolationLevel: 'ReadCommitted' } as const;

/** Guangzhou, seeded by the migrations. */
const CITY = '440100';
const cityDay = (orders: number): CityDayDelta => ({
  day: DAY,
  cityCode: CITY,
  orders,
  succeeded: orders,
  failed: 0,
  amountFen: orders * 1_000,
  durationMsSum: orders * 10,
});
const minute = (orders: number): MinuteDelta => ({
  minuteStartMs: MINUTE,
  orders,
  succeeded: orders,
  amountFen: orders * 1_000,
});

/** Resolves with `promise`, or rejects naming `what` when it takes longer than 5 s (a lock wait). */
const within5s = <T>(promise: Promise<T>, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} waited more than 5 s`)), 5_000).unref(),
    ),
  ]);

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
    const firstTx = prisma.$transaction(async (tx) => {
      await first(tx);
      wrote();
      await held;
    }, BATCH_TX);
    await written;
    try {
      await prisma.$transaction(async (tx) => {
        // This test's own client: the session setting goes with its connections.
        await tx.$executeRaw`SET SESSION innodb_lock_wait_timeout = 1`;
        await second(tx);
      }, BATCH_TX);
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

  it('recharge-metrics: partitions 0 and 1 add to one city-day and minute at once, and the reads sum them', async () => {
    const store = new RechargeMetricsStore(prisma);
    await overlapping(
      (tx) => store.addDeltas(tx, 0, [cityDay(2)], [minute(2)]),
      (tx) => store.addDeltas(tx, 1, [cityDay(3)], [minute(3)]),
    );
    assert.deepEqual(await store.dailyOf(DAY), [
      { date: DAY, cityCode: CITY, orders: 5, succeeded: 5, failed: 0, amount: '50.00', durationMsSum: 50 },
    ]);
    assert.deepEqual(await store.minutesBetween(MINUTE, MINUTE + 60_000), [
      { minuteStartMs: MINUTE, orders: 5, succeeded: 5, amount: '50.00' },
    ]);
  });

  it('ad-clicks: partitions 0 and 1 add to one ad and minute at once, and the reads sum them', async () => {
    const store = new AdClickStore(prisma);
    const group = (userId: string, n: number) => [{ adId: 'ad1', minuteMs: MINUTE, userId, ip: '10.0.0.1', clicks: n }];
    await overlapping(
      (tx) => store.addBatch(tx, 0, group('u1', 2)),
      (tx) => store.addBatch(tx, 1, group('u2', 3)),
    );
    const minutes = await store.adMinutes('ad1', MINUTE, MINUTE + 60_000);
    assert.deepEqual(
      [...minutes.values()],
      [{ adId: 'ad1', minuteMs: MINUTE, clicks: 5, blockedByUser: 0, blockedByIp: 0 }],
    );
  });

  it('recharge-metrics: the totals read after the ordering row are those after each commit, in commit order', async () => {
    const store = new RechargeMetricsStore(prisma);
    const state = new RechargeServingState(prisma, randomName('order'), 0);
    const day = '2026-01-02';
    const delta = (orders: number) => [{ ...cityDay(orders), day }];
    const at = MINUTE + 3_600_000;
    const minuteOf = (orders: number) => [{ ...minute(orders), minuteStartMs: at }];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstOrdered!: () => void;
    const ordered = new Promise<void>((resolve) => (firstOrdered = resolve));
    let secondWrote!: () => void;
    const wrote = new Promise<void>((resolve) => (secondWrote = resolve));
    const first = prisma.$transaction(async (tx) => {
      await store.addDeltas(tx, 0, delta(2), minuteOf(2));
      await state.bump(tx);
      firstOrdered();
      await firstHeld;
      return store.readBack(tx, delta(2), minuteOf(2), state.groupId);
    }, BATCH_TX);
    await ordered;
    const second = prisma.$transaction(async (tx) => {
      // A plain read first, as the de-duplication lookup does: under REPEATABLE READ it would fix the
      // snapshot here, and the totals below would miss the first transaction's commit.
      await tx.$queryRaw`SELECT COUNT(*) AS n FROM recharge_order`;
      await store.addDeltas(tx, 1, delta(3), minuteOf(3));
      secondWrote();
      // Waits for the first transaction's commit.
      await state.bump(tx);
      return store.readBack(tx, delta(3), minuteOf(3), state.groupId);
    }, BATCH_TX);
    // The second's aggregate writes go through while the first holds its rows and the ordering row.
    await within5s(wrote, "the second partition's aggregate writes");
    releaseFirst();
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual(
      [a.serving?.seq, a.daily.map((d) => d.orders), a.minutes.map((m) => m.orders)],
      [1, [2], [2]],
      'the first commit publishes its own part only: the second had not committed',
    );
    assert.deepEqual(
      [b.serving?.seq, b.daily.map((d) => d.orders), b.minutes.map((m) => m.orders)],
      [2, [5], [5]],
      "the second commit's totals count the first commit",
    );
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
