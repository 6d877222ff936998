// The pull change feed of CRM integrations (`unpaidUserChanges`) against a real
// worker, Kafka, MariaDB and this test's own redis-server (never the shared
// one): a sync loop reads every detection and every status change exactly
// once while detections and updates run, through an API process killed with
// SIGKILL and through Redis stopped; a user detected again after DECLINED is
// listed by `unpaidUsers(redetectedAfter:)` and marked in the feed.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { gql } from '../helpers/graphql-client.js';
import { freePort, startRedis, stopRedis } from '../helpers/own-redis.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { createTestDatabase, createTestTopic, produce, randomName, sql, waitFor } from '../helpers/services.js';

// Window starts are multiples of 30 s; T is one of them (2026-01-01T00:00:00Z).
const T = Date.UTC(2026, 0, 1);
const PARTITIONS = 3;
const line = (uid: string, atMs: number, eventKey = 'enterOrderPage') =>
  formatUserBehavior({ uid, phone: '18700000000', eventKey, eventTimeSec: Math.floor(atMs / 1000) });

const FEED = `query($after: String, $first: Int) {
  unpaidUserChanges(after: $after, first: $first) {
    edges { cursor node {
      kind uid committedAt
      detection { windowEnd redetected callbackStatus }
      statusChange { from to note by { role keyId } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const BULK = `mutation($updates: [CallbackStatusUpdate!]!, $id: String) {
  setCallbackStatuses(updates: $updates, clientMutationId: $id) { results { uid user { callbackStatus } error { code } } }
}`;

/**
 * Round r: `uids` with 3 enterOrderPage events each at r*120 s + 5..7 s (each
 * detected in the two windows ending at r*120 + 30 s and + 60 s), then a record
 * on every partition that moves its watermark past both windows.
 * @returns the expected detections as `D:uid@windowEnd`.
 */
async function round(topic: string, r: number, uids: readonly string[]): Promise<string[]> {
  const base = T + r * 120_000;
  const messages: { key: string; value: string; partition: number }[] = [];
  const expected: string[] = [];
  uids.forEach((uid, u) => {
    for (let k = 0; k < 3; k++)
      messages.push({ key: uid, value: line(uid, base + 5_000 + k * 1_000), partition: u % PARTITIONS });
    expected.push(
      `D:${uid}@${new Date(base + 30_000).toISOString()}`,
      `D:${uid}@${new Date(base + 60_000).toISOString()}`,
    );
  });
  for (let p = 0; p < PARTITIONS; p++)
    messages.push({ key: 'flush', value: line('flush', base + 100_000, 'startApp'), partition: p });
  await produce(topic, messages);
  return expected;
}

/** A CRM's sync loop: pulls pages after its cursor from whichever API process answers, records every change. */
class SyncLoop {
  readonly seen: string[] = [];
  readonly nodes: any[] = [];
  readonly failures: string[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    private cursor: string,
    private readonly apis: () => ServiceProcess[],
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    let turn = 0;
    while (this.running) {
      const live = this.apis();
      const api = live[turn % live.length];
      try {
        const res = await gql(api.url, FEED, { after: this.cursor, first: 7 }, TEST_KEYS.crm);
        if (!res.data) throw new Error(JSON.stringify(res.errors));
        const conn = res.data.unpaidUserChanges;
        for (const { node } of conn.edges) {
          this.nodes.push(node);
          this.seen.push(
            node.kind === 'DETECTION'
              ? `D:${node.uid}@${node.detection.windowEnd}`
              : `S:${node.uid}:${node.statusChange.to}:${node.statusChange.note}`,
          );
        }
        this.cursor = conn.pageInfo.endCursor;
        if (conn.pageInfo.hasNextPage) continue;
      } catch (err) {
        // A process gone away: the next one answers from the same cursor.
        this.failures.push(String(err));
        turn++;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  has(keys: readonly string[]): boolean {
    const got = new Set(this.seen);
    return keys.every((k) => got.has(k));
  }

  async stop(): Promise<string> {
    this.running = false;
    await this.done;
    return this.cursor;
  }
}

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('CRM pull change feed', () => {
  let redisPort: number;
  let redisServer: ChildProcess;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let worker: ServiceProcess;
  let apis: ServiceProcess[] = [];
  let env: Record<string, string>;
  let nextRound = 1;

  /** The cursor after every change committed so far (pages read through with `after` from none). */
  async function headCursor(): Promise<string> {
    let cursor: string | null = null;
    for (;;) {
      const res: any = await gql(apis[0].url, FEED, { after: cursor, first: 200 }, TEST_KEYS.crm);
      cursor = res.data.unpaidUserChanges.pageInfo.endCursor as string;
      if (!res.data.unpaidUserChanges.pageInfo.hasNextPage) return cursor;
    }
  }

  /** Sets statuses through `api`; @returns the feed keys of the applied ones. */
  async function setStatuses(api: ServiceProcess, updates: { uid: string; status: string; note: string }[]) {
    const res = await gql(api.url, BULK, { updates, id: randomName('sync') }, TEST_KEYS.crm);
    assert.ok(res.data, JSON.stringify(res.errors));
    return updates.flatMap((u, i) =>
      res.data.setCallbackStatuses.results[i].user ? [`S:${u.uid}:${u.status}:${u.note}`] : [],
    );
  }

  before(async () => {
    redisPort = await freePort();
    redisServer = await startRedis(redisPort);
    db = await createTestDatabase();
    topic = await createTestTopic('user-behavior', PARTITIONS);
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      USER_BEHAVIOR_TOPIC: topic.topic,
      ABNORMAL_ORDERS_GROUP: randomName('abnormal-orders'),
      JOBS: 'abnormal-orders',
      // Windows close through event time here, never through idleness.
      IDLE_TIMEOUT_MS: '600000',
    };
    [worker, ...apis] = await Promise.all([
      startServiceProcess({ ...env, ROLES: 'worker' }),
      startServiceProcess({ ...env, ROLES: 'api' }),
      startServiceProcess({ ...env, ROLES: 'api' }),
    ]);
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    await Promise.all([worker, ...apis].map((p) => p?.kill()));
    if (redisServer) await stopRedis(redisServer);
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should list a user detected again after DECLINED, and mark the detection in the feed', async () => {
    const start = await headCursor();
    const users = ['back0', 'stay1', 'never2'];
    const first = await round(topic.topic, nextRound++, users);
    const loop = new SyncLoop(start, () => apis);
    try {
      await waitFor('the first detections', () => loop.has(first), 60_000);
      await setStatuses(apis[1], [
        { uid: 'back0', status: 'DECLINED', note: 'not interested' },
        { uid: 'stay1', status: 'CONVERTED', note: 'paid' },
      ]);
      const again = await round(topic.topic, nextRound++, ['back0']);
      await waitFor('the re-detection', () => loop.has(again), 60_000);
    } finally {
      await loop.stop();
    }
    const q = `{ unpaidUsers(redetectedAfter: [CONVERTED, DECLINED]) { totalCount edges { node { uid callbackStatus detectionsSinceCallback } } } }`;
    const res = await waitFor('the filter', async () => {
      const r = await gql(apis[0].url, q, {}, TEST_KEYS.viewer);
      return r.data?.unpaidUsers.totalCount === 1 ? r : null;
    });
    assert.deepEqual(res.data.unpaidUsers.edges, [
      { node: { uid: 'back0', callbackStatus: 'DECLINED', detectionsSinceCallback: 2 } },
    ]);
    const marked = loop.nodes.filter((n) => n.kind === 'DETECTION' && n.detection.redetected);
    assert.deepEqual(
      marked.map((n) => [n.uid, n.detection.callbackStatus]),
      [
        ['back0', 'DECLINED'],
        ['back0', 'DECLINED'],
      ],
    );
    assert.ok(
      loop.nodes.filter((n) => n.kind === 'DETECTION' && n.uid !== 'back0').every((n) => !n.detection.redetected),
    );
    // A status change starts the count again; the user leaves the filter.
    await setStatuses(apis[0], [{ uid: 'back0', status: 'CONTACTED', note: 'called again' }]);
    const [row] = await sql<{ d: number | bigint }>(
      db.url,
      "SELECT detections_since_callback AS d FROM unpayment_record WHERE uid = 'back0'",
    );
    assert.equal(Number(row.d), 0);
  });

  async function syncThrough(fault: (loop: SyncLoop) => Promise<void>): Promise<void> {
    const start = await headCursor();
    const loop = new SyncLoop(start, () => apis);
    const expected: string[] = [];
    let faulted: Promise<void> = Promise.resolve();
    try {
      for (let r = 0; r < 4; r++) {
        const uids = Array.from({ length: 6 }, (_, u) => `s${nextRound}u${u}`);
        expected.push(...(await round(topic.topic, nextRound++, uids)));
        // The fault runs while the next rounds are detected and updated.
        if (r === 1) faulted = fault(loop);
        // Status changes of users detected so far, while the next round is detected.
        await waitFor(
          `the detection of ${uids[0]}`,
          () => loop.seen.some((k) => k.startsWith(`D:${uids[0]}@`)),
          60_000,
        );
        expected.push(
          ...(await setStatuses(apis.at(-1)!, [
            { uid: uids[0], status: 'CONTACTED', note: `round ${r} a` },
            { uid: uids[1], status: 'UNREACHABLE', note: `round ${r} b` },
            { uid: 'nobody', status: 'CONTACTED', note: 'not found' },
          ])),
        );
      }
      await faulted;
      await waitFor('every change in the feed', () => loop.has(expected), 90_000);
      // One more pass after the last change: nothing comes twice or from elsewhere.
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      await loop.stop();
    }
    assert.equal(expected.filter((k) => k.startsWith('S:')).length, 8);
    assert.deepEqual(sorted(loop.seen), sorted(expected), 'every detection and status change exactly once');
  }

  it('should read every change exactly once through an API process killed with SIGKILL', async () => {
    await syncThrough(async (loop) => {
      await waitFor('some changes read', () => loop.seen.length > 0, 60_000);
      const victim = apis[0];
      await victim.kill('SIGKILL');
      apis = apis.slice(1);
      apis.push(await startServiceProcess({ ...env, ROLES: 'api' }));
    });
  });

  it('should read every change exactly once with Redis stopped midway', async () => {
    await syncThrough(async (loop) => {
      await stopRedis(redisServer);
      const before = loop.seen.length;
      await new Promise((r) => setTimeout(r, 10_000));
      assert.ok(loop.seen.length > before, 'changes were read while Redis was down');
      redisServer = await startRedis(redisPort);
    });
  });

  it('should refuse a cursor of another feed, and a cursor past retention with CURSOR_EXPIRED', async () => {
    const bad = await gql(apis[0].url, FEED, { after: 'bm90IGEgY3Vyc29y' }, TEST_KEYS.crm);
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const cursor = await headCursor();
    // Pruning went past this cursor on partition 0 (its mark is raised before rows go).
    await sql(
      db.url,
      'INSERT INTO change_log_pruned (stream, `partition`, pruned_through, pruned_at) VALUES (?, 0, ?, UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE pruned_through = VALUES(pruned_through)',
      [env.ABNORMAL_ORDERS_GROUP, 'f'.repeat(48)],
    );
    const expired = await gql(apis[0].url, FEED, { after: cursor }, TEST_KEYS.crm);
    const ext = expired.errors?.[0]?.extensions;
    assert.equal(ext?.code, 'CURSOR_EXPIRED');
    assert.equal(typeof ext.oldestCursor, 'string');
  });
});
