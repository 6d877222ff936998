// Resumable subscriptions read from the change log: a client that remembers
// the last cursor and reconnects to ANY API process sees each detection once,
// through a disconnection, an API process killed with SIGKILL, and its own
// Redis stopped for 10 s (Redis only wakes the tailers sooner). One worker and
// three API processes share this test's own redis-server (never the shared one).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { freePort, startRedis, stopRedis } from '../helpers/own-redis.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { createTestDatabase, createTestTopic, produce, randomName, waitFor } from '../helpers/services.js';

// Window starts are multiples of 30 s; T is one of them (2026-01-01T00:00:00Z).
const T = Date.UTC(2026, 0, 1);
const PARTITIONS = 3;
const USERS_PER_ROUND = 6;
const line = (uid: string, atMs: number, eventKey = 'enterOrderPage') =>
  formatUserBehavior({ uid, phone: '18700000000', eventKey, eventTimeSec: Math.floor(atMs / 1000) });

/**
 * Round r: USERS_PER_ROUND users, 3 enterOrderPage events each at r*120 s + 5..7 s
 * (so each is detected in the two windows holding them, ending at r*120 + 30 s and
 * r*120 + 60 s), spread over the partitions, then a record on every partition that
 * moves its watermark past both windows.
 * @returns the expected detections as `uid@windowEnd`.
 */
async function round(topic: string, r: number): Promise<string[]> {
  const base = T + r * 120_000;
  const messages: { key: string; value: string; partition: number }[] = [];
  const expected: string[] = [];
  for (let u = 0; u < USERS_PER_ROUND; u++) {
    const uid = `r${r}u${u}`;
    for (let k = 0; k < 3; k++)
      messages.push({ key: uid, value: line(uid, base + 5_000 + k * 1_000), partition: u % PARTITIONS });
    expected.push(`${uid}@${new Date(base + 30_000).toISOString()}`, `${uid}@${new Date(base + 60_000).toISOString()}`);
  }
  for (let p = 0; p < PARTITIONS; p++)
    messages.push({ key: 'flush', value: line('flush', base + 100_000, 'startApp'), partition: p });
  await produce(topic, messages);
  return expected;
}

const SUBSCRIPTION = `subscription($after: String, $withProgress: Boolean) {
  abnormalUserDetected(after: $after, withProgress: $withProgress) { kind cursor committedAt uid enterOrderCount windowStart windowEnd }
}`;

/** One subscriber: every detection it received (in order), its last cursor, progress events and errors. */
class Subscriber {
  readonly detections: string[] = [];
  readonly progress: string[] = [];
  readonly errors: unknown[] = [];
  lastCursor: string | null = null;
  private client: Client | null = null;

  connect(api: ServiceProcess, opts: { after?: string | null; withProgress?: boolean } = {}): void {
    const client = createClient({
      url: api.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${TEST_KEYS.viewer}` },
      // Lazy (the default): connection errors reach the sink's error, not the console.
      retryAttempts: 0,
    });
    this.client = client;
    client.subscribe<any>(
      { query: SUBSCRIPTION, variables: { after: opts.after ?? null, withProgress: opts.withProgress ?? false } },
      {
        next: (v) => {
          if (this.client !== client) return;
          if (v.errors) {
            this.errors.push(v.errors);
            return;
          }
          const e = v.data.abnormalUserDetected;
          if (e.kind === 'PROGRESS') this.progress.push(e.cursor);
          else this.detections.push(`${e.uid}@${e.windowEnd}`);
          this.lastCursor = e.cursor;
        },
        // A killed API process closes the socket: not an error of the subscription itself.
        error: () => undefined,
        // The test disconnects the client itself: completion needs no action.
        complete: () => undefined,
      },
    );
  }

  /** Stops receiving at once (what a client that closes its connection has seen is what it processed). */
  async disconnect(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.dispose();
  }

  has(keys: readonly string[]): boolean {
    const got = new Set(this.detections);
    return keys.every((k) => got.has(k));
  }
}

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('resumable subscriptions: exactly once with a cursor', () => {
  let redisPort: number;
  let redisServer: ChildProcess;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let worker: ServiceProcess;
  let apiA: ServiceProcess;
  let apiB: ServiceProcess;
  let apiC: ServiceProcess;
  let env: Record<string, string>;
  const subscribers: Subscriber[] = [];
  const subscriber = () => {
    const s = new Subscriber();
    subscribers.push(s);
    return s;
  };
  let firstCursor: string;
  /**
   * A cursor after every detection of the first test: the next test's clients start there, since
   * "live from now" is now as the API process has read the change log (polled every 250 ms), and a
   * process that had not yet read the first test's last round would deliver it as live.
   */
  let settledCursor: string | null = null;
  let nextRound = 1;
  const produceRound = () => round(topic.topic, nextRound++);

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
    [worker, apiA, apiB, apiC] = await Promise.all([
      startServiceProcess({ ...env, ROLES: 'worker' }),
      startServiceProcess({ ...env, ROLES: 'api' }),
      startServiceProcess({ ...env, ROLES: 'api' }),
      startServiceProcess({ ...env, ROLES: 'api' }),
    ]);
  });

  after(async () => {
    // Cleanup goes on past a client that is already gone.
    for (const s of subscribers) await s.disconnect().catch(() => undefined);
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    await Promise.all([worker, apiA, apiB, apiC].map((p) => p?.kill()));
    if (redisServer) await stopRedis(redisServer);
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should send the detections a client missed while disconnected for 30 s, once, through another API process, then live ones', async () => {
    const client = subscriber();
    client.connect(apiA, { withProgress: true });
    // Live from now: the first progress event says the subscription is in place.
    await waitFor('the first progress event', () => client.progress.length > 0, 20_000);
    firstCursor = client.progress[0]!;
    const seen = await produceRound();
    await waitFor('round 1 on A', () => client.has(seen), 30_000);
    assert.deepEqual(sorted(client.detections), sorted(seen));
    const cursor = client.lastCursor!;
    await client.disconnect();

    const disconnectedAt = Date.now();
    const missed = [...(await produceRound()), ...(await produceRound())];
    // Both rounds committed while the client is away (another subscriber sees them).
    const witness = subscriber();
    witness.connect(apiC, { after: cursor });
    await waitFor('the rounds missed, committed', () => witness.has(missed), 30_000);
    await witness.disconnect();
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - disconnectedAt))));

    const resumed = subscriber();
    resumed.connect(apiB, { after: cursor });
    await waitFor('the missed detections on B', () => resumed.has(missed), 30_000);
    const live = await produceRound();
    await waitFor('live detections on B', () => resumed.has(live), 30_000);
    assert.deepEqual(resumed.detections.slice(0, missed.length).sort(), sorted(missed), 'the missed ones first');
    assert.deepEqual(sorted(resumed.detections), sorted([...missed, ...live]), 'each exactly once, nothing else');
    assert.deepEqual(resumed.errors, []);
    settledCursor = resumed.lastCursor;
  });

  it('should let the clients of an API process killed with SIGKILL mid-stream resume elsewhere with nothing missed and nothing twice', async () => {
    const clients = [subscriber(), subscriber()];
    for (const c of clients) c.connect(apiC, { withProgress: true, after: settledCursor });
    await waitFor('both subscriptions in place', () => clients.every((c) => c.progress.length > 0), 20_000);
    const expected = await produceRound();
    await waitFor('the first detections on C', () => clients.every((c) => c.detections.length > 0), 30_000);
    await apiC.kill('SIGKILL');
    // What each client processed before the kill is exactly what it received.
    const before = clients.map((c) => [...c.detections]);
    const cursors = clients.map((c) => c.lastCursor);
    for (const c of clients) await c.disconnect();
    expected.push(...(await produceRound()));
    const resumed = clients.map((_, i) => {
      const s = subscriber();
      s.connect(i === 0 ? apiA : apiB, { after: cursors[i] });
      return s;
    });
    for (const [i, s] of resumed.entries()) {
      await waitFor(`client ${i} complete`, () => s.has(expected.filter((k) => !before[i].includes(k))), 30_000);
      const all = [...before[i], ...s.detections];
      assert.deepEqual(sorted(all), sorted(expected), `client ${i}: every detection exactly once across the kill`);
      assert.deepEqual(s.errors, []);
    }
  });

  it('should deliver every detection to every subscriber while Redis is stopped for 10 s', async () => {
    const clients = [subscriber(), subscriber(), subscriber()];
    clients[0].connect(apiA, { withProgress: true });
    clients[1].connect(apiB, { withProgress: true });
    clients[2].connect(apiB, { withProgress: true });
    await waitFor('the subscriptions in place', () => clients.every((c) => c.progress.length > 0), 20_000);
    const stoppedAt = Date.now();
    await stopRedis(redisServer);
    const expected = await produceRound();
    await waitFor(
      'every detection on every subscriber with Redis down',
      () => clients.every((c) => c.has(expected)),
      30_000,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
    redisServer = await startRedis(redisPort);
    expected.push(...(await produceRound()));
    await waitFor('the next round with Redis back', () => clients.every((c) => c.has(expected)), 30_000);
    for (const c of clients) {
      assert.deepEqual(sorted(c.detections), sorted(expected));
      assert.deepEqual(c.errors, []);
    }
  });

  it('should refuse a malformed cursor with BAD_USER_INPUT', async () => {
    const s = subscriber();
    s.connect(apiA, { after: 'not-a-cursor' });
    await waitFor('the error', () => s.errors.length > 0, 10_000);
    assert.equal((s.errors[0] as any)[0].extensions.code, 'BAD_USER_INPUT');
  });

  it('should answer CURSOR_EXPIRED with the oldest cursor still available once the changes after a cursor were pruned', async () => {
    // A second worker of the group with a retention of 0.36 s prunes (nearly) the whole log.
    const pruner = await startServiceProcess({
      ...env,
      ROLES: 'worker',
      CHANGE_LOG_RETENTION_HOURS: '0.0001',
      CHANGE_LOG_PRUNE_INTERVAL_MS: '500',
    });
    try {
      await waitFor('the log pruned', () => pruner.logs.some((l) => l.msg === 'change log pruned'), 20_000);
      const expired = subscriber();
      expired.connect(apiA, { after: firstCursor });
      await waitFor('the error', () => expired.errors.length > 0, 10_000);
      const error = (expired.errors[0] as any)[0];
      assert.equal(error.extensions.code, 'CURSOR_EXPIRED');
      assert.equal(typeof error.extensions.oldestCursor, 'string');
      const oldest = subscriber();
      oldest.connect(apiA, { after: error.extensions.oldestCursor, withProgress: true });
      await waitFor(
        'a progress event from the oldest cursor',
        () => oldest.progress.length > 0 || oldest.errors.length > 0,
        20_000,
      );
      assert.deepEqual(oldest.errors, []);
    } finally {
      await pruner.kill();
    }
  });
});
