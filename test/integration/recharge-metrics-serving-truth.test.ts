// The Redis copy of recharge-metrics never answers numbers the database does
// not hold: a group that counted many orders into database A and then runs on
// a fresh database B (same group, same Redis) answers B's rows; after
// rebuildJob no value written before it is read; and a database restored to a
// point older than Redis's values answers its own rows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { cityDailyKey } from '../../src/jobs/recharge-metrics/recharge-serving-cache.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { gql } from '../helpers/graphql-client.js';
import { TestRuns, type TestDatabase, type TestTopic } from '../helpers/job-runs.js';
import { servingSpace } from '../../src/jobs/recharge-metrics/testing.js';
import { TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, REDIS_URL, sql, waitFor } from '../helpers/services.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
const DAY = '2026-03-02';
const DAY_START = calendar.startOfDay(DAY);
const GZ = '440100';
const SZ = '440300';

/** `count` orders of `city` named `<prefix>-<i>`, a few failed, spread over the day's first hours. */
function orders(prefix: string, city: string, count: number, offsetMs = 0): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const notifyTimeMs = DAY_START + offsetMs + i * 37_000;
    const orderId = `${prefix}-${i}`;
    return {
      key: orderId,
      value: formatRecharge(
        {
          orderId,
          cityCode: city,
          chargefee: i % 3 === 0 ? '50' : '20.05',
          bussinessRst: i % 7 === 0 ? '0001' : '0000',
          requestTimeMs: notifyTimeMs - 2_000,
          notifyTimeMs,
        },
        calendar,
      ),
    };
  });
}

const STATS = `query($d: Date, $f: DateTime!, $t: DateTime!) {
  cityRechargeStats(date: $d) { cityCode orders succeeded failed amount }
  rechargePerMinute(from: $f, to: $t) { minuteStart orders succeeded amount }
}`;

/** What the API answers for DAY: every city, and the minutes that have orders. */
async function answer(url: string) {
  const res = await gql(
    url,
    STATS,
    { d: DAY, f: new Date(DAY_START).toISOString(), t: new Date(calendar.endOfDay(DAY)).toISOString() },
    TEST_KEYS.viewer,
  );
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return {
    cities: Object.fromEntries(
      res.data.cityRechargeStats
        .filter((c: any) => c.orders > 0)
        .map((c: any) => [
          c.cityCode,
          { orders: c.orders, succeeded: c.succeeded, failed: c.failed, amount: c.amount },
        ]),
    ),
    minutes: res.data.rechargePerMinute
      .filter((m: any) => m.orders > 0)
      .map((m: any) => ({ minuteStart: m.minuteStart, orders: m.orders, succeeded: m.succeeded, amount: m.amount })),
  };
}

/** The database's rows of DAY, in the shape of {@link answer}. */
async function rowsOf(db: TestDatabase) {
  const daily = await sql<any>(
    db.url,
    // Each key's partition-local rows summed, as the API's reads do.
    'SELECT city_code, SUM(orders) AS orders, SUM(succeeded) AS succeeded, SUM(failed) AS failed, CAST(SUM(amount) AS CHAR) AS amount FROM recharge_city_daily WHERE day = ? GROUP BY city_code HAVING SUM(orders) > 0 ORDER BY city_code',
    [DAY],
  );
  const minutes = await sql<any>(
    db.url,
    'SELECT minute_start, SUM(orders) AS orders, SUM(succeeded) AS succeeded, CAST(SUM(amount) AS CHAR) AS amount FROM recharge_minute WHERE minute_start >= ? AND minute_start < ? GROUP BY minute_start HAVING SUM(orders) > 0 ORDER BY minute_start',
    [new Date(DAY_START), new Date(calendar.endOfDay(DAY))],
  );
  return {
    cities: Object.fromEntries(
      daily.map((r) => [
        r.city_code,
        { orders: Number(r.orders), succeeded: Number(r.succeeded), failed: Number(r.failed), amount: r.amount },
      ]),
    ),
    minutes: minutes.map((r) => ({
      minuteStart: new Date(r.minute_start).toISOString(),
      orders: Number(r.orders),
      succeeded: Number(r.succeeded),
      amount: r.amount,
    })),
  };
}

describe('recharge-metrics serves only what this database holds', () => {
  const runs = new TestRuns();
  const group = randomName('recharge-truth');
  let redis: Redis;
  let dbB: TestDatabase;
  let topicB: TestTopic;
  let serviceB: ServiceProcess;

  const start = (db: TestDatabase, topic: TestTopic, roles = 'worker,api') =>
    runs.start({
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      ROLES: roles,
      // Fixed notify times in the past: a 10-year horizon keeps them countable.
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
      RATE_LIMIT_PER_MINUTE: '100000',
    });
  const committed = async (db: TestDatabase, total: number) => {
    const rows = await sql<{ n: bigint }>(
      db.url,
      'SELECT COALESCE(SUM(next_offset), 0) AS n FROM consumer_offset WHERE group_id = ?',
      [group],
    );
    return Number(rows[0].n) >= total;
  };

  before(() => {
    redis = new Redis(REDIS_URL);
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined when before() failed
    redis?.disconnect();
    await runs.cleanup();
  });

  it("should answer a fresh database B's rows, not the larger counts database A left in Redis", async () => {
    const dbA = await runs.freshDb();
    const topicA = await runs.createTopic('recharge', 3);
    await produce(topicA.topic, [...orders('A', GZ, 400), ...orders('A-sz', SZ, 120)]);
    const serviceA = await start(dbA, topicA);
    await waitFor('database A counted its topic', () => committed(dbA, 520), 120_000);
    // Read through the API until Redis serves database A's numbers (complete keys).
    const a = await answer(serviceA.url);
    assert.deepEqual(a, await rowsOf(dbA));
    assert.equal(a.cities[GZ].orders, 400);
    await serviceA.kill();

    dbB = await runs.freshDb();
    topicB = await runs.createTopic('recharge', 3);
    await produce(topicB.topic, [...orders('B', GZ, 37), ...orders('B-sz', SZ, 5)]);
    serviceB = await start(dbB, topicB);
    await waitFor('database B counted its topic', () => committed(dbB, 42), 120_000);
    const rows = await rowsOf(dbB);
    assert.equal(rows.cities[GZ].orders, 37);
    // Twice: once filled from MySQL, once from Redis.
    assert.deepEqual(await answer(serviceB.url), rows);
    assert.deepEqual(await answer(serviceB.url), rows);
    // Database A's keys are still in Redis, under A's identity: never B's answer.
    const spaceA = await servingSpace(dbA.url, group);
    const spaceB = await servingSpace(dbB.url, group);
    assert.notEqual(spaceA.databaseId, spaceB.databaseId);
    assert.equal(JSON.parse((await redis.hget(cityDailyKey(group, spaceA, DAY), GZ))!).orders, 400);
  });

  it('should never read a value written before rebuildJob, even one arriving after it', async () => {
    const before = await servingSpace(dbB.url, group);
    const rebuilt = await gql(
      serviceB.url,
      'mutation { rebuildJob(job: "recharge-metrics") { lostToRetention } }',
      {},
      TEST_KEYS.ops,
    );
    assert.equal(rebuilt.errors, undefined, JSON.stringify(rebuilt.errors));
    const afterRebuild = await servingSpace(dbB.url, group);
    assert.equal(afterRebuild.generation, before.generation + 1);
    // A post-commit write of a batch committed before the rebuild, landing late, with a huge commit number.
    await redis.hset(
      cityDailyKey(group, before, DAY),
      GZ,
      JSON.stringify({ orders: 9_999, succeeded: 9_999, failed: 0, amount: '1.00', durationMsSum: 0, v: 1e12 }),
      '_complete',
      '1',
    );
    await waitFor(
      'the rebuild to count the topic again',
      async () => (await rowsOf(dbB)).cities[GZ]?.orders === 37 && committed(dbB, 42),
      120_000,
    );
    const rows = await rowsOf(dbB);
    assert.deepEqual(await answer(serviceB.url), rows);
    assert.deepEqual(await answer(serviceB.url), rows);
  });

  it("should answer a restored backup's rows when Redis holds newer values, and abandon that generation", async () => {
    const tables = [
      'recharge_city_daily',
      'recharge_minute',
      'recharge_order',
      'consumer_offset',
      'recharge_serving_state',
    ];
    for (const t of tables) await sql(dbB.url, `CREATE TABLE backup_${t} AS SELECT * FROM ${t}`);
    const backup = await rowsOf(dbB);
    await produce(topicB.topic, orders('B2', GZ, 10, 3_600_000));
    await waitFor('the new orders counted', () => committed(dbB, 52), 120_000);
    const newer = await rowsOf(dbB);
    assert.equal(newer.cities[GZ].orders, 47);
    assert.deepEqual(await answer(serviceB.url), newer);
    assert.deepEqual(await answer(serviceB.url), newer, 'served from Redis, which now holds the newer values');
    const space = await servingSpace(dbB.url, group);
    await serviceB.kill();

    // The restore: every table back to the backup, so the database's commit number is below Redis's values'.
    for (const t of tables) {
      await sql(dbB.url, `DELETE FROM ${t}`);
      await sql(dbB.url, `INSERT INTO ${t} SELECT * FROM backup_${t}`);
    }
    const [{ seq }] = await sql<{ seq: bigint }>(dbB.url, 'SELECT seq FROM recharge_serving_state WHERE group_id = ?', [
      group,
    ]);
    const stored = JSON.parse((await redis.hget(cityDailyKey(group, space, DAY), GZ))!);
    assert.equal(stored.orders, 47);
    assert.ok(
      stored.v > Number(seq),
      `the Redis value (v ${stored.v}) is newer than the restored database (seq ${seq})`,
    );

    const api = await start(dbB, topicB, 'api');
    assert.deepEqual(await answer(api.url), backup);
    assert.equal(backup.cities[GZ].orders, 37);
    assert.equal(
      (await servingSpace(dbB.url, group)).generation,
      space.generation + 1,
      'the generation Redis was ahead in is abandoned',
    );
    assert.deepEqual(await answer(api.url), backup);

    // The worker counts the orders after the backup again, and the answers follow the database.
    await start(dbB, topicB, 'worker');
    await waitFor(
      'the orders after the backup counted again',
      async () => (await rowsOf(dbB)).cities[GZ]?.orders === 47,
      120_000,
    );
    await waitFor(
      'the answer to follow the database',
      async () => {
        const [got, rows] = await Promise.all([answer(api.url), rowsOf(dbB)]);
        return JSON.stringify(got) === JSON.stringify(rows);
      },
      20_000,
    );
    assert.deepEqual(await answer(api.url), await rowsOf(dbB));
  });
});
