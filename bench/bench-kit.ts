// Shared pieces of the end-to-end benchmarks (bench/*.ts): the command line,
// formatting, cleanup on exit and Ctrl-C, /proc readings of the service
// process, filling the topic, the raw kafkajs consume rate, the service as a
// child process timed through its committed positions in `consumer_offset`,
// and the summary table.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createConnection, type Connection } from 'mariadb';
import { loadConfig } from '../src/app-config.js';
import { runnerSettings } from '../src/config/config.js';
import { createKafka } from '../src/ingest/kafka-client.js';
import { fillTopic, type FillRecord } from '../src/sample/fill-topic.js';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import {
  latestOffsets,
  progressOf,
  sumOffsets,
  type JobProgress,
  type OffsetRow,
  type TestDatabase,
  type TestTopic,
} from '../test/helpers/job-runs.js';
import {
  connectAdmin,
  createTestDatabase,
  createTestTopic,
  KAFKA_BROKERS,
  produce,
  randomName,
  REDIS_URL,
} from '../test/helpers/services.js';

export const MiB = 1024 * 1024;
/** Partitions of every bench topic. */
export const PARTITIONS = 3;
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtRate = (records: number, ms: number) => `${fmtInt(records / (ms / 1000))} rec/s`;
export const fmtSec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** CPU `cpuSec` (seconds) spread over `records`, as microseconds per record. */
export const usPerRecord = (cpuSec: number, records: number) => `${((cpuSec * 1e6) / records).toFixed(1)} µs`;
/** `cpuSec` of CPU over `ms` of wall time as a share of one core, in percent (no sign). */
export const coreShare = (cpuSec: number, ms: number) => ((100 * cpuSec) / (ms / 1000)).toFixed(0);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const log = (line: string) => console.log(line);

/** Node version, CPUs and the 1-minute load average, for a bench's first line. */
export function machineLine(): string {
  return `node ${process.version}, ${os.availableParallelism()} CPUs, load ${os.loadavg()[0].toFixed(1)}`;
}

/** The flags every bench takes (see each bench's USAGE). */
export interface BenchArgs {
  records: number;
  batchSize: number;
  skipRaw: boolean;
  serviceLogs: boolean;
  /** Absolute directory for `node --cpu-prof`, or null. */
  cpuProf: string | null;
}

/**
 * The value of the integer flag `--name` as given (`raw`, `_` separators allowed), or `def` when absent.
 * @throws Error naming the flag, and ending with `usage`, when it is not an integer >= `min`
 */
export function intFlag(
  name: string,
  raw: string | boolean | undefined,
  def: number,
  min: number,
  usage: string,
): number {
  if (raw === undefined) return def;
  const n = Number(String(raw).replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min)
    throw new Error(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(raw)}\n${usage}`);
  return n;
}

/**
 * Parses `process.argv`: `--records N` (default 1,000,000), `--batch-size N`
 * (default 10,000), `--skip-raw`, `--service-logs`, `--cpu-prof DIR`, `-h` /
 * `--help` (prints `usage` and exits 0), plus one integer flag per key of
 * `extraInts` (its default). Integers take `_` separators and must be >= 1
 * (>= 0 for the flags of `zeroAllowed`).
 * @throws on an unknown flag or a bad integer (the message ends with `usage`)
 */
export function parseBenchArgs<K extends string = never>(
  usage: string,
  extraInts: Record<K, number> = {} as Record<K, number>,
  /** Extra flags that may also be 0. */
  zeroAllowed: readonly NoInfer<K>[] = [],
): BenchArgs & Record<K, number> {
  const extraNames = Object.keys(extraInts) as K[];
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'batch-size': { type: 'string' },
      ...Object.fromEntries(extraNames.map((name) => [name, { type: 'string' as const }])),
      'skip-raw': { type: 'boolean', default: false },
      'service-logs': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const int = (name: string, raw: string | boolean | undefined, def: number, min: number): number =>
    intFlag(name, raw, def, min, usage);
  const extra = Object.fromEntries(
    extraNames.map((name) => [
      name,
      int(
        name,
        (values as Record<string, string | boolean | undefined>)[name],
        extraInts[name],
        zeroAllowed.includes(name) ? 0 : 1,
      ),
    ]),
  ) as Record<K, number>;
  return {
    records: int('records', values.records, 1_000_000, 1),
    batchSize: int('batch-size', values['batch-size'], 10_000, 1),
    ...extra,
    skipRaw: values['skip-raw'],
    serviceLogs: values['service-logs'],
    cpuProf: typeof values['cpu-prof'] === 'string' ? path.resolve(values['cpu-prof']) : null,
  };
}

/**
 * The service's consumer settings at their defaults (`runnerSettings` of the
 * configuration schema's defaults, as `src/runner/job-runner.ts` uses them).
 */
export const SERVICE_FETCH = runnerSettings(loadConfig({}));

/** The words of package.json's `start` script: `NAME=value` environment settings, then `node`, its flags and the script. */
const START_WORDS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return pkg.scripts.start.trim().split(/\s+/);
})();
const START_NODE_AT = START_WORDS.indexOf('node');

/**
 * The node flags of `npm start` (the words between `node` and the script in
 * package.json's `start`), so the service under test runs with the V8 heap
 * settings it is deployed with.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = START_WORDS.slice(START_NODE_AT + 1).filter((w) =>
  w.startsWith('--'),
);

/**
 * The environment settings of `npm start` (the `NAME=value` words before
 * `node` in package.json's `start`, e.g. the glibc malloc tunables), so the
 * service under test gets the same allocator behaviour as deployed.
 */
export const SERVICE_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  START_WORDS.slice(0, Math.max(0, START_NODE_AT)).map((w) => {
    const eq = w.indexOf('=');
    return [w.slice(0, eq), w.slice(eq + 1)];
  }),
);

/** Cleanups run in reverse order, once: at the end, on failure and on Ctrl-C (see {@link runBench}). */
const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
let cleaned: Promise<void> | null = null;

export function onCleanup(what: string, run: () => Promise<unknown>): void {
  cleanups.push({ what, run });
}

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

/** Runs `main`, cleans up (also on Ctrl-C) and exits: kafkajs and mariadb leave timers behind. */
export async function runBench(main: () => Promise<void>): Promise<never> {
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
  process.exit(exitCode);
}

/** A fresh `PARTITIONS`-partition topic named after `prefix` (+ .dlq) and a fresh migrated database, both removed at the end. */
export async function createBenchTopicAndDatabase(prefix: string): Promise<{ topic: TestTopic; db: TestDatabase }> {
  const topic = await createTestTopic(prefix, PARTITIONS);
  onCleanup(`topics ${topic.topic}(.dlq)`, () => topic.delete());
  const db = await createTestDatabase();
  onCleanup(`database ${db.name}`, () => db.drop());
  return { topic, db };
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15), in CPU seconds; null when not readable. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime = field 14 -> index 11, stime = field 15 -> index 12; 100 ticks/s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * The machine's CPU time since boot from /proc/stat's `cpu` line, seconds summed
 * over all cores: `busy` (everything but idle and iowait) and `total`. Null
 * when unreadable.
 */
export function machineCpuSeconds(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    // user nice system idle iowait irq softirq steal; guest and guest_nice are already inside user and nice.
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    // Fields 4 and 5 (index 3 and 4) are idle and iowait; 100 ticks per second on Linux.
    return { busy: (total - ticks[3] - ticks[4]) / 100, total: total / 100 };
  } catch {
    return null;
  }
}

/**
 * Seconds the main thread of `pid` (the JavaScript thread of a Node process) has
 * spent runnable but waiting for a CPU, since it started: the second field of
 * /proc/<pid>/schedstat (nanoseconds). Null when unreadable (not Linux, no
 * schedstats, the process is gone).
 */
export function runQueueWaitSeconds(pid: number): number | null {
  try {
    const waitedNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(waitedNs) ? waitedNs / 1e9 : null;
  } catch {
    return null;
  }
}

/** A `Vm*` line of /proc/<pid>/status in MiB, or null. */
export function procStatusMiB(pid: number, key: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** What {@link fillBenchTopic} did. */
export interface FillResult {
  /** From the first send to the last ack (flush records included), ms. */
  ms: number;
  /** Keys + values written (flush records not counted), bytes. */
  bytes: number;
  /** Each partition's high watermark after the fill. */
  latest: Map<number, number>;
  /** Records in the topic (the sum of `latest`). */
  total: number;
}

/**
 * Writes `records` (exactly `count` of them) with `fillTopic` (batches of
 * `batchSize`, up to 4 in flight, acks=all, no compression), then `flush`
 * (explicit partitions, acks=all) when given, then reads the high watermarks.
 * @throws when fewer or more records were written, or the topic holds other than `count` + `flush.length`
 */
export async function fillBenchTopic(opts: {
  topic: string;
  records: Iterable<FillRecord>;
  count: number;
  batchSize: number;
  flush?: { key: string; partition: number; value: string }[];
}): Promise<FillResult> {
  let bytes = 0;
  function* counted(): Generator<FillRecord> {
    for (const r of opts.records) {
      bytes += r.value.length + (r.key?.length ?? 0);
      yield { key: r.key, value: r.value };
    }
  }
  const flush = opts.flush ?? [];
  const started = performance.now();
  const written = await fillTopic({
    brokers: KAFKA_BROKERS,
    topic: opts.topic,
    records: counted(),
    batchSize: opts.batchSize,
  });
  if (written.count !== opts.count) throw new Error(`fillTopic wrote ${written.count} records, expected ${opts.count}`);
  if (flush.length > 0) await produce(opts.topic, flush);
  const ms = performance.now() - started;
  const latest = await latestOffsets(opts.topic);
  const total = sumOffsets(latest);
  if (total !== opts.count + flush.length)
    throw new Error(`topic holds ${total} records, expected ${opts.count + flush.length}`);
  return { ms, bytes, latest, total };
}

/** Prints the fill's result line; `detail` (what the records hold) goes in parentheses after the count. */
export function logFill(f: FillResult, detail?: string): void {
  log(
    `   ${fmtInt(f.total)} records${detail ? ` (${detail})` : ''}, ${(f.bytes / MiB).toFixed(1)} MiB of keys+values in ${fmtSec(f.ms)}: ${fmtRate(f.total, f.ms)} ` +
      `(${(f.bytes / MiB / (f.ms / 1000)).toFixed(1)} MiB/s); per partition ${[...f.latest.values()].map(fmtInt).join(' / ')}`,
  );
}

/** What {@link rawConsume} measured. */
export interface RawResult {
  /** From calling run() to the last record, ms. */
  ms: number;
  /** Part of `ms` spent in run() itself (group join + sync), ms. */
  joinMs: number;
  batches: number;
  messages: number;
  /** CPU of this process (user + system) over `ms`, seconds. */
  cpuSec: number;
}

/**
 * Reads the whole topic with a plain kafkajs consumer (fresh group,
 * fromBeginning, count + resolveOffset only) with the service's fetch
 * settings: the ceiling Kafka + kafkajs set on this machine.
 */
export async function rawConsume(topic: string, total: number): Promise<RawResult> {
  const groupId = randomName('bench-raw');
  const consumer = createKafka(KAFKA_BROKERS, groupId).consumer({
    groupId,
    sessionTimeout: SERVICE_FETCH.sessionTimeoutMs,
    heartbeatInterval: SERVICE_FETCH.heartbeatIntervalMs,
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
    const finished = new Promise<number>((resolve) => {
      done = resolve;
    });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: SERVICE_FETCH.partitionsConsumedConcurrently,
      // eslint-disable-next-line @typescript-eslint/unbound-method -- kafkajs resolveOffset is a closure, not a method
      eachBatch: async ({ batch, resolveOffset }) => {
        const n = batch.messages.length;
        if (n === 0) return;
        messages += n;
        batches++;
        resolveOffset(batch.messages[n - 1].offset);
        if (messages >= total) done(performance.now());
      },
    });
    const joinMs = performance.now() - started;
    const timeout = sleep(Math.max(120_000, total / 10)).then(() => {
      throw new Error(`raw consumer: only ${messages} of ${total} records after the timeout`);
    });
    const end = await Promise.race([finished, timeout]);
    const cpu = process.cpuUsage(cpuBefore);
    return { ms: end - started, joinMs, batches, messages, cpuSec: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await consumer.disconnect();
    const admin = await connectAdmin();
    await admin.deleteGroups([groupId]).catch(() => undefined); // best effort: a leftover group holds no data
    await admin.disconnect();
  }
}

/**
 * Step 2 of every bench: {@link rawConsume} of the whole topic with its two
 * log lines, or null (and nothing printed) with `skip`.
 */
export async function rawStep(topic: string, total: number, skip: boolean): Promise<RawResult | null> {
  if (skip) return null;
  log('2. raw    plain kafkajs consumer (count + resolveOffset), service fetch settings …');
  const raw = await rawConsume(topic, total);
  log(
    `   ${fmtInt(raw.messages)} records in ${fmtSec(raw.ms)} from run() (join ${fmtSec(raw.joinMs)}): ${fmtRate(raw.messages, raw.ms)}; ` +
      `${fmtInt(raw.batches)} batches, ${fmtInt(raw.messages / Math.max(1, raw.batches))} records/batch; CPU ${raw.cpuSec.toFixed(1)} s (${coreShare(raw.cpuSec, raw.ms)}% of one core)`,
  );
  return raw;
}

/**
 * Committed progress of `group` as `consumer_offset` holds it, over the
 * bench's own connection (polled every 20-100 ms). `done` also needs
 * replay_from = next_offset, for every job.
 */
export async function committedProgress(
  conn: Connection,
  group: string,
  latest: Map<number, number>,
): Promise<JobProgress> {
  const rows: OffsetRow[] = await conn.query(
    'SELECT `partition`, next_offset, replay_from FROM consumer_offset WHERE group_id = ?',
    [group],
  );
  return progressOf(rows, latest, true);
}

/** What {@link timeService} measured. */
export interface ServiceRun {
  /** Spawn to ready (every partition claimed), ms. */
  startupMs: number;
  /** Ready to every partition's committed next_offset = latest, ms. */
  ms: number;
  /** Spawn to the end, ms. */
  fromSpawnMs: number;
  peakRssMiB: number | null;
  /** Service CPU (utime + stime) between ready and done, seconds. */
  cpuSec: number | null;
  /** Lines at warn or above the service logged. */
  warnLines: number;
  exitCode: number | null;
  /** SIGTERM to exit, ms. */
  stopMs: number;
  /** The service's `/metrics` text read just before SIGTERM (with `metricsPort`), else null. */
  metrics: string | null;
}

/** A TCP port free on 127.0.0.1 right now (for the service's `PORT`, to read its `/metrics`). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** The value of the Prometheus series `name` summed over every label set in `metricsText`. */
export function sumMetric(metricsText: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name + '{') || !line.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Runs `node dist/src/main.js` (ROLES=worker, LOG_LEVEL=warn, PORT=0,
 * DATABASE_URL=`dbUrl` plus `env`) as a child process and times it: "ready"
 * is the moment every partition of `group` has a `consumer_offset` row
 * (claimed on the group join, just before fetching starts: there is no
 * info-level "service ready" line at warn), "done" when every committed
 * next_offset reached `latest` (see {@link committedProgress}). Then SIGTERM.
 * Progress is printed every 10 s.
 */
export async function timeService(opts: {
  /** The database the service writes to; polled through one connection of its own. */
  dbUrl: string;
  group: string;
  latest: Map<number, number>;
  total: number;
  env: Record<string, string>;
  cpuProfDir?: string | null;
  serviceLogs?: boolean;
  /** The service's `PORT`: its `/metrics` are read just before SIGTERM. Omitted: PORT=0, not read. */
  metricsPort?: number;
}): Promise<ServiceRun> {
  const { group, latest, total } = opts;
  const conn = await createConnection({ ...parseDatabaseUrl(opts.dbUrl), connectTimeout: 5_000 });
  onCleanup('poll connection', () => conn.end());
  const main = path.resolve(import.meta.dirname, '../src/main.js');
  const nodeArgs = [
    ...SERVICE_NODE_FLAGS,
    ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
  ];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main], {
    env: {
      ...process.env,
      ...SERVICE_ENV,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      REDIS_URL,
      ROLES: 'worker',
      LOG_LEVEL: 'warn',
      PORT: String(opts.metricsPort ?? 0),
      DATABASE_URL: opts.dbUrl,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  // Last in, first out: the process is killed before its group is deleted.
  onCleanup('kafka group', async () => {
    const admin = await connectAdmin();
    await admin.deleteGroups([group]).catch(() => undefined); // best effort: a leftover group holds no data
    await admin.disconnect();
  });
  onCleanup('service process', () => kill('SIGKILL'));

  let warnLines = 0;
  const lastLines: string[] = [];
  const keep = (line: string) => {
    lastLines.push(line);
    if (lastLines.length > 10) lastLines.shift();
    if (opts.serviceLogs) process.stderr.write(`[service ${child.pid}] ${line}\n`);
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    warnLines++;
    keep(line);
  });
  createInterface({ input: child.stderr! }).on('line', keep);
  let dead = false as boolean; // set by the exit callback, which the type narrowing does not see
  void exited.then(() => {
    dead = true;
  });
  const died = () =>
    new Error(
      `the service exited (code ${child.exitCode}, signal ${child.signalCode}); last output:\n${lastLines.join('\n')}`,
    );

  let p = await committedProgress(conn, group, latest);
  while (p.claimed < latest.size) {
    if (dead) throw died();
    if (performance.now() - spawnedAt > 120_000)
      throw new Error(
        `the service claimed ${p.claimed} of ${latest.size} partitions after 120 s; last output:\n${lastLines.join('\n')}`,
      );
    await sleep(20);
    p = await committedProgress(conn, group, latest);
  }
  const readyAt = performance.now();
  const cpuAtReady = cpuSeconds(child.pid!);

  let lastReport = readyAt;
  const deadline = readyAt + Math.max(600_000, total / 100);
  while (!p.done) {
    if (dead) throw died();
    const now = performance.now();
    if (now > deadline)
      throw new Error(`end to end: only ${p.consumed} of ${total} records committed after ${fmtSec(now - readyAt)}`);
    if (now - lastReport >= 10_000) {
      lastReport = now;
      log(
        `   … ${fmtInt(p.consumed)} / ${fmtInt(total)} committed after ${fmtSec(now - readyAt)} (${fmtRate(p.consumed, now - readyAt)}, RSS ${procStatusMiB(child.pid!, 'VmRSS')?.toFixed(0) ?? '?'} MiB)`,
      );
    }
    await sleep(100);
    p = await committedProgress(conn, group, latest);
  }
  const doneAt = performance.now();
  const cpuAtDone = cpuSeconds(child.pid!);
  const peakRssMiB = procStatusMiB(child.pid!, 'VmHWM');
  const metrics =
    opts.metricsPort === undefined
      ? null
      : await fetch(`http://127.0.0.1:${opts.metricsPort}/metrics`)
          .then((r) => r.text())
          .catch(() => null);
  const stopAt = performance.now();
  const exitCode = await Promise.race([kill('SIGTERM'), sleep(30_000).then(() => kill('SIGKILL'))]);
  const stopMs = performance.now() - stopAt;
  return {
    startupMs: readyAt - spawnedAt,
    ms: doneAt - readyAt,
    fromSpawnMs: doneAt - spawnedAt,
    peakRssMiB,
    cpuSec: cpuAtReady !== null && cpuAtDone !== null ? cpuAtDone - cpuAtReady : null,
    warnLines,
    exitCode,
    stopMs,
    metrics,
  };
}

/**
 * Step 3 of every bench: {@link timeService} (`opts.env` names the job in
 * `JOBS`) with its header line and two result lines.
 */
export async function serviceStep(opts: Parameters<typeof timeService>[0] & { dbName: string }): Promise<ServiceRun> {
  log(`3. e2e    service (ROLES=worker, JOBS=${opts.env.JOBS}, LOG_LEVEL=warn) -> database ${opts.dbName} …`);
  log(
    `   as npm start runs it: ${Object.entries(SERVICE_ENV)
      .map(([k, v]) => `${k}=${v} `)
      .join('')}node ${SERVICE_NODE_FLAGS.join(' ')}`,
  );
  const e = await timeService(opts);
  log(
    `   ready after ${fmtSec(e.startupMs)}; ${fmtInt(opts.total)} records committed in ${fmtSec(e.ms)} from ready: ${fmtRate(opts.total, e.ms)} ` +
      `(${fmtRate(opts.total, e.fromSpawnMs)} from spawn)`,
  );
  log(
    `   service CPU ${e.cpuSec?.toFixed(1) ?? '?'} s over ${fmtSec(e.ms)} (${e.cpuSec !== null ? coreShare(e.cpuSec, e.ms) : '?'}% of one core); ` +
      `peak RSS ${e.peakRssMiB?.toFixed(0) ?? '?'} MiB; ` +
      `SIGTERM -> exit ${fmtSec(e.stopMs)}, exit code ${e.exitCode}; ${e.warnLines} log lines at warn or above`,
  );
  return e;
}

/**
 * The summary rows every bench prints: records, fill rate, raw consume rate,
 * end-to-end rate, end-to-end / raw, CPU per record (raw consumer and
 * service) and the service's peak RSS.
 */
export function summaryRows(total: number, fill: FillResult, raw: RawResult | null, e: ServiceRun): [string, string][] {
  const rawRate = raw ? raw.messages / (raw.ms / 1000) : null;
  const e2eRate = total / (e.ms / 1000);
  return [
    ['records', fmtInt(total)],
    ['fill rate', fmtRate(total, fill.ms)],
    ['raw consume rate', raw ? fmtRate(raw.messages, raw.ms) : 'skipped'],
    ['end-to-end rate', `${fmtInt(e2eRate)} rec/s`],
    ['end-to-end / raw', rawRate ? `${((100 * e2eRate) / rawRate).toFixed(0)}%` : '-'],
    // CPU seconds per record barely move when other processes compete for the cores; the rates do.
    [
      'CPU per record',
      `raw ${raw ? usPerRecord(raw.cpuSec, raw.messages) : '-'}, service ${e.cpuSec !== null ? usPerRecord(e.cpuSec, total) : '?'}`,
    ],
    ['service peak RSS', e.peakRssMiB !== null ? `${e.peakRssMiB.toFixed(0)} MiB` : '?'],
  ];
}

/** Prints `rows` as a two-column table after a blank line, the names padded to the longest. */
export function printTable(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  log('');
  for (const [k, v] of rows) log(`  ${k.padEnd(width)}  ${v}`);
}

/** The last `max` lines added (a child process's output, shown when it dies). */
export const lastLines = (max: number) => {
  const lines: string[] = [];
  return {
    add: (l: string) => {
      lines.push(l);
      if (lines.length > max) lines.shift();
    },
    text: () => lines.join('\n'),
  };
};

/** Stops `child`: SIGTERM, then SIGKILL after `graceMs` milliseconds. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
