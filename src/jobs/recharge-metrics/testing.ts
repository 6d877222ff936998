// What tests and benchmarks use of this job: its feed for runs with faults,
// its result tables read whole (the module's `snapshotQueries`) and the names
// of its Redis keys.
import assert from 'node:assert/strict';
import type { JobFeed } from '../../sample/job-feed.js';
import { createDb } from '../../store/prisma-client.js';
import { generateRecharges } from './recharge-generator.js';
import type { KeySpace } from './recharge-serving-cache.js';

/**
 * Both aggregate tables (each key's partition-local rows summed, the answers
 * the API gives) and the seen orders (as a count and a checksum), as text.
 */
export const RECHARGE_METRICS_SNAPSHOT = {
  daily:
    "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, city_code, CAST(SUM(orders) AS SIGNED) AS orders, CAST(SUM(succeeded) AS SIGNED) AS succeeded, CAST(SUM(failed) AS SIGNED) AS failed, CAST(SUM(amount) AS CHAR) AS amount, CAST(SUM(duration_ms_sum) AS SIGNED) AS duration_ms_sum FROM recharge_city_daily GROUP BY day, city_code ORDER BY day, city_code",
  minutes:
    'SELECT minute_start, CAST(SUM(orders) AS SIGNED) AS orders, CAST(SUM(succeeded) AS SIGNED) AS succeeded, CAST(SUM(amount) AS CHAR) AS amount FROM recharge_minute GROUP BY minute_start ORDER BY minute_start',
  orders: 'SELECT COUNT(*) AS n, SUM(CRC32(order_id)) AS checksum FROM recharge_order',
} as const;

/** `count` recharge records (3% duplicates, across local midnight), round-robin over the partitions so that duplicates race. */
export function rechargeMetricsJob(count: number, seed = 4343): JobFeed {
  const generated = [
    ...generateRecharges({
      seed,
      count,
      startTimeMs: Date.UTC(2025, 11, 31, 15, 50),
      eventsPerSecond: 20,
      duplicateShare: 0.03,
    }),
  ];
  return {
    name: 'recharge-metrics',
    topicVar: 'RECHARGE_TOPIC',
    groupVar: 'RECHARGE_GROUP',
    windowed: false,
    feed: generated.map((r, i) => ({ key: r.key, value: r.value, partition: i % 3 })),
  };
}

/** The database identity and the group's current generation: what names a test's recharge Redis keys. */
export async function servingSpace(dbUrl: string, group: string): Promise<KeySpace> {
  const db = createDb(dbUrl);
  try {
    const identity = await db.databaseIdentity.findUnique({ where: { id: 1 } });
    const state = await db.rechargeServingState.findUnique({ where: { groupId: group } });
    assert.ok(identity, 'database_identity has its row');
    return { databaseId: identity.uuid, generation: state ? state.generation : 1 };
  } finally {
    await db.$disconnect();
  }
}

/** A stored bucket's JSON without its commit number `v`, after checking that `v` is one (a whole number >= 1). */
export function withoutVersion(json: string): Record<string, unknown> {
  const { v, ...rest } = JSON.parse(json) as { v: unknown } & Record<string, unknown>;
  assert.ok(Number.isInteger(v) && (v as number) >= 1, `bucket ${json} carries its commit number v`);
  return rest;
}
