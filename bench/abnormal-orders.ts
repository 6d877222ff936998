// `npm run bench [-- --records N]`: throughput of the abnormal-orders pipeline
// against the real Kafka, MariaDB and Redis of `scripts/stack.sh`.
//
//   1. fill      a fresh 3-partition topic with N generated user-behaviour records
//                (+ one far-future "flush" record per partition that closes every window)
//   2. raw       a plain kafkajs consumer reads the topic (count + resolve only),
//                with the service's fetch settings: the ceiling set by Kafka + kafkajs
//   3. e2e       the real service (`node dist/src/main.js`, ROLES=worker) consumes the
//                same topic into a fresh database; timed until every partition's
//                committed next_offset (in `consumer_offset`) reaches the end
//
// Everything it creates (topic + .dlq, database, groups) is random and removed at
// the end, also on failure or Ctrl-C. See bench/README.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createConnection, type Connection } from 'mariadb';
import { formatUserBehavior } from '../src/ingest/formats/user-behavior.js';
import { createKafka } from '../src/ingest/kafka-client.js';
import { fillTopic, type FillRecord } from '../src/sample/fill-topic.js';
import { generateUserBehavior, sampleUsers, type UserBehaviorGeneratorOptions } from '../src/sample/user-behavior-generator.js';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import { connectAdmin, createTestDatabase, createTestTopic, KAFKA_BROKERS, produce, randomName, REDIS_URL, sql } from '../test/helpers/services.js';

const USAGE = `usage: npm run bench -- [--records N] [--batch-size N] [--users N] [--skip-raw] [--service-logs] [--cpu-prof DIR]

  --records N      records to produce (default 1000000), plus one flush record per partition
  --batch-size N   records per fillTopic send (default 10000, 4 sends in flight)
  --users N        uid pool of the generator (default 5000)
  --skip-raw       skip the raw kafkajs consumer
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

/** The service's consumer settings (src/ingest/job-consumer.ts, defaults of src/config/config.ts). */
const SERVICE_FETCH = {
  maxBytesPerPartition: 1_048_576,
  maxBytes: 10_485_760,
  partitionsConsumedConcurrently: 3,
  sessionTimeout: 30_000,
  heartbeatInterval: 3_000,
} as const;

const PARTITIONS = 3;
const MAIN = path.resolve(import.meta.dirname, '../src/main.js');
const MiB = 1024 * 1024;

interface Args {
  records: number;
  batchSize: number;
  users: number;
  skipRaw: boolean;
  serviceLogs: boolean;
  cpuProf: string | null;
}

function parseCli(): Args {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'batch-size': { type: 'string' },
      users: { type: 'string' },
      'skip-raw': { type: 'boolean', default: false },
      'service-logs': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, def: number, min: number): number => {
    if (raw === undefined) return def;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(raw)}\n${USAGE}`);
    return n;
  };
  return {
    records: int('records', values.records, 1_000_000, 1),
    batchSize: int('batch-size', values['batch-size'], 10_000, 1),
    users: int('users', values.users, 5_000, 1),
    skipRaw: values['skip-raw'] ?? false,
    serviceLogs: values['service-logs'] ?? false,
    cpuProf: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : null,
  };
}

// ---------------------------------------------------------------- helpers

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtRate = (records: number, ms: number) => `${fmtInt(records / (ms / 1000))} rec/s`;
const fmtSec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (line: string) => console.log(line);
const usPerRecord = (cpuSec: number, records: number) => `${((cpuSec * 1e6) / records).toFixed(1)} µs`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Cleanups run in reverse order, once, at the end, on failure and on Ctrl-C. */
const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
let cleaned: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c.run();
      } catch (err) {
        console.error(`cleanup: ${c.what} failed: ${String(err)}`);
      }
    }
  })();
  return cleaned;
}

/** Fields 14 (utime) and 15 (stime) of /proc/<pid>/stat, in seconds; null when not readable. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime = field 14 -> index 11, stime = field 15 -> index 12. Clock ticks of 100 Hz on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A `Vm*` line of /proc/<pid>/status in MiB, or null. */
function procStatusMiB(pid: number, key: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- 1. fill

interface FillResult {
  ms: number;
  bytes: number;
  latest: Map<number, number>;
  total: number;
}

/**
 * Produces the generator's records with `fillTopic` (batches of `batchSize`,
 * up to 4 in flight, acks=all, no compression), then one flush record per
 * partition (explicit partitions), then reads the high watermarks.
 */
async function fill(topic: string, generator: UserBehaviorGeneratorOptions, args: Args, flushTimeSec: number): Promise<FillResult> {
  let bytes = 0;
  function* records(): Generator<FillRecord> {
    for (const r of generateUserBehavior(generator)) {
      bytes += r.value.length + (r.key?.length ?? 0);
      yield { key: r.key, value: r.value };
    }
  }
  const started = performance.now();
  const written = await fillTopic({ brokers: KAFKA_BROKERS, topic, records: records(), batchSize: args.batchSize });
  if (written.count !== args.records) throw new Error(`fillTopic wrote ${written.count} records, expected ${args.records}`);
  // One record per partition far in event-time future: the watermark passes every window.
  const flushLine = formatUserBehavior({ uid: 'flush', phone: '0', eventKey: 'startApp', eventTimeSec: flushTimeSec });
  await produce(topic, Array.from({ length: PARTITIONS }, (_, partition) => ({ key: 'flush', partition, value: flushLine })));
  const ms = performance.now() - started;

  const admin = await connectAdmin();
  try {
    const latest = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
    const total = [...latest.values()].reduce((a, b) => a + b, 0);
    if (total !== args.records + PARTITIONS) throw new Error(`topic holds ${total} records, expected ${args.records + PARTITIONS}`);
    return { ms, bytes, latest, total };
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------- 2. raw consume

interface RawResult {
  /** From calling run() to the last record. */
  ms: number;
  /** Part of `ms` spent in run() itself (group join + sync). */
  joinMs: number;
  batches: number;
  messages: number;
  /** CPU of this process (user + system) over `ms`, seconds. */
  cpuSec: number;
}

async function rawConsume(topic: string, total: number): Promise<RawResult> {
  const groupId = randomName('bench-raw');
  const kafka = createKafka(KAFKA_BROKERS, groupId);
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: SERVICE_FETCH.sessionTimeout,
    heartbeatInterval: SERVICE_FETCH.heartbeatInterval,
    maxBytesPerPartition: SERVICE_FETCH.maxBytesPerPartition,
    maxBytes: SERVICE_FETCH.maxBytes,
    retry: { retries: 10 },
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let messages = 0;
    let batches = 0;
    let done!: (ms: number) => void;
    const finished = new Promise<number>((resolve) => { done = resolve; });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: SERVICE_FETCH.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset }) => {
        const n = batch.messages.length;
        if (n === 0) return;
        messages += n;
        batches++;
        resolveOffset(batch.messages[n - 1]!.offset);
        if (messages >= total) done(performance.now());
      },
    });
    const joinMs = performance.now() - started;
    const timeout = sleep(Math.max(120_000, total / 10)).then(() => { throw new Error(`raw consumer: only ${messages} of ${total} records after the timeout`); });
    const end = await Promise.race([finished, timeout]);
    const cpu = process.cpuUsage(cpuBefore);
    return { ms: end - started, joinMs, batches, messages, cpuSec: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await consumer.disconnect();
    // Its group would otherwise linger on the broker until offsets.retention.minutes.
    const admin = await connectAdmin();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------- 3. end to end

interface Progress {
  consumed: number;
  claimed: number;
  done: boolean;
}

async function progress(conn: Connection, group: string, latest: Map<number, number>): Promise<Progress> {
  const rows: Array<{ partition: number; next_offset: bigint; replay_from: bigint }> = await conn.query(
    'SELECT `partition`, next_offset, replay_from FROM consumer_offset WHERE group_id = ?', [group]);
  let consumed = 0;
  let done = rows.length === latest.size;
  for (const r of rows) {
    consumed += Math.max(0, Number(r.next_offset));
    if (Number(r.next_offset) !== latest.get(r.partition) || Number(r.replay_from) !== Number(r.next_offset)) done = false;
  }
  return { consumed, claimed: rows.length, done };
}

interface E2eResult {
  /** Spawn to "ready" (every partition claimed by the service). */
  startupMs: number;
  /** Ready to every partition's committed next_offset = latest. */
  ms: number;
  /** Spawn to the end. */
  fromSpawnMs: number;
  peakRssMiB: number | null;
  cpuSec: number | null;
  rows: number;
  deadLettered: number;
  late: number;
  warnLines: number;
  exitCode: number | null;
  /** SIGTERM to exit. */
  stopMs: number;
}

/**
 * Runs `node dist/src/main.js` as a child process. With LOG_LEVEL=warn there
 * is no "service ready" line, so "ready" is the moment the service has
 * claimed every partition in `consumer_offset` (it does so on its group join,
 * right before `run()` returns, i.e. when it can fetch).
 */
async function endToEnd(dbUrl: string, topic: string, latest: Map<number, number>, total: number, args: Args): Promise<E2eResult> {
  const group = randomName('bench-abnormal');
  const nodeArgs = args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : [];
  const conn = await createConnection({ ...parseDatabaseUrl(dbUrl), connectTimeout: 5_000 });
  cleanups.push({ what: 'poll connection', run: () => conn.end() });

  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, MAIN], {
    env: {
      ...process.env,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      REDIS_URL,
      DATABASE_URL: dbUrl,
      ROLES: 'worker',
      // Only this job: the others read topics this bench does not create.
      JOBS: 'abnormal-orders',
      USER_BEHAVIOR_TOPIC: topic,
      ABNORMAL_ORDERS_GROUP: group,
      // Windows close through event time (the flush records), never wall-clock idleness.
      IDLE_TIMEOUT_MS: '3600000',
      LOG_LEVEL: 'warn',
      PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  // Cleanups run last-in first-out: the process is killed before its group is deleted.
  cleanups.push({ what: 'kafka group', run: async () => {
    const admin = await connectAdmin();
    await admin.deleteGroups([group]).catch(() => {});
    await admin.disconnect();
  } });
  cleanups.push({ what: 'service process', run: () => kill('SIGKILL') });

  let warnLines = 0;
  const lastLines: string[] = [];
  const keep = (line: string) => {
    lastLines.push(line);
    if (lastLines.length > 10) lastLines.shift();
    if (args.serviceLogs) process.stderr.write(`[service ${child.pid}] ${line}\n`);
  };
  createInterface({ input: child.stdout! }).on('line', (line) => { warnLines++; keep(line); });
  createInterface({ input: child.stderr! }).on('line', keep);
  let dead = false;
  void exited.then(() => { dead = true; });
  const died = () => new Error(`the service exited (code ${child.exitCode}, signal ${child.signalCode}); last output:\n${lastLines.join('\n')}`);

  // Ready: every partition claimed. Polled tightly, the query is tiny.
  let p: Progress;
  for (;;) {
    if (dead) throw died();
    p = await progress(conn, group, latest);
    if (p.claimed === latest.size) break;
    if (performance.now() - spawnedAt > 120_000) throw new Error(`the service claimed ${p.claimed} of ${latest.size} partitions after 120 s; last output:\n${lastLines.join('\n')}`);
    await sleep(20);
  }
  const readyAt = performance.now();
  const cpuAtReady = cpuSeconds(child.pid!);

  // Done: every committed next_offset = latest (and nothing left to replay). Polled every 100 ms.
  let lastReport = readyAt;
  const deadline = readyAt + Math.max(600_000, total / 100);
  for (;;) {
    if (dead) throw died();
    p = await progress(conn, group, latest);
    if (p.done) break;
    const now = performance.now();
    if (now > deadline) throw new Error(`end to end: only ${p.consumed} of ${total} records committed after ${fmtSec(now - readyAt)}`);
    if (now - lastReport >= 10_000) {
      lastReport = now;
      log(`   … ${fmtInt(p.consumed)} / ${fmtInt(total)} committed after ${fmtSec(now - readyAt)} (${fmtRate(p.consumed, now - readyAt)}, RSS ${procStatusMiB(child.pid!, 'VmRSS')?.toFixed(0) ?? '?'} MiB)`);
    }
    await sleep(100);
  }
  const doneAt = performance.now();
  const cpuAtDone = cpuSeconds(child.pid!);
  const peakRssMiB = procStatusMiB(child.pid!, 'VmHWM');
  const stopAt = performance.now();
  const exitCode = await Promise.race([kill('SIGTERM'), sleep(30_000).then(() => kill('SIGKILL'))]);
  const stopMs = performance.now() - stopAt;

  const [counts] = await sql<{ rows: bigint }>(dbUrl, 'SELECT COUNT(*) AS `rows` FROM unpayment_record');
  const [sums] = await sql<{ dead: bigint | null; late: bigint | null }>(dbUrl,
    'SELECT SUM(dead_lettered) AS dead, SUM(late_records) AS late FROM consumer_offset WHERE group_id = ?', [group]);
  return {
    startupMs: readyAt - spawnedAt,
    ms: doneAt - readyAt,
    fromSpawnMs: doneAt - spawnedAt,
    peakRssMiB,
    cpuSec: cpuAtReady !== null && cpuAtDone !== null ? cpuAtDone - cpuAtReady : null,
    rows: Number(counts?.rows ?? 0),
    deadLettered: Number(sums?.dead ?? 0),
    late: Number(sums?.late ?? 0),
    warnLines,
    exitCode,
    stopMs,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseCli();
  const startTimeMs = Date.UTC(2026, 0, 1);
  const eventsPerSecond = 1_000;
  const generator: UserBehaviorGeneratorOptions = { seed: 61024, users: args.users, startTimeMs, eventsPerSecond, count: args.records };
  const spanMs = (args.records / eventsPerSecond) * 1000;
  const flushTimeSec = Math.floor((startTimeMs + spanMs + 86_400_000) / 1000);
  const users = sampleUsers(generator);
  const expectedRows = users.abnormalUids.length - users.abnormalVipUids.length;

  log(`abnormal-orders bench: ${fmtInt(args.records)} records (+${PARTITIONS} flush), ${fmtInt(args.users)} users, `
    + `${fmtInt(eventsPerSecond)} records/s of event time = ${(spanMs / 60_000).toFixed(1)} min of events, `
    + `${PARTITIONS} partitions; node ${process.version}, ${os.availableParallelism()} CPUs`);

  const topic = await createTestTopic('bench', PARTITIONS);
  cleanups.push({ what: `topics ${topic.topic}(.dlq)`, run: () => topic.delete() });
  const db = await createTestDatabase();
  cleanups.push({ what: `database ${db.name}`, run: () => db.drop() });
  await sql(db.url, `INSERT INTO vip_user (uid) VALUES ${users.vipUids.map(() => '(?)').join(',')}`, users.vipUids);

  log(`0. setup  topic ${topic.topic} (+ .dlq), database ${db.name} with ${users.vipUids.length} VIPs`);
  log('1. fill   …');
  const f = await fill(topic.topic, generator, args, flushTimeSec);
  log(`   ${fmtInt(f.total)} records, ${(f.bytes / MiB).toFixed(1)} MiB of keys+values in ${fmtSec(f.ms)}: ${fmtRate(f.total, f.ms)} `
    + `(${(f.bytes / MiB / (f.ms / 1000)).toFixed(1)} MiB/s); per partition ${[...f.latest.values()].map(fmtInt).join(' / ')}`);

  let raw: RawResult | null = null;
  if (!args.skipRaw) {
    log('2. raw    plain kafkajs consumer (count + resolveOffset), service fetch settings …');
    raw = await rawConsume(topic.topic, f.total);
    log(`   ${fmtInt(raw.messages)} records in ${fmtSec(raw.ms)} from run() (join ${fmtSec(raw.joinMs)}): ${fmtRate(raw.messages, raw.ms)}; `
      + `${fmtInt(raw.batches)} batches, ${fmtInt(raw.messages / Math.max(1, raw.batches))} records/batch; CPU ${raw.cpuSec.toFixed(1)} s (${((100 * raw.cpuSec) / (raw.ms / 1000)).toFixed(0)}% of one core)`);
  }

  log('3. e2e    service (ROLES=worker, LOG_LEVEL=warn) …');
  const e = await endToEnd(db.url, topic.topic, f.latest, f.total, args);
  log(`   ready after ${fmtSec(e.startupMs)}; ${fmtInt(f.total)} records committed in ${fmtSec(e.ms)} from ready: ${fmtRate(f.total, e.ms)} `
    + `(${fmtRate(f.total, e.fromSpawnMs)} from spawn)`);
  log(`   service CPU ${e.cpuSec?.toFixed(1) ?? '?'} s over ${fmtSec(e.ms)} (${e.cpuSec !== null ? ((100 * e.cpuSec) / (e.ms / 1000)).toFixed(0) : '?'}% of one core); `
    + `peak RSS ${e.peakRssMiB?.toFixed(0) ?? '?'} MiB; `
    + `SIGTERM -> exit ${fmtSec(e.stopMs)}, exit code ${e.exitCode}; ${e.warnLines} log lines at warn or above`);
  // Short runs end before every abnormal user had a burst: fewer rows is expected there, more never is.
  log(`   unpayment_record rows ${fmtInt(e.rows)} (the sample has ${expectedRows} abnormal non-VIP users; short runs reach fewer of them); `
    + `dead-lettered ${fmtInt(e.deadLettered)}, late ${fmtInt(e.late)}`
    + (raw ? `; transactions ≈ ${fmtInt(raw.batches)} (one per fetched batch; the raw consumer's batch count with the same fetch settings)` : ''));

  const rawRate = raw ? raw.messages / (raw.ms / 1000) : null;
  const e2eRate = f.total / (e.ms / 1000);
  const table: Array<[string, string]> = [
    ['records', fmtInt(f.total)],
    ['fill rate', fmtRate(f.total, f.ms)],
    ['raw consume rate', raw ? fmtRate(raw.messages, raw.ms) : 'skipped'],
    ['end-to-end rate', `${fmtInt(e2eRate)} rec/s`],
    ['end-to-end / raw', rawRate ? `${((100 * e2eRate) / rawRate).toFixed(0)}%` : '-'],
    // CPU seconds per record barely move when other processes compete for the cores; the rates do.
    ['CPU per record', `raw ${raw ? usPerRecord(raw.cpuSec, raw.messages) : '-'}, service ${e.cpuSec !== null ? usPerRecord(e.cpuSec, f.total) : '?'}`],
    ['service peak RSS', e.peakRssMiB !== null ? `${e.peakRssMiB.toFixed(0)} MiB` : '?'],
    ['rows detected', `${fmtInt(e.rows)} (of ${expectedRows} abnormal non-VIP users)`],
  ];
  const width = Math.max(...table.map(([k]) => k.length));
  log('');
  for (const [k, v] of table) log(`  ${k.padEnd(width)}  ${v}`);
}

process.once('SIGINT', () => {
  console.error('interrupted: cleaning up');
  void cleanup().finally(() => process.exit(130));
});

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  exitCode = 1;
} finally {
  await cleanup();
}
// kafkajs and mariadb leave timers behind: exit explicitly.
process.exit(exitCode);
