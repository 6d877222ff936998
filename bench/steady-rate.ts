// `npm run bench:steady [-- --partitions 3,12 --backlog-records N --rate N --warmup S --duration S]`:
// what the worker's commits cost at a STEADY rate against reading a BACKLOG,
// for several partition counts per topic, from one run.
//
// For each partition count P of --partitions, one after the other:
//   0. setup     three fresh P-partition topics (behaviour, recharge, clicks, each
//                with its .dlq), a fresh migrated database and four fresh consumer
//                groups
//   1. backlog   with no worker running, three `scripts/produce.js` child processes
//                write --backlog-records records in all (a third per topic, the
//                sample generators and mix of bench:api) as fast as they manage up
//                to a cap (--count, see BACKLOG_RATE_CAP); then the worker starts
//                (`node dist/src/main.js`, ROLES=worker, all four jobs, the fresh
//                groups) and the bench reads its CPU (utime + stime of
//                /proc/<pid>/stat) from the moment it claims its first partition
//                (ready: fetching starts right after) until every job's committed
//                position in `consumer_offset` equals the topics' end offsets (lag
//                0, polled every 100 ms): backlog CPU per record
//   2. steady    the same worker; three producers write --rate records/s in all (a
//                third per topic) for --warmup seconds unmeasured, then for
//                --duration seconds the bench reads the records committed (the sum of
//                `consumer_offset.next_offset` over the four groups), the worker's
//                and MariaDB's CPU (the mariadbd process serving the database), the
//                server's transaction commits (`Com_commit`), deadlocks
//                (`Innodb_deadlocks`) and row lock waits (`Innodb_row_lock_waits`)
//                of SHOW GLOBAL STATUS, and the worker's `rt_commit_retries_total`
//                by job and code from its /metrics: steady CPU per record
//   3. stop      the producers, the worker, the topics, the database, the groups and
//                the jobs' Redis keys of this P are removed before the next P starts
//   4. tables    per P the backlog and the steady phase; then one summary row per P:
//                steady and backlog CPU per record (µs) and their ratio (target <= 2),
//                DB transactions/s, MariaDB and worker CPU (% of one core), deadlocks,
//                lock waits, retries by code; then each P's DB transactions/s and
//                worker CPU over the first P's (target <= 1.25 each). `--json` prints
//                the same as one JSON document on stdout (the log goes to stderr)
//
// A "record" is a record committed by one job: the sum of `next_offset` over the
// four groups, so a behaviour record counts twice (abnormal-orders and
// daily-active-users both read it). Both phases count the same way and have the
// same mix, so the ratio is the same as per record produced.
//
// MariaDB's CPU and its status counters are the whole server's: anything else using
// it meanwhile (another test run) counts too; the output says so.
//
// The worker gets the bench's environment (COMMIT_INTERVAL_MS, TRANSACTION_MAX_RECORDS
// ... set there reach it), npm start's allocator settings and node flags, and the
// run's topics, groups, database, KAFKA_TOPIC_PARTITIONS=P and LOG_LEVEL=warn on top.
//
// Everything it creates (topics, databases, groups, Redis keys, processes) is
// random or its own and is removed at the end, also on failure, on Ctrl-C and when
// the run exceeds its time bound. All traffic stays on 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { createConnection, type Connection } from 'mariadb';
import { loadConfig } from '../src/app-config.js';
import { partitionStatsKey } from '../src/observability/partition-stats.js';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import { RECHARGE_KEY_PREFIX } from '../src/jobs/recharge-metrics/recharge-serving-cache.js';
import {
  connectAdmin,
  createTestDatabase,
  createTestTopic,
  KAFKA_BROKERS,
  randomName,
  REDIS_URL,
} from '../test/helpers/services.js';
import {
  cpuSeconds,
  fmtInt,
  freePort,
  intFlag,
  machineCpuSeconds,
  machineLine,
  onCleanup,
  runBench,
  SERVICE_ENV,
  SERVICE_NODE_FLAGS,
  sleep,
  stopChild,
  lastLines,
  sumMetric,
} from './bench-kit.js';

const USAGE = `usage: npm run bench:steady -- [--partitions LIST] [--backlog-records N] [--rate N] [--warmup S] [--duration S] [--json] [--service-logs]

  --partitions LIST     comma-separated partition counts per topic, each run in turn with fresh topics,
                        database and groups; the ratios are to the first (default 3,12)
  --backlog-records N   records produced before the worker starts, a third per topic (default 150000)
  --rate N              records/s produced in all in the steady phase, a third per topic (default 5000)
  --warmup S            seconds of steady production before the measurement (default 5)
  --duration S          seconds of the steady measurement (default 30)
  --json                print the results as one JSON document on stdout (the log goes to stderr)
  --service-logs        copy the worker's log lines (LOG_LEVEL=warn) and the producers' to stderr
  --cpu-prof DIR        run the worker under \`node --cpu-prof --cpu-prof-dir DIR\` (a profile per partition count)
  --workers N           worker processes sharing the four jobs (default 1); CPU and retries are their sums

The worker runs with the bench's environment: e.g. COMMIT_INTERVAL_MS=500 npm run bench:steady`;

interface SteadyArgs {
  partitions: number[];
  backlogRecords: number;
  rate: number;
  warmupSec: number;
  durationSec: number;
  json: boolean;
  serviceLogs: boolean;
  /** Absolute directory for the worker's `node --cpu-prof`, or null. */
  cpuProf: string | null;
  /** Worker processes sharing the jobs. */
  workers: number;
}

function parseCommandLine(): SteadyArgs {
  const { values } = parseArgs({
    options: {
      partitions: { type: 'string', default: '3,12' },
      'backlog-records': { type: 'string' },
      rate: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean', default: false },
      'service-logs': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, def: number, min: number) => intFlag(name, raw, def, min, USAGE);
  const partitions = values.partitions.split(',').map((p) => int('partitions', p.trim(), 0, 1));
  if (new Set(partitions).size !== partitions.length)
    throw new Error(`--partitions: each count once, got ${JSON.stringify(values.partitions)}\n${USAGE}`);
  return {
    partitions,
    backlogRecords: int('backlog-records', values['backlog-records'], 150_000, 3),
    rate: int('rate', values.rate, 5_000, 3),
    warmupSec: int('warmup', values.warmup, 5, 0),
    durationSec: int('duration', values.duration, 30, 1),
    json: values.json,
    serviceLogs: values['service-logs'],
    cpuProf: typeof values['cpu-prof'] === 'string' ? path.resolve(values['cpu-prof']) : null,
    workers: int('workers', values.workers, 1, 1),
  };
}

/**
 * Most records/s of one backlog producer per partition of its topic. produce.js
 * sends at most one second's worth in one request when it falls behind, and the
 * broker refuses a record batch (one per partition) above `message.max.bytes`
 * (1 MiB by default): 2,500 recharge records of about 260 bytes are 0.65 MB.
 */
const BACKLOG_RATE_PER_PARTITION = 2_500;
/** Most records/s of one backlog producer, whatever the partition count. */
const BACKLOG_RATE_CAP = 20_000;

/** The worker settings the header prints (as the worker resolves them from its environment). */
const SHOWN_SETTINGS = [
  'COMMIT_INTERVAL_MS',
  'TRANSACTION_MAX_RECORDS',
  'TRANSACTION_MAX_DELAY_MS',
  'KAFKA_MIN_BYTES',
  'KAFKA_MAX_WAIT_MS',
  'KAFKA_MAX_BYTES_PER_PARTITION',
  'KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY',
  'POST_COMMIT_MAX_PENDING',
  'JOB_TICK_INTERVAL_MS',
  'CHANGE_LOG',
] as const;

const JOBS = ['abnormal-orders', 'recharge-metrics', 'hot-products', 'daily-active-users'] as const;
type JobName = (typeof JOBS)[number];
type TopicKind = 'behavior' | 'recharge' | 'clicks';
/** The topic each job reads. */
const JOB_TOPIC: Record<JobName, TopicKind> = {
  'abnormal-orders': 'behavior',
  'recharge-metrics': 'recharge',
  'hot-products': 'clicks',
  'daily-active-users': 'behavior',
};

/** The SHOW GLOBAL STATUS counters the bench reads. */
const STATUS_NAMES = ['Com_commit', 'Handler_commit', 'Innodb_deadlocks', 'Innodb_row_lock_waits'] as const;
type StatusName = (typeof STATUS_NAMES)[number];
/** Each counter's value, or null when the server does not have it. */
type ServerStatus = Record<StatusName, number | null>;

/** What one phase measured; CPU in seconds, times in milliseconds. */
interface PhaseResult {
  /** Records committed by the four jobs (the sum of next_offset over the groups), over the phase. */
  records: number;
  /** Records written to the three topics over the phase. */
  produced: number;
  ms: number;
  workerCpuSec: number | null;
  /** CPU of the mariadbd process over the phase (shared with anything else using the server). */
  mariadbCpuSec: number | null;
  /** Busy CPU time of the whole machine over the phase, % of all its cores. */
  machineBusyPct: number | null;
  /**
   * Explicit COMMITs the server ran (Com_commit): the database transactions.
   * Why not Handler_commit: see {@link readStatus}.
   */
  commits: number | null;
  /** Handler_commit: InnoDB statement and transaction commits together, the bench's own queries included. */
  handlerCommits: number | null;
  deadlocks: number | null;
  lockWaits: number | null;
  /** rt_commit_retries_total over the phase, per `job code`; null when /metrics was not readable. */
  retries: Record<string, number> | null;
  /** rt_records_committed_total over the phase (the worker's own count, to compare with `records`). */
  metricRecords: number | null;
}

interface PartitionResult {
  partitions: number;
  backlog: PhaseResult;
  steady: PhaseResult;
  /** Offered records/s of the steady phase, to the three topics. */
  offeredRps: number;
}

/** One server-wide snapshot at an instant of a phase. */
interface Snapshot {
  at: number;
  workerCpu: number | null;
  mariadbCpu: number | null;
  machine: { busy: number; total: number } | null;
  status: ServerStatus;
  /** Sum of next_offset over the four groups. */
  committed: number;
  metrics: string | null;
  produced: number;
}

/** Set when the bench stops (Ctrl-C or its time bound): nothing new may start. */
let aborted = false;
process.once('SIGINT', () => {
  aborted = true;
});

/**
 * Cleanups of one partition count, run in reverse order when it ends, and by the
 * bench's cleanup (runBench) when it fails, gets Ctrl-C or exceeds its time bound.
 */
class Scope {
  private readonly steps: { what: string; run: () => Promise<unknown> }[] = [];
  private closed: Promise<void> | null = null;

  constructor(what: string) {
    onCleanup(what, () => this.close());
  }

  add(what: string, run: () => Promise<unknown>): void {
    if (this.closed) {
      // Added while (or after) closing: run it now, nothing else will.
      void run().catch((err: unknown) => console.error(`cleanup: ${what} failed: ${String(err)}`));
      return;
    }
    this.steps.push({ what, run });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      for (const s of this.steps.reverse()) {
        try {
          await s.run();
        } catch (err) {
          console.error(`cleanup: ${s.what} failed: ${String(err)}`);
        }
      }
    })();
    return this.closed;
  }
}

/** A child process of the bench, stopped (SIGTERM, SIGKILL after `graceMs`) when `scope` closes. */
function startChild(
  scope: Scope,
  name: string,
  args: string[],
  env: Record<string, string>,
  graceMs: number,
  logs: boolean,
) {
  if (aborted) throw new Error(`stopped before starting ${name}`);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(','), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping = false;
  const stop = () => {
    stopping = true;
    return stopChild(child, exited, graceMs);
  };
  scope.add(`${name} process`, stop);
  const tail = lastLines(10);
  const keep = (line: string) => {
    tail.add(line);
    if (logs) process.stderr.write(`[${name} ${child.pid}] ${line}\n`);
  };
  createInterface({ input: child.stdout }).on('line', keep);
  createInterface({ input: child.stderr }).on('line', keep);
  const dead = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    pid: child.pid!,
    exited,
    stop,
    stopping: () => stopping,
    dead,
    died: () =>
      new Error(
        `the ${name} process exited (code ${child.exitCode}, signal ${child.signalCode}); last output:\n${tail.text()}`,
      ),
  };
}

type Child = ReturnType<typeof startChild>;

/**
 * `scripts/produce.js --kind <kind> --topic <topic> --rate <rate>` (plus `extra`),
 * with `KAFKA_TOPIC_PARTITIONS`=`partitions` as the service gets it; stopped when
 * `scope` closes (SIGTERM flushes it).
 */
function startProducer(
  scope: Scope,
  kind: TopicKind,
  topic: string,
  rate: number,
  partitions: number,
  extra: string[],
  logs: boolean,
): Child {
  const script = path.resolve(import.meta.dirname, '../scripts/produce.js');
  const p = startChild(
    scope,
    `producer ${kind}`,
    [script, '--kind', kind, '--topic', topic, '--rate', String(rate), ...extra],
    { KAFKA_TOPIC_PARTITIONS: String(partitions) },
    10_000,
    logs,
  );
  void p.exited.then((code) => {
    if (!p.stopping() && code !== 0 && !aborted) console.error(p.died().message);
  });
  return p;
}

/** The clicks start an hour back in event time, as in bench:api (hot-products ranks the past hour). */
const clicksArgs = () => ['--start', new Date(Date.now() - 3_600_000).toISOString()];

/** `total` records split over the three topics as bench:api splits its rate: a third each, the rest to behaviour. */
function split(total: number): Record<TopicKind, number> {
  const third = Math.floor(total / 3);
  return { behavior: total - 2 * third, recharge: third, clicks: third };
}

/**
 * The pid of the MariaDB (or MySQL) server at `dbUrl`: its `@@pid_file`, else the
 * one `mariadbd` / `mysqld` process of the machine; null when neither tells.
 */
async function serverPid(conn: Connection): Promise<{ pid: number; how: string } | null> {
  try {
    const [row] = await conn.query<{ f: string | null }[]>('SELECT @@pid_file AS f');
    if (row.f) {
      const pid = Number(readFileSync(row.f, 'utf8').trim());
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') return { pid, how: `@@pid_file ${row.f}` };
    }
  } catch {
    // no pid file readable here: look for the process
  }
  for (const name of ['mariadbd', 'mysqld']) {
    try {
      const pids = execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      if (pids.length === 1) return { pid: Number(pids[0]), how: `the only ${name} process` };
    } catch {
      // pgrep exits 1 when nothing matches
    }
  }
  return null;
}

/**
 * The server's counters. The transactions are `Com_commit`, the explicit COMMIT
 * statements: every batch transaction of the worker is a Prisma interactive
 * transaction, which @prisma/adapter-mariadb runs as `BEGIN` ... `COMMIT`.
 * `Handler_commit` does not count InnoDB transactions on MariaDB: it counts one
 * commit per statement inside a transaction (InnoDB's statement-level commit)
 * plus one per transaction, and one per autocommit statement, reads included
 * (measured on MariaDB 10.11: `BEGIN; UPDATE; UPDATE; COMMIT` adds 3 to
 * Handler_commit and 1 to Com_commit, an autocommit SELECT adds 1 to
 * Handler_commit and 0 to Com_commit), so it grows with statements, the
 * bench's own polling among them. Com_commit misses autocommit writes; the
 * worker makes none per batch (its claims and control reads are not on the
 * commit path). `Innodb_deadlocks` exists on MariaDB (not on MySQL, where it
 * reads null).
 */
async function readStatus(conn: Connection): Promise<ServerStatus> {
  const rows = await conn.query<{ Variable_name: string; Value: string }[]>(
    'SHOW GLOBAL STATUS WHERE Variable_name IN (?)',
    [[...STATUS_NAMES]],
  );
  const byName = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), Number(r.Value)]));
  return Object.fromEntries(STATUS_NAMES.map((n) => [n, byName.get(n.toLowerCase()) ?? null])) as ServerStatus;
}

/** rt_commit_retries_total of a /metrics text, per `job code`. */
function retriesOf(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('rt_commit_retries_total{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? '?';
    const key = `${label('job')} ${label('code')}`;
    // Summed: the text may hold the metrics of several workers one after the other.
    out[key] = (out[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

/** `after` - `before` per key, zeros left out. */
function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Retries summed per code over the jobs: `MYSQL_1213 3, P2034 1`, or `0`. */
function retriesByCode(retries: Record<string, number> | null): string {
  if (retries === null) return '?';
  const byCode = new Map<string, number>();
  for (const [k, v] of Object.entries(retries)) {
    const code = k.slice(k.indexOf(' ') + 1);
    byCode.set(code, (byCode.get(code) ?? 0) + v);
  }
  return byCode.size === 0 ? '0' : [...byCode].map(([c, n]) => `${c} ${fmtInt(n)}`).join(', ');
}

async function fetchMetrics(port: number): Promise<string | null> {
  return fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })
    .then((r) => (r.ok ? r.text() : null))
    .catch(() => null);
}

const delta = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);

function phaseOf(s0: Snapshot, s1: Snapshot): PhaseResult {
  const r0 = s0.metrics === null ? null : retriesOf(s0.metrics);
  const r1 = s1.metrics === null ? null : retriesOf(s1.metrics);
  return {
    records: s1.committed - s0.committed,
    produced: s1.produced - s0.produced,
    ms: s1.at - s0.at,
    workerCpuSec: delta(s0.workerCpu, s1.workerCpu),
    mariadbCpuSec: delta(s0.mariadbCpu, s1.mariadbCpu),
    machineBusyPct:
      s0.machine && s1.machine && s1.machine.total > s0.machine.total
        ? (100 * (s1.machine.busy - s0.machine.busy)) / (s1.machine.total - s0.machine.total)
        : null,
    commits: delta(s0.status.Com_commit, s1.status.Com_commit),
    handlerCommits: delta(s0.status.Handler_commit, s1.status.Handler_commit),
    deadlocks: delta(s0.status.Innodb_deadlocks, s1.status.Innodb_deadlocks),
    lockWaits: delta(s0.status.Innodb_row_lock_waits, s1.status.Innodb_row_lock_waits),
    retries: r1 === null ? null : counterDelta(r0 ?? {}, r1),
    metricRecords:
      s1.metrics === null
        ? null
        : sumMetric(s1.metrics, 'rt_records_committed_total') -
          (s0.metrics === null ? 0 : sumMetric(s0.metrics, 'rt_records_committed_total')),
  };
}

/** Derived figures of a phase (CPU as % of one core); null where an input is missing. */
function figures(p: PhaseResult) {
  const sec = p.ms / 1000;
  return {
    cpuUsPerRecord: p.workerCpuSec !== null && p.records > 0 ? (p.workerCpuSec * 1e6) / p.records : null,
    workerCpuPct: p.workerCpuSec !== null ? (100 * p.workerCpuSec) / sec : null,
    mariadbCpuPct: p.mariadbCpuSec !== null ? (100 * p.mariadbCpuSec) / sec : null,
    txPerSec: p.commits !== null ? p.commits / sec : null,
    handlerCommitsPerSec: p.handlerCommits !== null ? p.handlerCommits / sec : null,
    recordsPerSec: p.records / sec,
    producedPerSec: p.produced / sec,
    recordsPerTx: p.commits ? p.records / p.commits : null,
  };
}

const show = (v: number | null, digits = 0) => (v === null ? '?' : digits === 0 ? fmtInt(v) : v.toFixed(digits));

/** Prints `rows` under `head` after a blank line, the first column left-aligned, the others right-aligned. */
function printColumns(head: string[], rows: string[][], say: (line: string) => void): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i].length)));
  const line = (c: string[]) =>
    `  ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ')}`;
  say('');
  say(line(head));
  for (const c of rows) say(line(c));
}

function printPartitionTable(r: PartitionResult, say: (line: string) => void): void {
  const row = (name: string, p: PhaseResult) => {
    const f = figures(p);
    return [
      name,
      show(p.records),
      (p.ms / 1000).toFixed(1),
      show(f.recordsPerSec),
      show(f.cpuUsPerRecord, 1),
      show(f.workerCpuPct),
      show(f.mariadbCpuPct),
      show(p.machineBusyPct),
      show(f.txPerSec, 1),
      show(f.recordsPerTx),
      show(f.handlerCommitsPerSec),
      show(p.deadlocks),
      show(p.lockWaits),
      retriesByCode(p.retries),
    ];
  };
  say('');
  say(`  P = ${r.partitions} partitions per topic`);
  printColumns(
    [
      'phase',
      'records',
      'seconds',
      'records/s',
      'worker CPU/record (µs)',
      'worker CPU (% core)',
      'MariaDB CPU (% core)',
      'machine busy (%)',
      'DB tx/s',
      'records/tx',
      'Handler_commit/s',
      'deadlocks',
      'lock waits',
      'retries by code',
    ],
    [row('backlog', r.backlog), row('steady', r.steady)],
    say,
  );
}

/** One row of the summary: the steady phase of one partition count, CPU as % of one core. */
interface SummaryRow {
  partitions: number;
  steadyCpuUsPerRecord: number | null;
  backlogCpuUsPerRecord: number | null;
  steadyOverBacklog: number | null;
  dbTxPerSec: number | null;
  mariadbCpuPct: number | null;
  workerCpuPct: number | null;
  deadlocks: number | null;
  lockWaits: number | null;
  retriesByCode: string;
}

function summaryRows(results: PartitionResult[]): SummaryRow[] {
  return results.map((r) => {
    const s = figures(r.steady);
    const b = figures(r.backlog);
    return {
      partitions: r.partitions,
      steadyCpuUsPerRecord: s.cpuUsPerRecord,
      backlogCpuUsPerRecord: b.cpuUsPerRecord,
      steadyOverBacklog: s.cpuUsPerRecord !== null && b.cpuUsPerRecord ? s.cpuUsPerRecord / b.cpuUsPerRecord : null,
      dbTxPerSec: s.txPerSec,
      mariadbCpuPct: s.mariadbCpuPct,
      workerCpuPct: s.workerCpuPct,
      deadlocks: r.steady.deadlocks,
      lockWaits: r.steady.lockWaits,
      retriesByCode: retriesByCode(r.steady.retries),
    };
  });
}

/** Each later partition count's steady DB transactions/s and worker CPU over the first one's. */
function ratioRows(results: PartitionResult[]) {
  const [first, ...rest] = summaryRows(results);
  const ratio = (a: number | null, b: number | null) => (a !== null && b ? a / b : null);
  return rest.map((r) => ({
    partitions: r.partitions,
    over: first.partitions,
    dbTxPerSec: ratio(r.dbTxPerSec, first.dbTxPerSec),
    workerCpu: ratio(r.workerCpuPct, first.workerCpuPct),
  }));
}

async function main(args: SteadyArgs): Promise<void> {
  const say = args.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const workerConfig = loadConfig({ ...process.env, ...SERVICE_ENV });
  const settings = Object.fromEntries(SHOWN_SETTINGS.map((k) => [k, String(workerConfig[k])]));
  say(
    `steady-rate bench: partitions ${args.partitions.join(', ')}; backlog ${fmtInt(args.backlogRecords)} records, ` +
      `then ${fmtInt(args.rate)} records/s for ${args.warmupSec} s warm-up + ${args.durationSec} s measured; ${machineLine()}`,
  );
  say(
    `worker: ROLES=worker JOBS=${JOBS.join(',')} ${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} ` +
      `${Object.entries(SERVICE_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')} node ${SERVICE_NODE_FLAGS.join(' ')}`,
  );

  const results: PartitionResult[] = [];
  for (const [i, partitions] of args.partitions.entries()) {
    const scope = new Scope(`partition count ${partitions}`);
    try {
      results.push(await runPartitionCount(partitions, `${i + 1}/${args.partitions.length}`, scope, args, say));
    } finally {
      await scope.close();
    }
  }

  for (const r of results) printPartitionTable(r, say);
  say('');
  say(
    '  records: committed by the four jobs (sum of consumer_offset.next_offset over the groups; a behaviour record counts twice). ' +
      "DB tx/s: Com_commit; MariaDB CPU, DB tx/s, Handler_commit, deadlocks and lock waits are the whole server's, " +
      'shared with anything else using it meanwhile. Backlog: from the first partition claimed to lag 0 (the bench polls the database every 100 ms).',
  );

  const summary = summaryRows(results);
  say('');
  say("  summary (steady phase, and its CPU per record over the backlog's)");
  printColumns(
    [
      'P',
      'steady CPU/record (µs)',
      'backlog CPU/record (µs)',
      'steady/backlog (target <= 2)',
      'DB tx/s',
      'MariaDB CPU (% of a core)',
      'worker CPU (% of a core)',
      'deadlocks',
      'lock waits',
      'retries by code',
    ],
    summary.map((s) => [
      String(s.partitions),
      show(s.steadyCpuUsPerRecord, 1),
      show(s.backlogCpuUsPerRecord, 1),
      show(s.steadyOverBacklog, 2),
      show(s.dbTxPerSec, 1),
      show(s.mariadbCpuPct),
      show(s.workerCpuPct),
      show(s.deadlocks),
      show(s.lockWaits),
      s.retriesByCode,
    ]),
    say,
  );
  const ratios = ratioRows(results);
  say('');
  if (ratios.length === 0) say('  ratios across P: one partition count only (give two or more with --partitions)');
  for (const r of ratios)
    say(
      `  P ${r.partitions} over P ${r.over}: DB tx/s ${show(r.dbTxPerSec, 2)} (target <= 1.25), ` +
        `worker CPU ${show(r.workerCpu, 2)} (target <= 1.25)`,
    );

  if (args.json) {
    console.log(
      JSON.stringify(
        {
          machine: machineLine(),
          settings: {
            partitions: args.partitions,
            backlogRecords: args.backlogRecords,
            rateRps: args.rate,
            warmupSec: args.warmupSec,
            durationSec: args.durationSec,
            worker: { ...settings, ...SERVICE_ENV, nodeFlags: SERVICE_NODE_FLAGS.join(' ') },
          },
          notes: {
            records: 'committed by the four jobs: sum of consumer_offset.next_offset over the groups',
            dbTx: 'Com_commit of the whole server (shared)',
            mariadbCpu: 'utime + stime of the mariadbd process (shared with anything else using the server)',
          },
          runs: results.map((r) => ({
            partitions: r.partitions,
            offeredRps: r.offeredRps,
            backlog: { ...r.backlog, ...figures(r.backlog) },
            steady: { ...r.steady, ...figures(r.steady) },
          })),
          summary,
          ratios,
        },
        null,
        2,
      ),
    );
  }
}

async function runPartitionCount(
  partitions: number,
  ordinal: string,
  scope: Scope,
  args: SteadyArgs,
  say: (line: string) => void,
): Promise<PartitionResult> {
  // 0. setup
  const topics = {} as Record<TopicKind, string>;
  for (const kind of ['behavior', 'recharge', 'clicks'] as const) {
    const t = await createTestTopic(`bench-steady-${kind}`, partitions);
    scope.add(`topics ${t.topic}(.dlq)`, () => t.delete());
    topics[kind] = t.topic;
  }
  const db = await createTestDatabase();
  scope.add(`database ${db.name}`, () => db.drop());
  const groups: Record<JobName, string> = {
    'abnormal-orders': randomName('bench-steady-abnormal-orders'),
    'recharge-metrics': randomName('bench-steady-recharge-metrics'),
    'hot-products': randomName('bench-steady-hot-products'),
    'daily-active-users': randomName('bench-steady-daily-active-users'),
  };
  const groupIds = Object.values(groups);
  // Registered before the worker starts, so they run after it stopped.
  scope.add('kafka groups', async () => {
    const a = await connectAdmin();
    // Best effort: a group left over is only clutter on the shared broker.
    await a.deleteGroups(groupIds).catch(() => undefined);
    await a.disconnect();
  });
  scope.add('redis keys', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const patterns = [
        `${RECHARGE_KEY_PREFIX}${groups['recharge-metrics']}:*`,
        ...JOBS.map((j) => partitionStatsKey(groups[j], topics[JOB_TOPIC[j]], 0).replace(/:0$/, ':*')),
      ];
      for (const match of patterns) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
          if (keys.length > 0) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
    } finally {
      redis.disconnect();
    }
  });
  const conn = await createConnection({ ...parseDatabaseUrl(db.url), connectTimeout: 5_000 });
  scope.add('poll connection', () => conn.end());
  const admin: Admin = await connectAdmin();
  scope.add('kafka admin', () => admin.disconnect());
  const mariadb = await serverPid(conn);
  say('');
  say(
    `[P=${partitions}, ${ordinal}] 0. setup  topics ${Object.values(topics).join(', ')} (${partitions} partitions each, + .dlq); ` +
      `database ${db.name}; MariaDB pid ${mariadb ? `${mariadb.pid} (${mariadb.how})` : '? (not found: no MariaDB CPU)'}`,
  );

  const endOffsets = async (): Promise<Record<TopicKind, Map<number, number>>> => {
    const out = {} as Record<TopicKind, Map<number, number>>;
    for (const kind of ['behavior', 'recharge', 'clicks'] as const)
      out[kind] = new Map((await admin.fetchTopicOffsets(topics[kind])).map((o) => [o.partition, Number(o.high)]));
    return out;
  };
  const produced = async () => {
    let n = 0;
    for (const m of Object.values(await endOffsets())) for (const v of m.values()) n += v;
    return n;
  };
  const offsetRows = async () =>
    conn.query<{ group_id: string; partition: number; next_offset: bigint | number }[]>(
      'SELECT group_id, `partition`, next_offset FROM consumer_offset WHERE group_id IN (?) AND topic IN (?)',
      [groupIds, Object.values(topics)],
    );
  const committed = async () => (await offsetRows()).reduce((n, r) => n + Math.max(0, Number(r.next_offset)), 0);

  // 1. backlog: produced with no worker running.
  const counts = split(args.backlogRecords);
  const backlogRate = Math.min(BACKLOG_RATE_CAP, BACKLOG_RATE_PER_PARTITION * partitions);
  say(
    `   1. backlog  ${fmtInt(counts.behavior)} behaviour + ${fmtInt(counts.recharge)} recharge + ${fmtInt(counts.clicks)} click records ` +
      `(scripts/produce.js --count, at most ${fmtInt(backlogRate)} records/s each) …`,
  );
  const fillStarted = performance.now();
  const fillers = (['behavior', 'recharge', 'clicks'] as const).map((kind) =>
    startProducer(
      scope,
      kind,
      topics[kind],
      backlogRate,
      partitions,
      ['--count', String(counts[kind]), ...(kind === 'clicks' ? clicksArgs() : [])],
      args.serviceLogs,
    ),
  );
  const fillBoundMs = Math.max(120_000, args.backlogRecords);
  for (const f of fillers) {
    const code = await Promise.race([f.exited, sleep(fillBoundMs - (performance.now() - fillStarted)).then(() => -1)]);
    if (code === -1) throw new Error(`${f.name} did not finish the backlog within ${fillBoundMs / 1000} s`);
    if (code !== 0) throw f.died();
  }
  const fillMs = performance.now() - fillStarted;
  const latest = await endOffsets();
  for (const kind of ['behavior', 'recharge', 'clicks'] as const) {
    const n = [...latest[kind].values()].reduce((a, b) => a + b, 0);
    if (n !== counts[kind]) throw new Error(`topic ${topics[kind]} holds ${n} records, expected ${counts[kind]}`);
  }
  say(
    `      ${fmtInt(args.backlogRecords)} records in ${(fillMs / 1000).toFixed(1)} s (${fmtInt(args.backlogRecords / (fillMs / 1000))} records/s); starting the worker`,
  );

  // The worker: the bench's environment, npm start's allocator settings and node flags, the run's own names.
  const main = path.resolve(import.meta.dirname, '../src/main.js');
  const ports: number[] = [];
  const workers: ReturnType<typeof startChild>[] = [];
  for (let w = 0; w < args.workers; w++) {
    const port = await freePort();
    ports.push(port);
    workers.push(
      startChild(
        scope,
        args.workers === 1 ? 'worker' : `worker ${w + 1}`,
        [...SERVICE_NODE_FLAGS, ...(args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : []), main],
        {
          ...SERVICE_ENV,
          REDIS_URL,
          ROLES: 'worker',
          JOBS: JOBS.join(','),
          DATABASE_URL: db.url,
          USER_BEHAVIOR_TOPIC: topics.behavior,
          RECHARGE_TOPIC: topics.recharge,
          PRODUCT_CLICKS_TOPIC: topics.clicks,
          ABNORMAL_ORDERS_GROUP: groups['abnormal-orders'],
          RECHARGE_GROUP: groups['recharge-metrics'],
          HOT_PRODUCTS_GROUP: groups['hot-products'],
          DAU_GROUP: groups['daily-active-users'],
          KAFKA_TOPIC_PARTITIONS: String(partitions),
          PORT: String(port),
          LOG_LEVEL: 'warn',
        },
        15_000,
        args.serviceLogs,
      ),
    );
  }
  const alive = () => {
    const dead = workers.find((w) => w.dead());
    if (dead) throw dead.died();
    if (aborted) throw new Error('stopped');
  };
  /** Every worker's /metrics one after the other, or null when one could not be read. */
  const allMetrics = async (): Promise<string | null> => {
    const texts = await Promise.all(ports.map((p) => fetchMetrics(p)));
    return texts.some((t) => t === null) ? null : texts.join('\n');
  };
  const snapshot = async (withMetrics: boolean): Promise<Snapshot> => {
    const at = performance.now();
    const cpus = workers.map((w) => cpuSeconds(w.pid));
    const workerCpu = cpus.some((c) => c === null) ? null : cpus.reduce<number>((a, c) => a + (c ?? 0), 0);
    const mariadbCpu = mariadb ? cpuSeconds(mariadb.pid) : null;
    const machine = machineCpuSeconds();
    const status = await readStatus(conn);
    return {
      at,
      workerCpu,
      mariadbCpu,
      machine,
      status,
      committed: await committed(),
      metrics: withMetrics ? await allMetrics() : null,
      produced: await produced(),
    };
  };

  // Ready: the first partition claimed (a `consumer_offset` row), just before its fetching starts. The
  // jobs join one after the other, and the first reads its backlog while the others join, so /readyz
  // (200 once every job joined) would come too late.
  const spawnedAt = performance.now();
  while ((await offsetRows()).length === 0) {
    alive();
    if (performance.now() - spawnedAt > 120_000) throw new Error('the worker claimed no partition within 120 s');
    await sleep(20);
  }
  const b0 = await snapshot(false);
  b0.committed = 0;
  b0.produced = 0;
  const isDone = (rows: Awaited<ReturnType<typeof offsetRows>>) =>
    JOBS.every((job) => {
      const mine = rows.filter((r) => r.group_id === groups[job]);
      const ends = latest[JOB_TOPIC[job]];
      return mine.length === ends.size && mine.every((r) => Number(r.next_offset) === ends.get(r.partition));
    });
  const jobRecords = JOBS.reduce((n, job) => n + [...latest[JOB_TOPIC[job]].values()].reduce((a, b) => a + b, 0), 0);
  say(
    `      worker pid ${workers.map((w) => w.pid).join(', ')} claimed its first partition ${((b0.at - spawnedAt) / 1000).toFixed(1)} s after spawn; ` +
      `reading ${fmtInt(jobRecords)} job-records (4 jobs) …`,
  );
  const backlogBoundMs = Math.max(300_000, args.backlogRecords * 2);
  let lastReport = b0.at;
  for (;;) {
    alive();
    const rows = await offsetRows();
    if (isDone(rows)) break;
    const now = performance.now();
    if (now - b0.at > backlogBoundMs)
      throw new Error(
        `backlog: ${fmtInt(rows.reduce((n, r) => n + Math.max(0, Number(r.next_offset)), 0))} of ${fmtInt(jobRecords)} job-records committed after ${backlogBoundMs / 1000} s`,
      );
    if (now - lastReport >= 10_000) {
      lastReport = now;
      say(
        `      … ${fmtInt(rows.reduce((n, r) => n + Math.max(0, Number(r.next_offset)), 0))} / ${fmtInt(jobRecords)} after ${((now - b0.at) / 1000).toFixed(0)} s`,
      );
    }
    await sleep(100);
  }
  const b1 = await snapshot(true);
  b1.produced = args.backlogRecords;
  const backlog = phaseOf(b0, b1);
  const bf = figures(backlog);
  say(
    `      lag 0 after ${(backlog.ms / 1000).toFixed(1)} s: ${fmtInt(bf.recordsPerSec)} records/s, worker CPU ${show(backlog.workerCpuSec, 1)} s ` +
      `(${show(bf.cpuUsPerRecord, 1)} µs/record), ${show(backlog.commits)} DB transactions`,
  );

  // 2. steady: the same worker, a third of the rate per topic.
  const rates = split(args.rate);
  say(
    `   2. steady   ${fmtInt(rates.behavior)} behaviour + ${fmtInt(rates.recharge)} recharge + ${fmtInt(rates.clicks)} click records/s; ` +
      `${args.warmupSec} s warm-up, ${args.durationSec} s measured …`,
  );
  const producers = (['behavior', 'recharge', 'clicks'] as const).map((kind) =>
    startProducer(
      scope,
      kind,
      topics[kind],
      rates[kind],
      partitions,
      kind === 'clicks' ? clicksArgs() : [],
      args.serviceLogs,
    ),
  );
  const producing = () => {
    alive();
    const gone = producers.find((p) => p.dead());
    if (gone) throw gone.died();
  };
  const waitSeconds = async (sec: number) => {
    const until = performance.now() + sec * 1000;
    while (performance.now() < until) {
      producing();
      await sleep(Math.min(500, until - performance.now()));
    }
    producing();
  };
  await waitSeconds(args.warmupSec);
  const s0 = await snapshot(true);
  await waitSeconds(args.durationSec);
  const s1 = await snapshot(true);
  const steady = phaseOf(s0, s1);
  const sf = figures(steady);
  // What the jobs are offered: two of them (abnormal-orders, daily-active-users) read the behaviour topic.
  const offeredJobRps = args.rate + rates.behavior;
  say(
    `      ${fmtInt(steady.records)} job-records committed in ${(steady.ms / 1000).toFixed(1)} s (${fmtInt(sf.recordsPerSec)}/s of ~${fmtInt(offeredJobRps)}/s offered to the jobs; ` +
      `${fmtInt(sf.producedPerSec)} records/s produced), worker CPU ${show(sf.workerCpuPct)}% of a core (${show(sf.cpuUsPerRecord, 1)} µs/record), ` +
      `${show(sf.txPerSec, 1)} DB tx/s`,
  );
  if (sf.recordsPerSec < 0.9 * offeredJobRps)
    say('      note: the worker committed under 90% of what was offered: it did not keep up, or the warm-up was short');

  // 3. stop: producers first (SIGTERM flushes), then the worker and the rest, before the next P.
  await Promise.all(producers.map((p) => p.stop()));
  return { partitions, backlog, steady, offeredRps: args.rate };
}

/** An upper bound on the whole run, milliseconds: per partition count setup, backlog, steady phase and stop with slack. */
function timeBoundMs(args: SteadyArgs): number {
  const perCount =
    60_000 + // topics, database
    Math.max(120_000, args.backlogRecords) + // producing the backlog (see fillBoundMs)
    120_000 + // worker start
    Math.max(300_000, args.backlogRecords * 2) + // reading the backlog (see backlogBoundMs)
    (args.warmupSec + args.durationSec) * 1000 +
    60_000; // snapshots, stopping
  return args.partitions.length * perCount + 60_000;
}

await runBench(async () => {
  const args = parseCommandLine();
  const bound = timeBoundMs(args);
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      aborted = true;
      reject(new Error(`the bench exceeded its time bound of ${(bound / 1000).toFixed(0)} s: stopped`));
    }, bound);
  });
  try {
    await Promise.race([main(args), overtime]);
  } finally {
    clearTimeout(timer);
  }
});
