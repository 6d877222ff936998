// Redis is only the serving mirror of recharge-metrics: with it stopped the
// queries still answer correctly from MySQL, and once it is back (empty) the
// keys are refilled. Runs its OWN redis-server on a free port (never the
// shared one), kills it and starts it again on the same port.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { cityDailyKey, minuteKey } from '../../src/jobs/recharge-metrics/recharge-serving-cache.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { gql } from '../helpers/graphql-client.js';
import { freePort, startRedis, stopRedis } from '../helpers/own-redis.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { withoutVersion } from '../../src/jobs/recharge-metrics/testing.js';
import { servingSpace } from '../../src/jobs/recharge-metrics/testing.js';
import { createTestDatabase, createTestTopic, produce, randomName, sql, waitFor } from '../helpers/services.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
/** 2026-03-01 10:00:00 in Asia/Shanghai. */
const T = Date.UTC(2026, 2, 1, 2);
const DAY = '2026-03-01';
const iso = (ms: number) => new Date(ms).toISOString();

const order = (
  orderId: string,
  cityCode: string,
  ok: boolean,
  chargefee: string,
  durationMs: number,
  notifyMs: number,
) => ({
  key: orderId,
  value: formatRecharge(
    {
      orderId,
      cityCode,
      chargefee,
      bussinessRst: ok ? '0000' : '0001',
      requestTimeMs: notifyMs - durationMs,
      notifyTimeMs: notifyMs,
    },
    calendar,
  ),
});

const BATCH_A = [order('R1', '440100', true, '100', 10_000, T), order('R2', '440300', false, '50', 20_000, T + 1_000)];
const BATCH_B = [
  order('R3', '440100', true, '20.50', 30_000, T + 60_000),
  order('R4', '440300', true, '30', 1_000, T + 61_000),
  order('R1', '440100', true, '100', 10_000, T),
];
const BATCH_C = [order('R5', '440400', true, '10', 2_000, T + 120_000)];

describe('recharge-metrics with Redis stopped and started again', () => {
  let port: number;
  let redisServer: ChildProcess;
  let redis: Redis;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let service: ServiceProcess;
  const group = randomName('recharge-metrics');
  let space: Awaited<ReturnType<typeof servingSpace>>;

  const query = (q: string, vars: Record<string, unknown> = {}) => gql(api(), q, vars, TEST_KEYS.viewer);
  const api = () => service.url;
  const committed = async (total: number) => {
    const rows = await sql<{ n: bigint }>(
      db.url,
      'SELECT COALESCE(SUM(next_offset), 0) AS n FROM consumer_offset WHERE group_id = ?',
      [group],
    );
    return Number(rows[0].n) >= total;
  };
  /** Every query of the job for the day, in one request. */
  const ALL = `query($d: Date, $f: DateTime!, $t: DateTime!) {
    cityRechargeStats(date: $d) { cityCode orders succeeded failed amount avgDurationMs }
    topCities(date: $d) { cityCode orders }
    rechargePerMinute(from: $f, to: $t) { minuteStart orders succeeded amount }
    rechargeSummary(date: $d) { orders succeeded failed amount avgDurationMs }
  }`;
  const readAll = async () => {
    const res = await query(ALL, { d: DAY, f: iso(T), t: iso(T + 180_000) });
    assert.deepEqual(res.errors, undefined);
    return {
      ...res.data,
      cityRechargeStats: res.data.cityRechargeStats.filter((c: any) => c.orders > 0),
    };
  };
  const AFTER_B = {
    cityRechargeStats: [
      { cityCode: '440100', orders: 2, succeeded: 2, failed: 0, amount: '120.50', avgDurationMs: 20_000 },
      { cityCode: '440300', orders: 2, succeeded: 1, failed: 1, amount: '30.00', avgDurationMs: 10_500 },
    ],
    topCities: [
      { cityCode: '440100', orders: 2 },
      { cityCode: '440300', orders: 2 },
    ],
    rechargePerMinute: [
      { minuteStart: iso(T), orders: 2, succeeded: 1, amount: '100.00' },
      { minuteStart: iso(T + 60_000), orders: 2, succeeded: 2, amount: '50.50' },
      { minuteStart: iso(T + 120_000), orders: 0, succeeded: 0, amount: '0.00' },
    ],
    rechargeSummary: { orders: 4, succeeded: 3, failed: 1, amount: '150.50', avgDurationMs: 15_250 },
  };

  before(async () => {
    port = await freePort();
    redisServer = await startRedis(port);
    redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined); // a failed command rejects; the listener keeps ioredis from also throwing it
    db = await createTestDatabase();
    topic = await createTestTopic('recharge');
    service = await startServiceProcess({
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      ROLES: 'worker,api',
      // Fixed notify times in the past: a 10-year horizon keeps them countable.
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
    });
    space = await servingSpace(db.url, group);
    await produce(topic.topic, BATCH_A);
    await waitFor('batch A committed', () => committed(BATCH_A.length));
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    redis?.disconnect();
    await service?.kill();
    if (redisServer) await stopRedis(redisServer);
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should mirror the committed values in its Redis while it runs', async () => {
    const h = await waitFor("the worker's write", async () => {
      const v = await redis.hgetall(cityDailyKey(group, space, DAY));
      return v['440300'] ? v : null;
    });
    assert.deepEqual(withoutVersion(h['440300']), {
      orders: 1,
      succeeded: 0,
      failed: 1,
      amount: '0.00',
      durationMsSum: 20_000,
    });
  });

  it('should answer every query correctly from MySQL while Redis is stopped, and keep consuming', async () => {
    await stopRedis(redisServer);
    await produce(topic.topic, BATCH_B);
    await waitFor('batch B committed with Redis down', () => committed(BATCH_A.length + BATCH_B.length));
    await waitFor(
      'the worker to notice',
      () => service.logs.some((l) => String(l.msg).startsWith('redis write failed')),
      20_000,
    );
    assert.deepEqual(await readAll(), AFTER_B);
    assert.deepEqual(await readAll(), AFTER_B);
  });

  it('should refill the keys once Redis is back, empty, on the same port, and mirror new commits again', async () => {
    redisServer = await startRedis(port);
    assert.equal(await redis.exists(cityDailyKey(group, space, DAY)), 0, 'the restarted Redis should start empty');
    // The next reads find no complete key, answer from MySQL and refill.
    const refilled = async () => {
      assert.deepEqual(await readAll(), AFTER_B);
      const daily = await redis.hgetall(cityDailyKey(group, space, DAY));
      const minutes = await redis.hgetall(minuteKey(group, space, DAY));
      return daily._complete && minutes._complete ? { daily, minutes } : null;
    };
    const { daily, minutes } = await waitFor('the keys to be refilled', refilled, 30_000, 500);
    assert.deepEqual(withoutVersion(daily['440100']), {
      orders: 2,
      succeeded: 2,
      failed: 0,
      amount: '120.50',
      durationMsSum: 40_000,
    });
    assert.deepEqual(withoutVersion(daily['440300']), {
      orders: 2,
      succeeded: 1,
      failed: 1,
      amount: '30.00',
      durationMsSum: 21_000,
    });
    assert.deepEqual(withoutVersion(minutes[iso(T + 60_000)]), { orders: 2, succeeded: 2, amount: '50.50' });
    assert.ok((await redis.ttl(cityDailyKey(group, space, DAY))) > 0);

    await produce(topic.topic, BATCH_C);
    const h = await waitFor('batch C in Redis', async () => {
      const v = await redis.hgetall(cityDailyKey(group, space, DAY));
      return v['440400'] ? v : null;
    });
    assert.deepEqual(withoutVersion(h['440400']), {
      orders: 1,
      succeeded: 1,
      failed: 0,
      amount: '10.00',
      durationMsSum: 2_000,
    });
    // An API process may answer from a read up to CITY_DAILY_TTL_MS (250 ms) old: batch C can be in Redis sooner.
    const summary = await waitFor(
      'batch C in the summary',
      async () => {
        const res = await query('query($d: Date) { rechargeSummary(date: $d) { orders amount } }', { d: DAY });
        return res.data.rechargeSummary.orders === 5 ? res.data.rechargeSummary : null;
      },
      5_000,
      50,
    );
    assert.deepEqual(summary, { orders: 5, amount: '160.50' });
  });
});
