// CRM status mutations against two real API processes sharing one database:
// bulk updates with per-item results, optimistic concurrency (of two
// concurrent conflicting updates exactly one wins), idempotent retries of a
// clientMutationId across processes, and the audit history paged through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gql } from '../helpers/graphql-client.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { createTestDatabase, randomName, sql } from '../helpers/services.js';
import { keyId } from '../../src/store/key-id.js';

const BULK = `mutation($updates: [CallbackStatusUpdate!]!, $id: String) {
  setCallbackStatuses(updates: $updates, clientMutationId: $id) {
    clientMutationId replayed
    results { uid user { uid callbackStatus detectionsSinceCallback } error { code currentStatus } }
  }
}`;
const SINGLE = `mutation($uid: ID!, $status: CallbackStatus!, $expected: CallbackStatus, $note: String) {
  setCallbackStatus(uid: $uid, status: $status, expectedStatus: $expected, note: $note) { uid callbackStatus }
}`;
const HISTORY = `query($uid: ID!, $first: Int, $after: String) {
  unpaidUser(uid: $uid) {
    callbackHistory(first: $first, after: $after) {
      edges { cursor node { from to by { role keyId } at note } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

describe('CRM status mutations', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let apiA: ServiceProcess;
  let apiB: ServiceProcess;

  /** Users u0..u(n-1) with the given prefix, detected once, never called back. */
  async function seedUsers(prefix: string, n: number): Promise<string[]> {
    const uids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const values = uids
      .map(
        () =>
          `(?, '18700000000', NULL, 3, '2026-01-01 00:01:00', '2026-01-01 00:01:00', '2026-01-01 00:00:00', '2026-01-01 00:01:00', 1)`,
      )
      .join(', ');
    await sql(
      db.url,
      `INSERT INTO unpayment_record (uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end, detections_since_callback) VALUES ${values}`,
      uids,
    );
    return uids;
  }

  before(async () => {
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      ROLES: 'api',
      JOBS: 'abnormal-orders',
      ABNORMAL_ORDERS_GROUP: randomName('abnormal-orders'),
      USER_BEHAVIOR_TOPIC: randomName('user-behavior'),
    };
    [apiA, apiB] = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
  });

  after(async () => {
    await Promise.all([apiA.kill(), apiB.kill()]);
    await db.drop();
  });

  it('should answer a result per item: found ones applied, unknown ones NOT_FOUND, stale ones CONFLICT', async () => {
    const [a, b, c] = await seedUsers('bulk', 3);
    await gql(apiA.url, SINGLE, { uid: c, status: 'CONTACTED' }, TEST_KEYS.crm);
    const res = await gql(
      apiA.url,
      BULK,
      {
        updates: [
          { uid: a, status: 'CONTACTED', note: 'left a voicemail' },
          { uid: 'no-such-user', status: 'CONVERTED' },
          { uid: c, status: 'DECLINED', expectedStatus: 'PENDING' },
          { uid: b, status: 'UNREACHABLE', expectedStatus: 'PENDING' },
        ],
      },
      TEST_KEYS.crm,
    );
    const results = res.data.setCallbackStatuses.results;
    assert.equal(results.length, 4);
    assert.deepEqual(results[0].user, { uid: a, callbackStatus: 'CONTACTED', detectionsSinceCallback: 0 });
    assert.equal(results[0].error, null);
    assert.equal(results[1].user, null);
    assert.deepEqual(results[1].error, { code: 'NOT_FOUND', currentStatus: null });
    assert.equal(results[2].user, null);
    assert.deepEqual(results[2].error, { code: 'CONFLICT', currentStatus: 'CONTACTED' });
    assert.equal(results[3].user.callbackStatus, 'UNREACHABLE');
    // The refused items are also errors at their paths, with the same codes.
    const byPath = new Map(res.errors?.map((e: any) => [e.path.join('.'), e.extensions]));
    assert.equal(byPath.get('setCallbackStatuses.results.1.user')?.code, 'NOT_FOUND');
    const conflict = byPath.get('setCallbackStatuses.results.2.user');
    assert.equal(conflict?.code, 'CONFLICT');
    assert.equal(conflict?.currentStatus, 'CONTACTED');
    assert.equal(res.errors?.length, 2);
    // The database holds what the results say; the conflicting item changed nothing.
    const rows = await sql<{ uid: string; callback_status: number | bigint }>(
      db.url,
      'SELECT uid, callback_status FROM unpayment_record WHERE uid IN (?, ?, ?) ORDER BY uid',
      [a, b, c],
    );
    assert.deepEqual(
      rows.map((r) => [r.uid, Number(r.callback_status)]),
      [
        [a, 1],
        [b, 3],
        [c, 1],
      ],
    );
    // The single mutation takes expectedStatus too.
    const refused = await gql(apiB.url, SINGLE, { uid: c, status: 'CONVERTED', expected: 'PENDING' }, TEST_KEYS.crm);
    const ext = refused.errors?.[0].extensions;
    assert.equal(ext?.code, 'CONFLICT');
    assert.equal(ext.currentStatus, 'CONTACTED');
  });

  it('should refuse more than 500 updates, a note over 500 characters, and a viewer', async () => {
    const many = Array.from({ length: 501 }, (_, i) => ({ uid: `x${i}`, status: 'CONTACTED' }));
    assert.equal(
      (await gql(apiA.url, BULK, { updates: many }, TEST_KEYS.crm)).errors?.[0]?.extensions?.code,
      'BAD_USER_INPUT',
    );
    const long = await gql(
      apiA.url,
      BULK,
      { updates: [{ uid: 'x', status: 'CONTACTED', note: 'n'.repeat(501) }] },
      TEST_KEYS.crm,
    );
    assert.equal(long.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const viewer = await gql(apiA.url, BULK, { updates: [{ uid: 'x', status: 'CONTACTED' }] }, TEST_KEYS.viewer);
    assert.equal(viewer.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    // 500 updates are one operation, priced by their number: within the default cost limit.
    const ok = await gql(apiA.url, BULK, { updates: many.slice(0, 500) }, TEST_KEYS.crm);
    assert.equal(ok.data?.setCallbackStatuses.results.length, 500);
  });

  it('should let exactly one of two concurrent conflicting updates win', async () => {
    const uids = await seedUsers('race', 20);
    for (const uid of uids) {
      const [x, y] = await Promise.all([
        gql(apiA.url, BULK, { updates: [{ uid, status: 'CONVERTED', expectedStatus: 'PENDING' }] }, TEST_KEYS.crm),
        gql(apiB.url, BULK, { updates: [{ uid, status: 'DECLINED', expectedStatus: 'PENDING' }] }, TEST_KEYS.ops),
      ]);
      const rx = x.data.setCallbackStatuses.results[0];
      const ry = y.data.setCallbackStatuses.results[0];
      const winners = [rx, ry].filter((r) => r.user !== null);
      assert.equal(winners.length, 1, `exactly one winner for ${uid}: ${JSON.stringify([rx, ry])}`);
      const loser = rx.user === null ? rx : ry;
      assert.equal(loser.error.code, 'CONFLICT');
      assert.equal(loser.error.currentStatus, winners[0].user.callbackStatus);
    }
    // One audit row per user: the loser wrote nothing.
    const audit = await sql<{ n: bigint }>(
      db.url,
      `SELECT COUNT(*) AS n FROM callback_status_audit WHERE uid LIKE 'race%'`,
    );
    assert.equal(Number(audit[0].n), 20);
  });

  it('should run two concurrent bulk calls over the same users in opposite orders without a deadlock, each user won once', async () => {
    const uids = await seedUsers('both', 100);
    const call = (url: string, order: string[], status: string, key: string) =>
      gql(url, BULK, { updates: order.map((uid) => ({ uid, status, expectedStatus: 'PENDING' })) }, key);
    const [x, y] = await Promise.all([
      call(apiA.url, uids, 'CONTACTED', TEST_KEYS.crm),
      call(apiB.url, [...uids].reverse(), 'UNREACHABLE', TEST_KEYS.ops),
    ]);
    assert.ok(x.data && y.data, JSON.stringify([x.errors, y.errors]));
    const won = new Map<string, number>();
    for (const r of [...x.data.setCallbackStatuses.results, ...y.data.setCallbackStatuses.results])
      if (r.user) won.set(r.uid, (won.get(r.uid) ?? 0) + 1);
    assert.equal(won.size, 100);
    assert.ok([...won.values()].every((n) => n === 1));
  });

  it('should answer a retried clientMutationId with the first result and change nothing, through another process', async () => {
    const [u, v] = await seedUsers('idem', 2);
    const id = randomName('sync');
    const first = await gql(
      apiA.url,
      BULK,
      {
        updates: [
          { uid: u, status: 'CONTACTED' },
          { uid: v, status: 'UNREACHABLE', expectedStatus: 'CONVERTED' },
        ],
        id,
      },
      TEST_KEYS.crm,
    );
    assert.equal(first.data.setCallbackStatuses.replayed, false);
    // Someone else changes u meanwhile; the retry must not overwrite it.
    await gql(apiA.url, SINGLE, { uid: u, status: 'DECLINED' }, TEST_KEYS.ops);
    const auditBefore = await sql(db.url, 'SELECT id FROM callback_status_audit WHERE uid IN (?, ?)', [u, v]);
    const retry = await gql(
      apiB.url,
      BULK,
      {
        updates: [
          { uid: u, status: 'CONTACTED' },
          { uid: v, status: 'UNREACHABLE', expectedStatus: 'CONVERTED' },
        ],
        id,
      },
      TEST_KEYS.crm,
    );
    assert.equal(retry.data.setCallbackStatuses.replayed, true);
    assert.deepEqual(retry.data.setCallbackStatuses.results, first.data.setCallbackStatuses.results);
    assert.equal(retry.errors?.[0]?.extensions?.code, 'CONFLICT', 'the replayed refusal is an error again');
    const [row] = await sql<{ callback_status: number | bigint }>(
      db.url,
      'SELECT callback_status FROM unpayment_record WHERE uid = ?',
      [u],
    );
    assert.equal(Number(row.callback_status), 4, 'the retry did not write CONTACTED again');
    const auditAfter = await sql(db.url, 'SELECT id FROM callback_status_audit WHERE uid IN (?, ?)', [u, v]);
    assert.equal(auditAfter.length, auditBefore.length);
    // Concurrent retries of a new id on both processes: one runs, the other answers its result.
    const id2 = randomName('sync');
    const [p, q] = await Promise.all([
      gql(apiA.url, BULK, { updates: [{ uid: v, status: 'CONVERTED' }], id: id2 }, TEST_KEYS.crm),
      gql(apiB.url, BULK, { updates: [{ uid: v, status: 'CONVERTED' }], id: id2 }, TEST_KEYS.crm),
    ]);
    assert.deepEqual([p.data.setCallbackStatuses.replayed, q.data.setCallbackStatuses.replayed].sort(), [false, true]);
    const vAudit = await sql(db.url, 'SELECT id FROM callback_status_audit WHERE uid = ? AND to_status = 2', [v]);
    assert.equal(vAudit.length, 1);
    // Another key's same id is another call; the ids are kept per key id, never the key.
    const other = await gql(apiA.url, BULK, { updates: [{ uid: v, status: 'CONTACTED' }], id: id2 }, TEST_KEYS.ops);
    assert.equal(other.data.setCallbackStatuses.replayed, false);
    const stored = await sql<{ key_id: string }>(
      db.url,
      'SELECT key_id FROM client_mutation WHERE client_mutation_id = ?',
      [id2],
    );
    assert.deepEqual(stored.map((r) => r.key_id).sort(), [keyId(TEST_KEYS.crm), keyId(TEST_KEYS.ops)].sort());
  });

  it('should page through the history newest first with notes and the key id, never the key', async () => {
    const [h] = await seedUsers('hist', 1);
    const statuses = ['CONTACTED', 'UNREACHABLE', 'CONTACTED', 'CONVERTED', 'DECLINED'];
    for (const [i, status] of statuses.entries())
      await gql(
        i % 2 ? apiB.url : apiA.url,
        SINGLE,
        { uid: h, status, note: `call ${i}` },
        i % 2 ? TEST_KEYS.ops : TEST_KEYS.crm,
      );
    const seen: any[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const res: any = await gql(apiA.url, HISTORY, { uid: h, first: 2, after }, TEST_KEYS.viewer);
      const conn = res.data.unpaidUser.callbackHistory;
      seen.push(...conn.edges.map((e: any) => e.node));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    assert.deepEqual(
      seen.map((n) => [n.from, n.to, n.note, n.by.role]),
      [
        ['CONVERTED', 'DECLINED', 'call 4', 'crm'],
        ['CONTACTED', 'CONVERTED', 'call 3', 'ops'],
        ['UNREACHABLE', 'CONTACTED', 'call 2', 'crm'],
        ['CONTACTED', 'UNREACHABLE', 'call 1', 'ops'],
        ['PENDING', 'CONTACTED', 'call 0', 'crm'],
      ],
    );
    assert.equal(seen[0].by.keyId, keyId(TEST_KEYS.crm));
    assert.ok(
      seen.every((n) => !JSON.stringify(n).includes('test-')),
      'no key in the history',
    );
    const bad = await gql(apiA.url, HISTORY, { uid: h, first: 2, after: 'nonsense' }, TEST_KEYS.viewer);
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    // Keys, notes and phone numbers never reach the logs.
    const logs = JSON.stringify([...apiA.logs, ...apiB.logs]);
    for (const secret of [TEST_KEYS.crm, TEST_KEYS.ops, 'call 3', '18700000000'])
      assert.ok(!logs.includes(secret), secret);
  });
});
