// `npm run bench:subscriptions [-- --subscribers N --records N ...]`: the
// resumable subscriptions under load, against the real Kafka, MariaDB and Redis.
//
//   A. cost   the abnormal-orders job's end-to-end rate over the same topic of N
//             generated records, once with CHANGE_LOG=off and once with the change
//             log written in every batch transaction (each into a fresh database)
//   B. fan-out one worker and one API process; S graphql-ws subscribers of
//             abnormalUserDetected (default 1,000) while rounds of detections are
//             produced live; commit-to-subscriber latency (the event's committedAt,
//             stamped by the batch transaction, to its arrival) p50 / p99 / max,
//             and whether every subscriber got every detection exactly once
//
// Everything it creates (topics, databases, groups) is random and removed at the end.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { formatUserBehavior } from '../src/jobs/user-behavior/user-behavior-format.js';
import {
  generateUserBehavior,
  sampleUsers,
  type UserBehaviorGeneratorOptions,
} from '../src/jobs/user-behavior/user-behavior-generator.js';
import { seedVips } from '../test/helpers/job-runs.js';
import { flushRecords } from '../src/jobs/user-behavior/testing.js';
import { startServiceProcess, TEST_KEYS } from '../test/helpers/service-process.js';
import { createTestDatabase, createTestTopic, produce, randomName, sql } from '../test/helpers/services.js';
import {
  cpuSeconds,
  createBenchTopicAndDatabase,
  fillBenchTopic,
  fmtInt,
  fmtRate,
  log,
  logFill,
  machineLine,
  onCleanup,
  parseBenchArgs,
  PARTITIONS,
  printTable,
  runBench,
  serviceStep,
  sleep,
} from './bench-kit.js';

const USAGE = `usage: npm run bench:subscriptions -- [--records N] [--subscribers N] [--rounds N] [--round-users N] [--round-interval-ms N] [--service-logs]

  --records N            records of part A (default 200000), plus one flush record per partition
  --subscribers N        graphql-ws subscribers of part B (default 1000)
  --rounds N             rounds of live detections in part B (default 20)
  --round-users N        users detected per round, each in 2 windows (default 2: 4 detections a round)
  --round-interval-ms N  wall-clock time between two rounds, milliseconds (default 1000)
  --poll-ms N            CHANGE_LOG_POLL_MS of the API process, milliseconds (default 250; a large value shows the Redis wake-ups alone)
  --batch-size N         records per fillTopic send (default 10000)
  --service-logs         copy the service's log lines to stderr`;

const SUBSCRIPTION = 'subscription { abnormalUserDetected { kind cursor committedAt uid windowEnd } }';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A readable line for what graphql-ws hands to `error`: GraphQL errors, an Error or a CloseEvent. */
function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e !== null && typeof e === 'object' && 'code' in e && 'reason' in e) {
    return `WebSocket closed ${String(e.code)} ${String(e.reason)}`;
  }
  return JSON.stringify(e);
}

/** Part A: the same topic consumed twice, without and with the change log. */
async function costOfTheLog(args: ReturnType<typeof parse>): Promise<{ off: number; on: number; logRows: number }> {
  const startTimeMs = Date.UTC(2026, 0, 1);
  const generator: UserBehaviorGeneratorOptions = {
    seed: 61024,
    users: 5_000,
    startTimeMs,
    eventsPerSecond: 1_000,
    count: args.records,
  };
  const flushTimeSec = Math.floor((startTimeMs + (args.records / 1_000) * 1000 + 86_400_000) / 1000);
  const users = sampleUsers(generator);
  const { topic, db } = await createBenchTopicAndDatabase('bench-subs');
  const dbOff = await createTestDatabase();
  onCleanup(`database ${dbOff.name}`, () => dbOff.drop());
  await seedVips(db.url, users.vipUids);
  await seedVips(dbOff.url, users.vipUids);
  log(`A. cost of the change log: ${fmtInt(args.records)} records on ${PARTITIONS} partitions`);
  const f = await fillBenchTopic({
    topic: topic.topic,
    records: generateUserBehavior(generator),
    count: args.records,
    batchSize: args.batchSize,
    flush: flushRecords(flushTimeSec, PARTITIONS),
  });
  logFill(f);
  const run = async (changeLog: 'on' | 'off', url: string, name: string) => {
    const group = randomName(`bench-subs-${changeLog}`);
    return serviceStep({
      dbUrl: url,
      dbName: name,
      group,
      latest: f.latest,
      total: f.total,
      env: {
        JOBS: 'abnormal-orders',
        USER_BEHAVIOR_TOPIC: topic.topic,
        ABNORMAL_ORDERS_GROUP: group,
        IDLE_TIMEOUT_MS: '3600000',
        CHANGE_LOG: changeLog,
      },
      serviceLogs: args.serviceLogs,
    });
  };
  log('   CHANGE_LOG=off:');
  const off = await run('off', dbOff.url, dbOff.name);
  log('   CHANGE_LOG=on:');
  const on = await run('on', db.url, db.name);
  const [rows] = await sql<{ n: bigint }>(db.url, 'SELECT COUNT(*) AS n FROM change_log');
  return { off: f.total / (off.ms / 1000), on: f.total / (on.ms / 1000), logRows: Number(rows.n) };
}

/** Part B: live detections to many subscribers. */
async function fanOut(args: ReturnType<typeof parse>) {
  const topic = await createTestTopic('bench-subs-live', PARTITIONS);
  onCleanup(`topics ${topic.topic}(.dlq)`, () => topic.delete());
  const db = await createTestDatabase();
  onCleanup(`database ${db.name}`, () => db.drop());
  const env = {
    DATABASE_URL: db.url,
    USER_BEHAVIOR_TOPIC: topic.topic,
    ABNORMAL_ORDERS_GROUP: randomName('bench-subs-live'),
    JOBS: 'abnormal-orders',
    IDLE_TIMEOUT_MS: '3600000',
    CHANGE_LOG_POLL_MS: String(args.pollMs),
    // One API key opens every subscription here.
    RATE_LIMIT_PER_MINUTE: String(Math.max(600, args.subscribers * 10)),
    // One key holds every connection and subscription: lift the per-process and per-key caps above S.
    WS_MAX_CONNECTIONS: String(Math.max(1_000, args.subscribers + 10)),
    WS_MAX_CONNECTIONS_PER_KEY: String(Math.max(20, args.subscribers + 10)),
    WS_MAX_SUBSCRIPTIONS_PER_KEY: String(Math.max(50, args.subscribers + 10)),
  };
  log(
    `B. fan-out: ${fmtInt(args.subscribers)} subscribers on one API process, ${args.rounds} rounds of ${args.roundUsers * 2} detections every ${args.roundIntervalMs} ms`,
  );
  const [worker, api] = await Promise.all([
    startServiceProcess({ ...env, ROLES: 'worker', LOG_LEVEL: 'info' }),
    // BENCH_API_NODE_OPTIONS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the API process (written when it exits on SIGTERM).
    startServiceProcess({
      ...env,
      ROLES: 'api',
      LOG_LEVEL: 'info',
      NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS ?? '',
    }),
  ]);
  const stop = (p: typeof worker) => Promise.race([p.kill('SIGTERM'), sleep(15_000).then(() => p.kill('SIGKILL'))]);
  onCleanup('worker process', () => stop(worker));
  onCleanup('api process', () => stop(api));

  const latencies: number[] = [];
  const received: Map<string, number>[] = [];
  const errors: unknown[] = [];
  const clients: Client[] = [];
  let subscribed = 0;
  for (let i = 0; i < args.subscribers; i++) {
    const seen = new Map<string, number>();
    received.push(seen);
    const client = createClient({
      url: api.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${TEST_KEYS.viewer}` },
      retryAttempts: 0,
    });
    clients.push(client);
    client.subscribe<any>(
      { query: SUBSCRIPTION },
      {
        next: (v) => {
          if (v.errors) {
            errors.push(v.errors);
            return;
          }
          const e = v.data.abnormalUserDetected;
          latencies.push(Date.now() - Date.parse(e.committedAt));
          const key = `${e.uid}@${e.windowEnd}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        },
        error: (e) => errors.push(e),
        // The counts are read once the run ends: completion needs no action.
        complete: () => undefined,
      },
    );
    client.on('connected', () => {
      subscribed++;
    });
    // Connect in waves: a thousand handshakes at once would only measure the accept queue.
    if (i % 100 === 99) await sleep(100);
  }
  onCleanup('subscribers', async () => {
    for (const c of clients) await c.dispose();
  });
  while (subscribed < args.subscribers) {
    if (errors.length > 0) throw new Error(`subscribing failed: ${describeError(errors[0])}`);
    await sleep(50);
  }
  // The subscriptions reach the server a moment after the connections.
  await sleep(1_000);

  const T = Date.UTC(2026, 0, 1);
  const expected = new Set<string>();
  const started = performance.now();
  const apiCpuBefore = cpuSeconds(api.child.pid!);
  for (let r = 1; r <= args.rounds; r++) {
    const base = T + r * 120_000;
    const line = (uid: string, atMs: number, key = 'enterOrderPage') =>
      formatUserBehavior({ uid, phone: '18700000000', eventKey: key, eventTimeSec: Math.floor(atMs / 1000) });
    const messages: { key: string; value: string; partition: number }[] = [];
    for (let u = 0; u < args.roundUsers; u++) {
      const uid = `r${r}u${u}`;
      for (let k = 0; k < 3; k++)
        messages.push({ key: uid, value: line(uid, base + 5_000 + k * 1_000), partition: u % PARTITIONS });
      expected
        .add(`${uid}@${new Date(base + 30_000).toISOString()}`)
        .add(`${uid}@${new Date(base + 60_000).toISOString()}`);
    }
    for (let p = 0; p < PARTITIONS; p++)
      messages.push({ key: 'flush', value: line('flush', base + 100_000, 'startApp'), partition: p });
    await produce(topic.topic, messages);
    await sleep(args.roundIntervalMs);
  }
  if (process.env.BENCH_API_NODE_OPTIONS) api.child.kill('SIGUSR2');
  // Wait for the stragglers (at most 30 s).
  const complete = () => received.every((m) => m.size >= expected.size);
  for (const deadline = Date.now() + 30_000; !complete() && Date.now() < deadline;) await sleep(100);
  const elapsedMs = performance.now() - started;
  const apiCpuAfter = cpuSeconds(api.child.pid!);
  const apiCpuSec = apiCpuBefore !== null && apiCpuAfter !== null ? apiCpuAfter - apiCpuBefore : null;
  const exactlyOnce = received.filter(
    (m) => m.size === expected.size && [...expected].every((k) => m.get(k) === 1),
  ).length;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    sorted,
    exactlyOnce,
    expected: expected.size,
    elapsedMs,
    errors: errors.length,
    deliveries: latencies.length,
    apiCpuSec,
  };
}

function parse() {
  const a = parseBenchArgs(USAGE, {
    subscribers: 1_000,
    rounds: 20,
    'round-users': 2,
    'round-interval-ms': 1_000,
    'poll-ms': 250,
  });
  const records = process.argv.includes('--records') ? a.records : 200_000;
  return { ...a, records, roundUsers: a['round-users'], roundIntervalMs: a['round-interval-ms'], pollMs: a['poll-ms'] };
}

async function main(): Promise<void> {
  const args = parse();
  log(`subscriptions bench; ${machineLine()}`);
  const cost = await costOfTheLog(args);
  const fan = await fanOut(args);
  log(
    `   ${fmtInt(fan.deliveries)} deliveries of ${fan.expected} detections in ${(fan.elapsedMs / 1000).toFixed(1)} s; ${fan.errors} subscription errors`,
  );
  printTable([
    ['e2e rate, CHANGE_LOG=off', `${fmtInt(cost.off)} rec/s`],
    [
      'e2e rate, change log on',
      `${fmtInt(cost.on)} rec/s (${((100 * cost.on) / cost.off).toFixed(0)}% of off; ${fmtInt(cost.logRows)} log rows)`,
    ],
    ['subscribers', fmtInt(args.subscribers)],
    ['detections (live)', `${fan.expected} (${fmtRate(fan.expected, args.rounds * args.roundIntervalMs)} produced)`],
    ['API poll interval', `${args.pollMs} ms (plus a Redis wake-up after each commit)`],
    ['commit -> subscriber p50', `${percentile(fan.sorted, 50)} ms`],
    ['commit -> subscriber p99', `${percentile(fan.sorted, 99)} ms (goal <= 500 ms)`],
    ['commit -> subscriber max', `${fan.sorted.at(-1) ?? '-'} ms`],
    [
      'API CPU per delivery',
      fan.apiCpuSec !== null && fan.deliveries > 0
        ? `${((fan.apiCpuSec * 1e6) / fan.deliveries).toFixed(0)} µs (${fan.apiCpuSec.toFixed(1)} s for ${fmtInt(fan.deliveries)})`
        : '?',
    ],
    ['exactly once', `${fmtInt(fan.exactlyOnce)} of ${fmtInt(args.subscribers)} subscribers got every detection once`],
  ]);
  if (fan.exactlyOnce !== args.subscribers) throw new Error('some subscriber missed or repeated a detection');
}

await runBench(main);
