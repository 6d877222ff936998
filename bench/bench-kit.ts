// Shared pieces of the end-to-end benchmarks (bench/*.ts): formatting, cleanup
// on exit and Ctrl-C, /proc readings of the service process, the raw kafkajs
// consume rate, and the service as a child process timed through its committed
// positions in `consumer_offset`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Connection } from 'mariadb';
import { createKafka } from '../src/ingest/kafka-client.js';
import { connectAdmin, KAFKA_BROKERS, randomName, REDIS_URL } from '../test/helpers/services.js';

export const MiB = 1024 * 1024;
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtRate = (records: number, ms: number) => `${fmtInt(records / (ms / 1000))} rec/s`;
export const fmtSec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const log = (line: string) => console.log(line);

/** The service's consumer settings (src/ingest/job-consumer.ts, defaults of src/config/config.ts). */
export const SERVICE_FETCH = {
  maxBytesPerPartition: 1_048_576,
  maxBytes: 10_485_760,
  partitionsConsumedConcurrently: 3,
  sessionTimeout: 30_000,
  heartbeatInterval: 3_000,
} as const;

/** Cleanups run in reverse order, once: at the end, on failure and on Ctrl-C (see {@link runBench}). */
const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
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

/** A `Vm*` line of /proc/<pid>/status in MiB, or null. */
export function procStatusMiB(pid: number, key: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
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
    const admin = await connectAdmin();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}

/** Committed progress of `group` as `consumer_offset` holds it. */
export async function committedProgress(conn: Connection, group: string, latest: Map<number, number>): Promise<{ consumed: number; claimed: number; done: boolean }> {
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
}

/**
 * Runs `node dist/src/main.js` (ROLES=worker, LOG_LEVEL=warn, PORT=0 plus
 * `env`) as a child process and times it: "ready" is the moment every
 * partition of `group` has a `consumer_offset` row (claimed on the group
 * join, just before fetching starts: there is no info-level "service ready"
 * line at warn), "done" when every committed next_offset reached `latest`.
 * Then SIGTERM. Progress is printed every 10 s.
 */
export async function timeService(opts: {
  conn: Connection;
  group: string;
  latest: Map<number, number>;
  total: number;
  env: Record<string, string>;
  cpuProfDir?: string | null;
  serviceLogs?: boolean;
}): Promise<ServiceRun> {
  const { conn, group, latest, total } = opts;
  const main = path.resolve(import.meta.dirname, '../src/main.js');
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main], {
    env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(','), REDIS_URL, ROLES: 'worker', LOG_LEVEL: 'warn', PORT: '0', ...opts.env },
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
    await admin.deleteGroups([group]).catch(() => {});
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
  createInterface({ input: child.stdout! }).on('line', (line) => { warnLines++; keep(line); });
  createInterface({ input: child.stderr! }).on('line', keep);
  let dead = false;
  void exited.then(() => { dead = true; });
  const died = () => new Error(`the service exited (code ${child.exitCode}, signal ${child.signalCode}); last output:\n${lastLines.join('\n')}`);

  let p = await committedProgress(conn, group, latest);
  while (p.claimed < latest.size) {
    if (dead) throw died();
    if (performance.now() - spawnedAt > 120_000) throw new Error(`the service claimed ${p.claimed} of ${latest.size} partitions after 120 s; last output:\n${lastLines.join('\n')}`);
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
    if (now > deadline) throw new Error(`end to end: only ${p.consumed} of ${total} records committed after ${fmtSec(now - readyAt)}`);
    if (now - lastReport >= 10_000) {
      lastReport = now;
      log(`   … ${fmtInt(p.consumed)} / ${fmtInt(total)} committed after ${fmtSec(now - readyAt)} (${fmtRate(p.consumed, now - readyAt)}, RSS ${procStatusMiB(child.pid!, 'VmRSS')?.toFixed(0) ?? '?'} MiB)`);
    }
    await sleep(100);
    p = await committedProgress(conn, group, latest);
  }
  const doneAt = performance.now();
  const cpuAtDone = cpuSeconds(child.pid!);
  const peakRssMiB = procStatusMiB(child.pid!, 'VmHWM');
  const exitCode = await Promise.race([kill('SIGTERM'), sleep(30_000).then(() => kill('SIGKILL'))]);
  return {
    startupMs: readyAt - spawnedAt,
    ms: doneAt - readyAt,
    fromSpawnMs: doneAt - spawnedAt,
    peakRssMiB,
    cpuSec: cpuAtReady !== null && cpuAtDone !== null ? cpuAtDone - cpuAtReady : null,
    warnLines,
    exitCode,
  };
}
