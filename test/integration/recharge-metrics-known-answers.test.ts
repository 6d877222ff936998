// Recharge analytics on a hand-built stream with known answers, through the
// real Kafka, MariaDB and Redis, read back through every GraphQL query; worker
// and API in separate processes so the subscription crosses Redis.
import { CITY_DAILY_TTL_MS } from '../../src/jobs/recharge-metrics/recharge-metrics-reader.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { formatRecharge, type RechargeRecordInput } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { cityDailyKey, minuteKey } from '../../src/jobs/recharge-metrics/recharge-serving-cache.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { createKafka } from '../../src/ingest/kafka-client.js';
import { collect, errorCode, gql, wsClient } from '../helpers/graphql-client.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { withoutVersion } from '../../src/jobs/recharge-metrics/testing.js';
import { servingSpace } from '../../src/jobs/recharge-metrics/testing.js';
import {
  createTestDatabase,
  createTestTopic,
  KAFKA_BROKERS,
  produce,
  randomName,
  readTopic,
  REDIS_URL,
  sql,
  waitFor,
} from '../helpers/services.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
/** Local midnight starting 2026-01-01 in Asia/Shanghai = 2025-12-31T16:00:00Z. */
const T0 = Date.UTC(2025, 11, 31, 16);
const D1 = '2025-12-31';
const D2 = '2026-01-01';
const iso = (ms: number) => new Date(ms).toISOString();

const GZ = '440100';
const SZ = '440300';
const ZH = '440400';
const FS = '440600';

type Order = [orderId: string, city: string, ok: boolean, fee: string, durationMs: number, notifyMs: number];

function value([orderId, cityCode, ok, chargefee, durationMs, notifyMs]: Order, serviceName?: string): string {
  const input: RechargeRecordInput = {
    orderId,
    cityCode,
    chargefee,
    bussinessRst: ok ? '0000' : '0001',
    requestTimeMs: notifyMs - durationMs,
    notifyTimeMs: notifyMs,
    serviceName,
  };
  return formatRecharge(input, calendar);
}

const A1: Order = ['A1', GZ, true, '50', 10_000, T0 - 1]; // 23:59:59.999 on 2025-12-31, local
const A2: Order = ['A2', GZ, true, '100.50', 20_000, T0]; // 00:00:00.000 on 2026-01-01, local
const A3: Order = ['A3', SZ, false, '30', 5_000, T0 + 59_999]; // last ms of minute 16:00Z
const A4: Order = ['A4', SZ, true, '20.05', 3_000, T0 + 60_000]; // first ms of minute 16:01Z
const B1: Order = ['B1', GZ, true, '10', 60_000, T0 + 30_000];
const C1: Order = ['C1', GZ, true, '200.00', 15_000, T0 + 61_000];
const C2: Order = ['C2', ZH, false, '50', 45_000, T0 + 120_000];
const C3: Order = ['C3', ZH, true, '30', 1_000, T0 + 121_000];

/** Batch 1, produced before the worker starts so each partition's records arrive as one batch. */
const BATCH_1: { key: string; value: string; partition: number }[] = [
  { key: 'A1', value: value(A1), partition: 0 },
  { key: 'A2', value: value(A2), partition: 0 },
  { key: 'A2', value: value(A2), partition: 0 }, // duplicate within a batch
  { key: 'A3', value: value(A3), partition: 0 },
  { key: 'A4', value: value(A4), partition: 0 },
  { key: 'S1', value: value(['S1', GZ, true, '500', 1_000, T0 + 5_000], 'sendRechargeReq'), partition: 0 }, // another service: skipped
  { key: 'M1', value: value(['M1', '449999', true, '10', 1_000, T0 + 6_000]), partition: 0 }, // unknown city
  { key: 'M2', value: '{"orderId": "M2", "serviceName": "reChargeNotifyReq", ', partition: 0 }, // not JSON
  { key: 'B1', value: value(B1), partition: 1 },
  { key: 'A2', value: value(A2), partition: 1 }, // the same order through another partition, concurrently
];
/** Batch 2, while the worker runs. */
const BATCH_2 = [
  { key: 'A1', value: value(A1), partition: 0 }, // duplicate across batches
  { key: 'C1', value: value(C1), partition: 0 },
];
/** Batch 3, produced while the worker is stopped. */
const BATCH_3 = [
  { key: 'B1', value: value(B1), partition: 1 }, // duplicate across a restart
  { key: 'C2', value: value(C2), partition: 2 },
  { key: 'C3', value: value(C3), partition: 2 },
];

const zero = { orders: 0, succeeded: 0, failed: 0, successRate: 0, amount: '0.00', avgDurationMs: 0 };
const EXPECTED_D2: Record<string, typeof zero> = {
  [GZ]: { orders: 3, succeeded: 3, failed: 0, successRate: 1, amount: '310.50', avgDurationMs: 95_000 / 3 },
  [SZ]: { orders: 2, succeeded: 1, failed: 1, successRate: 0.5, amount: '20.05', avgDurationMs: 4_000 },
  [ZH]: { orders: 2, succeeded: 1, failed: 1, successRate: 0.5, amount: '30.00', avgDurationMs: 23_000 },
};
const EXPECTED_D1: Record<string, typeof zero> = {
  [GZ]: { orders: 1, succeeded: 1, failed: 0, successRate: 1, amount: '50.00', avgDurationMs: 10_000 },
};

const STATS_FIELDS =
  'date cityCode cityName cityNameEn longitude latitude orders succeeded failed successRate amount avgDurationMs';

describe('recharge-metrics on a hand-built stream', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  let ws: ReturnType<typeof wsClient>;
  let disposeSubscription: () => void;
  const subscriptionErrors: unknown[] = [];
  const received: { at: number; stats: any }[] = [];
  let rawBus: Redis;
  const rawChanges: { cityCode: string; date: string; orders: number }[] = [];
  let env: Record<string, string>;
  let group: string;
  let space: Awaited<ReturnType<typeof servingSpace>>;

  const query = (q: string, vars: Record<string, unknown> = {}) => gql(api.url, q, vars, TEST_KEYS.viewer);
  const committed = async (total: number) => {
    const rows = await sql<{ n: bigint }>(
      db.url,
      'SELECT COALESCE(SUM(next_offset), 0) AS n FROM consumer_offset WHERE group_id = ?',
      [group],
    );
    return Number(rows[0].n) >= total;
  };

  before(async () => {
    db = await createTestDatabase();
    topic = await createTestTopic('recharge');
    group = randomName('recharge-metrics');
    // The stream's notify times are fixed dates in the past: a horizon of 10 years keeps them all countable.
    env = {
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      TIME_ZONE: 'Asia/Shanghai',
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
    };
    space = await servingSpace(db.url, group);
    api = await startServiceProcess({ ...env, ROLES: 'api' });
    ws = wsClient(api.url, TEST_KEYS.viewer);
    const started = Date.now();
    disposeSubscription = ws.subscribe<any>(
      { query: `subscription { cityMetricsUpdated { ${STATS_FIELDS} } }` },
      {
        next: (v) => {
          if (v.errors) subscriptionErrors.push(v.errors);
          else received.push({ at: Date.now() - started, stats: v.data.cityMetricsUpdated });
        },
        error: (e) => subscriptionErrors.push(e),
        complete: () => undefined,
      },
    );
    // Every raw change the workers publish, before the API process coalesces them.
    rawBus = new Redis(REDIS_URL);
    await rawBus.subscribe(`RECHARGE_CITY_METRICS_CHANGED:${group}`);
    rawBus.on('message', (_channel, message) => {
      for (const c of JSON.parse(message).cities)
        rawChanges.push({ cityCode: c.cityCode, date: c.date, orders: c.orders });
    });
    await new Promise((r) => setTimeout(r, 500));
    await produce(topic.topic, BATCH_1);
    worker = await startServiceProcess({ ...env, ROLES: 'worker' });
    await waitFor('batch 1 committed', () => committed(BATCH_1.length));
    await produce(topic.topic, BATCH_2);
    await waitFor('batch 2 committed', () => committed(BATCH_1.length + BATCH_2.length));
    await worker.kill('SIGTERM');
    await produce(topic.topic, BATCH_3);
    worker = await startServiceProcess({ ...env, ROLES: 'worker' });
    await waitFor('batch 3 committed', () => committed(BATCH_1.length + BATCH_2.length + BATCH_3.length));
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    disposeSubscription?.();
    await ws?.dispose();
    rawBus?.disconnect();
    await worker?.kill();
    await api?.kill();
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should count every order once per city and local day, through cityRechargeStats', async () => {
    const res = await query(`query($d: Date) { cityRechargeStats(date: $d) { ${STATS_FIELDS} } }`, { d: D2 });
    assert.deepEqual(res.errors, undefined);
    const cities = res.data.cityRechargeStats;
    assert.equal(cities.length, 21);
    assert.deepEqual(
      cities.map((c: any) => c.cityCode),
      [...cities.map((c: any) => c.cityCode)].sort(),
    );
    for (const c of cities) {
      const { date, cityCode, cityName, cityNameEn, longitude, latitude, ...values } = c;
      assert.equal(date, D2);
      assert.deepEqual(values, (EXPECTED_D2[cityCode] as typeof zero | undefined) ?? zero, cityCode);
    }
    assert.deepEqual(
      cities.find((c: any) => c.cityCode === GZ),
      {
        date: D2,
        cityCode: GZ,
        cityName: '广州市',
        cityNameEn: 'Guangzhou',
        longitude: 113.264385,
        latitude: 23.129112,
        ...EXPECTED_D2[GZ],
      },
    );
    const d1 = await query(
      `query($d: Date) { cityRechargeStats(date: $d) { cityCode orders succeeded failed successRate amount avgDurationMs } }`,
      { d: D1 },
    );
    for (const { cityCode, ...values } of d1.data.cityRechargeStats)
      assert.deepEqual(values, (EXPECTED_D1[cityCode] as typeof zero | undefined) ?? zero, cityCode);
  });

  it('should keep each order id once in recharge_order, whatever the duplicates', async () => {
    const rows = await sql<{ order_id: string }>(db.url, 'SELECT order_id FROM recharge_order ORDER BY order_id');
    assert.deepEqual(
      rows.map((r) => r.order_id),
      ['A1', 'A2', 'A3', 'A4', 'B1', 'C1', 'C2', 'C3'],
    );
  });

  it('should rank cities by orders, ties by cityCode, with topCities', async () => {
    const res = await query(
      `query($d: Date) { top: topCities(date: $d) { cityCode orders successRate } two: topCities(date: $d, limit: 2) { cityCode } none: topCities(date: $d, limit: 0) { cityCode } }`,
      { d: D2 },
    );
    assert.deepEqual(res.data.top, [
      { cityCode: GZ, orders: 3, successRate: 1 },
      { cityCode: SZ, orders: 2, successRate: 0.5 },
      { cityCode: ZH, orders: 2, successRate: 0.5 },
    ]);
    assert.deepEqual(
      res.data.two.map((c: any) => c.cityCode),
      [GZ, SZ],
    );
    assert.deepEqual(res.data.none, []);
    assert.equal(errorCode(await query('{ topCities(limit: -1) { cityCode } }')), 'BAD_USER_INPUT');
    assert.equal(errorCode(await query('{ topCities(limit: 101) { cityCode } }')), 'BAD_USER_INPUT');
  });

  it('should give one bucket per minute with empty minutes as zeros, split exactly at the minute boundary', async () => {
    const q =
      'query($f: DateTime!, $t: DateTime!) { rechargePerMinute(from: $f, to: $t) { minuteStart orders succeeded failed successRate amount } }';
    // `from` inside a minute: that minute's bucket is the first.
    const res = await query(q, { f: iso(T0 - 30_000), t: iso(T0 + 240_000) });
    assert.deepEqual(res.data.rechargePerMinute, [
      { minuteStart: iso(T0 - 60_000), orders: 1, succeeded: 1, failed: 0, successRate: 1, amount: '50.00' },
      { minuteStart: iso(T0), orders: 3, succeeded: 2, failed: 1, successRate: 2 / 3, amount: '110.50' },
      { minuteStart: iso(T0 + 60_000), orders: 2, succeeded: 2, failed: 0, successRate: 1, amount: '220.05' },
      { minuteStart: iso(T0 + 120_000), orders: 2, succeeded: 1, failed: 1, successRate: 0.5, amount: '30.00' },
      { minuteStart: iso(T0 + 180_000), orders: 0, succeeded: 0, failed: 0, successRate: 0, amount: '0.00' },
    ]);
    const day = await query(q, { f: iso(T0 - 720 * 60_000), t: iso(T0 + 720 * 60_000) });
    assert.equal(day.data.rechargePerMinute.length, 1_440);
    assert.equal(
      day.data.rechargePerMinute.reduce((n: number, m: { orders: number }) => n + m.orders, 0),
      8,
    );
    assert.equal(errorCode(await query(q, { f: iso(T0), t: iso(T0 + 1_441 * 60_000) })), 'BAD_USER_INPUT');
    assert.equal(errorCode(await query(q, { f: iso(T0), t: iso(T0) })), 'BAD_USER_INPUT');
    assert.equal(errorCode(await query(q, { f: iso(T0 + 60_000), t: iso(T0) })), 'BAD_USER_INPUT');
  });

  it('should sum the province for the day with rechargeSummary, and default to today in TIME_ZONE', async () => {
    const res = await query(
      'query($d: Date) { rechargeSummary(date: $d) { date orders succeeded failed successRate amount avgDurationMs activeCities } }',
      { d: D2 },
    );
    assert.deepEqual(res.data.rechargeSummary, {
      date: D2,
      orders: 7,
      succeeded: 5,
      failed: 2,
      successRate: 5 / 7,
      amount: '360.55',
      avgDurationMs: 149_000 / 7,
      activeCities: 3,
    });
    const today = await query('{ rechargeSummary { date orders } cityRechargeStats { date } }');
    assert.equal(today.data.rechargeSummary.date, calendar.dateOf(Date.now()));
    assert.equal(today.data.cityRechargeStats.length, 21);
    assert.equal(
      errorCode(await query('{ rechargeSummary(date: "2026-02-30") { orders } }')),
      'GRAPHQL_VALIDATION_FAILED',
    );
  });

  it('should serve the values from Redis under the documented keys, marked complete', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const daily = await waitFor('the day key', async () => {
        const h = await redis.hgetall(cityDailyKey(group, space, D2));
        return h._complete ? h : null;
      });
      assert.deepEqual(withoutVersion(daily[GZ]), {
        orders: 3,
        succeeded: 3,
        failed: 0,
        amount: '310.50',
        durationMsSum: 95_000,
      });
      const minutes = await redis.hgetall(minuteKey(group, space, D2));
      assert.deepEqual(withoutVersion(minutes[iso(T0 + 60_000)]), { orders: 2, succeeded: 2, amount: '220.05' });
      assert.ok((await redis.ttl(cityDailyKey(group, space, D2))) > 2 * 86_400);
      // A value only Redis has is what the query answers: it reads Redis, not MySQL.
      await redis.hset(
        cityDailyKey(group, space, D2),
        FS,
        JSON.stringify({ orders: 99, succeeded: 0, failed: 99, amount: '0.00', durationMsSum: 0 }),
      );
      // The API process keeps a date's city stats for CITY_DAILY_TTL_MS: a read after that bound goes to Redis again.
      await new Promise((resolve) => setTimeout(resolve, CITY_DAILY_TTL_MS + 10));
      const res = await query(`query($d: Date) { cityRechargeStats(date: $d) { cityCode orders } }`, { d: D2 });
      assert.equal(res.data.cityRechargeStats.find((c: any) => c.cityCode === FS).orders, 99);
      await redis.hdel(cityDailyKey(group, space, D2), FS);
    } finally {
      redis.disconnect();
    }
  });

  it('should put the malformed records in the dead-letter topic with their reasons, and skip other services', async () => {
    // At-least-once in the dead-letter topic: a batch replayed after a failed commit (here: the
    // race for order A2 between partitions 0 and 1) sends its dead letters again, with the same key.
    const dead = await readTopic(topic.dlq, 10, 5_000);
    const distinct = new Map(
      dead.map((d) => [d.key, [d.key, d.headers['dlq.reason'], d.headers['dlq.source.offset']]]),
    );
    assert.deepEqual([...distinct.values()].sort(), [
      [`${topic.topic}:0:6`, 'unknown-city', '6'],
      [`${topic.topic}:0:7`, 'bad-json', '7'],
    ]);
    const offsets = await query(
      'query($g: String) { consumerOffsets(groupId: $g) { partition offset latest lag deadLettered lostToRetention } }',
      { g: group },
    );
    assert.deepEqual(offsets.data.consumerOffsets, [
      { partition: 0, offset: 10, latest: 10, lag: 0, deadLettered: 2, lostToRetention: 0 },
      { partition: 1, offset: 3, latest: 3, lag: 0, deadLettered: 0, lostToRetention: 0 },
      { partition: 2, offset: 2, latest: 2, lag: 0, deadLettered: 0, lostToRetention: 0 },
    ]);
  });

  it("should send subscribers each city's newest stats, at most one event per city per second", async () => {
    // A burst of single-record commits for Foshan, through every partition.
    const producer = createKafka(KAFKA_BROKERS, randomName('burst')).producer();
    await producer.connect();
    const BURST = 12;
    try {
      for (let i = 0; i < BURST; i++) {
        await producer.send({
          topic: topic.topic,
          acks: -1,
          messages: [
            { key: `F${i}`, partition: i % 3, value: value([`F${i}`, FS, true, '10', 2_000, T0 + 300_000 + i]) },
          ],
        });
        await new Promise((r) => setTimeout(r, 40));
      }
    } finally {
      await producer.disconnect();
    }
    const final = {
      ...zero,
      orders: BURST,
      succeeded: BURST,
      successRate: 1,
      amount: `${10 * BURST}.00`,
      avgDurationMs: 2_000,
    };
    await waitFor(
      'the final Foshan event',
      () => received.some((e) => e.stats.cityCode === FS && e.stats.orders === BURST),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(subscriptionErrors, []);

    const foshan = received.filter((e) => e.stats.cityCode === FS);
    const rawFoshan = rawChanges.filter((c) => c.cityCode === FS);
    assert.ok(
      rawFoshan.length > foshan.length,
      `coalescing sent ${foshan.length} events for ${rawFoshan.length} changes`,
    );
    const { date, cityCode, cityName, cityNameEn, longitude, latitude, ...last } = foshan.at(-1)!.stats;
    assert.deepEqual({ date, cityCode, cityName, ...last }, { date: D2, cityCode: FS, cityName: '佛山市', ...final });
    // Counts only grow, event after event.
    for (let i = 1; i < foshan.length; i++) assert.ok(foshan[i].stats.orders > foshan[i - 1].stats.orders);
    // At most one per city per second (the API process emits 1000 ms apart; delivery jitter is far below 100 ms).
    for (const city of new Set(received.map((e) => e.stats.cityCode))) {
      const times = received.filter((e) => e.stats.cityCode === city).map((e) => e.at);
      for (let i = 1; i < times.length; i++)
        assert.ok(times[i] - times[i - 1] >= 900, `${city}: events ${times[i] - times[i - 1]} ms apart`);
    }
    // Every city of the stream reached its final values of 2026-01-01.
    for (const [city, expected] of Object.entries(EXPECTED_D2)) {
      const lastOfCity = received.filter((e) => e.stats.cityCode === city).at(-1)!.stats;
      assert.deepEqual(
        { date: lastOfCity.date, orders: lastOfCity.orders, amount: lastOfCity.amount },
        { date: D2, orders: expected.orders, amount: expected.amount },
        city,
      );
    }
  });

  it('should refuse an unknown cityCode in the subscription and callers without a key', async () => {
    const bad = collect(ws, 'subscription { cityMetricsUpdated(cityCode: "449999") { cityCode } }');
    await waitFor('the subscription error', () => bad.errors.length > 0, 10_000);
    bad.dispose();
    assert.match(JSON.stringify(bad.errors), /BAD_USER_INPUT|cityCode/);
    assert.equal(errorCode(await gql(api.url, '{ rechargeSummary { orders } }')), 'UNAUTHENTICATED');
  });
});
