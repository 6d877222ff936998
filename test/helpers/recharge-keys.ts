import assert from 'node:assert/strict';
import type { KeySpace } from '../../src/jobs/recharge-metrics/recharge-serving-cache.js';
import { sql } from './services.js';

/** The database identity and the group's current generation: what names a test's recharge Redis keys. */
export async function servingSpace(dbUrl: string, group: string): Promise<KeySpace> {
  const [identity] = await sql<{ uuid: string }>(dbUrl, 'SELECT uuid FROM database_identity WHERE id = 1');
  const state = (
    await sql<{ generation: number | bigint }>(
      dbUrl,
      'SELECT generation FROM recharge_serving_state WHERE group_id = ?',
      [group],
    )
  ).at(0);
  assert.ok(identity, 'database_identity has its row');
  return { databaseId: identity.uuid, generation: state ? Number(state.generation) : 1 };
}

/** A stored bucket's JSON without its commit number `v`, after checking that `v` is one (a whole number >= 1). */
export function withoutVersion(json: string): Record<string, unknown> {
  const { v, ...rest } = JSON.parse(json) as { v: unknown } & Record<string, unknown>;
  assert.ok(Number.isInteger(v) && (v as number) >= 1, `bucket ${json} carries its commit number v`);
  return rest;
}
