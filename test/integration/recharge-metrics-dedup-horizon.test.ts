// Bounded de-duplication state of recharge-metrics: order ids are kept for
// RECHARGE_DEDUP_HORIZON_DAYS of notify time and pruned in small statements
// off the batch transactions; a record already older than the horizon when it
// arrives is dead-lettered (`beyond-dedup-horizon`) and counted per
// partition, not added to the totals.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { createDb, type Db } from '../../src/store/prisma-client.js';
import { RechargeMetricsStore } from '../../src/jobs/recharge-metrics/recharge-metrics-store.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { gql } from '../helpers/graphql-client.js';
import { TestRuns, type TestDatabase, type TestTopic } from '../helpers/job-runs.js';
import { TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, readTopic, sql, waitFor } from '../helpers/services.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD HH:MM:SS.mmm` (UTC) for a DATETIME(3) column. */
const sqlTime = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

describe('recording the seen order ids in the batch transaction', () => {
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

  const event = (orderId: string) => ({
    orderId,
    succeeded: true,
    amountFen: 100,
    requestTimeMs: Date.now() - 2_000,
    notifyTimeMs: Date.now() - 1_000,
    durationMs: 1_000,
    provinceCode: '440000',
    cityCode: '440100',
  });

  it('should keep only the unseen orders, whichever ids are looked up first, and record each id once', async () => {
    const store = new RechargeMetricsStore(prisma);
    await prisma.$transaction((tx) => store.keepNewOrders(tx, ['a1', 'a2', 'a3'].map(event)));
    const cases: [string, (id: string) => boolean][] = [
      ['none looked up first: the duplicate-key error takes the full way', () => false],
      ['all looked up first', () => true],
      ['a wrong guess of which are seen', (id) => id.startsWith('b')],
    ];
    for (const [i, [name, maybeSeen]] of cases.entries()) {
      const ids = ['a1', `b${i}`, 'a3', `c${i}`, 'a2'];
      const fresh = await prisma.$transaction((tx) => store.keepNewOrders(tx, ids.map(event), maybeSeen));
      assert.deepEqual(
        fresh.map((e) => e.orderId),
        [`b${i}`, `c${i}`],
        name,
      );
    }
    const rows = await sql<{ order_id: string }>(db.url, 'SELECT order_id FROM recharge_order ORDER BY order_id');
    assert.deepEqual(
      rows.map((r) => r.order_id),
      ['a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2'],
    );
  });

  it('should drop an id recorded earlier in the same transaction, and record nothing when the transaction fails', async () => {
    const store = new RechargeMetricsStore(prisma);
    await assert.rejects(
      prisma.$transaction(async (tx) => {
        await store.keepNewOrders(tx, [event('d1')], () => false);
        const fresh = await store.keepNewOrders(tx, [event('d2'), event('d1')], () => false);
        assert.deepEqual(
          fresh.map((e) => e.orderId),
          ['d2'],
        );
        throw new Error('rolled back on purpose');
      }),
      /rolled back on purpose/,
    );
    const rows = await sql(db.url, "SELECT order_id FROM recharge_order WHERE order_id LIKE 'd%'");
    assert.equal(rows.length, 0);
  });
});

describe('pruning the seen order ids', () => {
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

  it('should delete the ids older than the cutoff in statements of at most the batch size, and keep the others', async () => {
    const now = Date.now();
    const old = Array.from(
      { length: 2_345 },
      (_, i) => `('old-${i}', '${sqlTime(now - 8 * DAY_MS - i * 1_000)}', '440100')`,
    );
    const recent = Array.from(
      { length: 20 },
      (_, i) => `('new-${i}', '${sqlTime(now - 6 * DAY_MS + i * 1_000)}', '440100')`,
    );
    await sql(
      db.url,
      `INSERT INTO recharge_order (order_id, notify_time, city_code) VALUES ${[...old, ...recent].join(',')}`,
    );
    const store = new RechargeMetricsStore(prisma);
    const result = await store.pruneOrders(now - 7 * DAY_MS, { batchSize: 1_000, pauseMs: 10 });
    assert.deepEqual(result, { deleted: 2_345, statements: 3 });
    const left = await sql<{ order_id: string }>(db.url, 'SELECT order_id FROM recharge_order ORDER BY order_id');
    assert.deepEqual(
      left.map((r) => r.order_id),
      recent.map((_, i) => `new-${i}`).sort(),
    );
    assert.deepEqual(await store.pruneOrders(now - 7 * DAY_MS, { batchSize: 1_000, pauseMs: 10 }), {
      deleted: 0,
      statements: 1,
    });
  });

  it('should use the notify_time index', async () => {
    const rows = await sql<{ key: string | null }>(
      db.url,
      'EXPLAIN SELECT order_id FROM recharge_order WHERE notify_time < NOW() ORDER BY notify_time LIMIT 1000',
    );
    assert.equal(rows[0].key, 'recharge_order_notify_time_idx');
  });
});

describe('a recharge record beyond the de-duplication horizon', () => {
  const runs = new TestRuns();
  let db: TestDatabase;
  let topic: TestTopic;
  let service: ServiceProcess;
  const group = randomName('recharge-horizon');
  const now = Date.now();
  const record = (orderId: string, notifyTimeMs: number, partition: number) => ({
    key: orderId,
    partition,
    value: formatRecharge(
      { orderId, cityCode: '440100', chargefee: '10', requestTimeMs: notifyTimeMs - 1_000, notifyTimeMs },
      calendar,
    ),
  });

  before(async () => {
    db = await runs.freshDb();
    topic = await runs.createTopic('recharge', 3);
    // Ids already stored: one beyond the horizon and its margin, one inside it.
    await sql(
      db.url,
      `INSERT INTO recharge_order (order_id, notify_time, city_code) VALUES ('stored-old', '${sqlTime(now - 30 * DAY_MS)}', '440100'), ('stored-new', '${sqlTime(now - DAY_MS)}', '440100')`,
    );
    await produce(topic.topic, [
      record('fresh-1', now - 60_000, 0),
      record('old-1', now - 8 * DAY_MS, 1),
      record('old-2', now - 9 * DAY_MS, 1),
      record('fresh-2', now - 2 * DAY_MS, 2),
      record('stored-new', now - DAY_MS, 2), // a duplicate of an id inside the horizon: still recognised
    ]);
    service = await runs.start({
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      RECHARGE_DEDUP_HORIZON_DAYS: '7',
      RECHARGE_DEDUP_PRUNE_INTERVAL_MS: '1000',
    });
    await waitFor(
      'every record committed',
      async () => {
        const rows = await sql<{ n: bigint }>(
          db.url,
          'SELECT COALESCE(SUM(next_offset), 0) AS n FROM consumer_offset WHERE group_id = ?',
          [group],
        );
        return Number(rows[0].n) >= 5;
      },
      60_000,
    );
  });

  after(() => runs.cleanup());

  it('should not count it in the totals, and dead-letter it with reason beyond-dedup-horizon', async () => {
    const total = await sql<{ orders: bigint }>(
      db.url,
      'SELECT COALESCE(SUM(orders), 0) AS orders FROM recharge_city_daily',
    );
    assert.equal(Number(total[0].orders), 2, 'fresh-1 and fresh-2 only');
    const dead = await readTopic(topic.dlq, 2, 10_000);
    assert.deepEqual([...new Map(dead.map((d) => [d.key, [d.key, d.headers['dlq.reason']]])).values()].sort(), [
      [`${topic.topic}:1:0`, 'beyond-dedup-horizon'],
      [`${topic.topic}:1:1`, 'beyond-dedup-horizon'],
    ]);
  });

  it('should count it per partition in consumer_offset and in the jobs query', async () => {
    const rows = await sql<{ partition: number; n: bigint; dead: bigint }>(
      db.url,
      'SELECT `partition`, beyond_dedup_horizon AS n, dead_lettered AS dead FROM consumer_offset WHERE group_id = ? ORDER BY `partition`',
      [group],
    );
    assert.deepEqual(
      rows.map((r) => [r.partition, Number(r.n), Number(r.dead)]),
      [
        [0, 0, 0],
        [1, 2, 2],
        [2, 0, 0],
      ],
    );
    const res = await gql(
      service.url,
      '{ jobs { name partitions { partition deadLettered beyondDedupHorizon } } }',
      {},
      TEST_KEYS.ops,
    );
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const job = res.data.jobs.find((j: any) => j.name === 'recharge-metrics');
    assert.deepEqual(job.partitions, [
      { partition: 0, deadLettered: 0, beyondDedupHorizon: 0 },
      { partition: 1, deadLettered: 2, beyondDedupHorizon: 2 },
      { partition: 2, deadLettered: 0, beyondDedupHorizon: 0 },
    ]);
  });

  it('should count it in the Prometheus dead-letter counter under its own reason', async () => {
    const text = await (await fetch(service.url.replace(/\/graphql$/, '/metrics'))).text();
    assert.match(text, /rt_records_dead_lettered_total\{job="recharge-metrics",reason="beyond-dedup-horizon"\} 2\b/);
  });

  it("should prune, from the worker's timer, the stored ids beyond the horizon and keep the recent ones", async () => {
    await waitFor(
      'the old id pruned',
      async () => {
        const rows = await sql(db.url, "SELECT order_id FROM recharge_order WHERE order_id = 'stored-old'");
        return rows.length === 0;
      },
      60_000,
    );
    const left = await sql<{ order_id: string }>(db.url, 'SELECT order_id FROM recharge_order ORDER BY order_id');
    assert.deepEqual(
      left.map((r) => r.order_id),
      ['fresh-1', 'fresh-2', 'stored-new'],
    );
  });
});
