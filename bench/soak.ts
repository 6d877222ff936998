// `npm run bench:soak [-- --records N --kills N]`: exactly-once under a long
// run of faults. Against its OWN Kafka broker (scripts/stack.sh kafka-up with
// its own STACK_DIR and free ports) and its OWN MariaDB server (free port,
// temporary data directory); Redis is the shared one (namespaced by group).
//
//   1. soak       a paced producer writes N generated user-behaviour records (+ one
//                 far-future flush record per partition that closes every window) to a
//                 3-partition topic while three workers in fresh groups run
//                 abnormal-orders and daily-active-users (both read the topic) into a
//                 fresh database; at random moments (shares of the committed progress)
//                 a random worker is SIGKILLed and replaced (`--kills`, default 20), the
//                 broker is SIGKILLed and restarted by the stack script, and the
//                 database server is SIGKILLed and restarted 20 s later on the same
//                 data directory and port
//   2. reference  one worker, uninterrupted, runs both jobs over the finished topic
//                 into a database of its own
//   3. compare    every result row and every consumer_offset row of both jobs with the
//                 reference; prints the differences and exits 1 on any
//
// Every event is printed with its UTC time and the committed progress. See bench/README.md.
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { Partitioners } from 'kafkajs';
import { createKafka } from '../src/ingest/kafka-client.js';
import { generateUserBehavior, sampleVipUids } from '../src/jobs/user-behavior/user-behavior-generator.js';
import { jobSnapshot } from '../test/helpers/job-snapshots.js';
import { jobProgress, latestOffsets, seedVips, sumOffsets, type JobProgress } from '../test/helpers/job-runs.js';
import { flushRecords } from '../src/jobs/user-behavior/testing.js';
import { startOwnKafka, startOwnMariadb } from '../test/helpers/own-services.js';
import { startServiceProcess, type ServiceProcess } from '../test/helpers/service-process.js';
import { createTestDatabase, createTestTopic, randomName } from '../test/helpers/services.js';
import {
  fmtInt,
  fmtSec,
  log,
  machineLine,
  onCleanup,
  parseBenchArgs,
  PARTITIONS,
  runBench,
  sleep,
} from './bench-kit.js';

const USAGE = `usage: npm run bench:soak -- [--records N] [--kills N] [--rate N] [--workers N] [--db-down-seconds N] [--service-logs]

  --records N          records to produce (default 1000000), plus one flush record per partition
  --kills N            SIGKILLs of a random worker at random moments, each replaced at once (default 20)
  --rate N             records per second the producer writes (default: --records / 600, at least 200,
                       so the stream lasts about 10 minutes and every fault lands mid-stream)
  --workers N          workers running at once (default 3)
  --db-down-seconds N  how long the database server stays down, seconds (default 20)
  --service-logs       copy the workers' log lines to stderr`;

const JOBS = [
  {
    name: 'abnormal-orders',
    groupVar: 'ABNORMAL_ORDERS_GROUP',
    windowed: true,
    snapshot: (dbUrl: string, group: string) => jobSnapshot('abnormal-orders', dbUrl, group),
  },
  {
    name: 'daily-active-users',
    groupVar: 'DAU_GROUP',
    windowed: false,
    snapshot: (dbUrl: string, group: string) => jobSnapshot('daily-active-users', dbUrl, group),
  },
] as const;

const stamp = () => new Date().toISOString();

async function main(): Promise<void> {
  const args = parseBenchArgs(USAGE, { kills: 20, workers: 3, 'db-down-seconds': 20, rate: 0 });
  const rate = process.argv.includes('--rate') ? args.rate : Math.max(200, Math.round(args.records / 600));
  if (args.serviceLogs) process.env.TEST_SERVICE_LOGS = '1';
  const startTimeMs = Date.UTC(2026, 0, 1);
  const generator = { seed: 61024, users: 5_000, startTimeMs, eventsPerSecond: 1_000, count: args.records };
  const flushTimeSec = Math.floor((startTimeMs + (args.records / 1_000) * 1000 + 86_400_000) / 1000);
  const t0 = performance.now();
  const event = (what: string) => log(`${stamp()}  +${fmtSec(performance.now() - t0).padStart(9)}  ${what}`);

  log(
    `soak bench: ${fmtInt(args.records)} records (+${PARTITIONS} flush), ${args.workers} workers, ${args.kills} worker kills, ` +
      `1 broker restart, 1 database restart (${args['db-down-seconds']} s down); produced at ${fmtInt(rate)} records/s; jobs ${JOBS.map((j) => j.name).join(', ')}; ${machineLine()}`,
  );

  event('0. setup   starting an own Kafka broker and an own MariaDB server …');
  const [kafka, mariadb] = await Promise.all([startOwnKafka(), startOwnMariadb()]);
  onCleanup('own MariaDB server', () => mariadb.cleanup());
  onCleanup('own Kafka broker', () => kafka.cleanup());
  event(
    `          broker ${kafka.brokers.join(',')} (STACK_DIR ${kafka.dir}), MariaDB ${mariadb.serverUrl} (datadir ${mariadb.datadir})`,
  );

  const topic = await createTestTopic('soak', PARTITIONS, kafka.brokers);
  let latest = new Map<number, number>();
  let total = 0;
  const vips = sampleVipUids(generator);
  const workerEnv = (dbUrl: string, groups: string[]) => ({
    DATABASE_URL: dbUrl,
    KAFKA_BROKERS: kafka.brokers.join(','),
    ROLES: 'worker',
    JOBS: JOBS.map((j) => j.name).join(','),
    USER_BEHAVIOR_TOPIC: topic.topic,
    ...Object.fromEntries(JOBS.map((j, i) => [j.groupVar, groups[i]])),
    // Windows close through event time (the flush records), never wall-clock idleness: runs compare exactly.
    IDLE_TIMEOUT_MS: '3600000',
    KAFKA_MAX_BYTES_PER_PARTITION: '262144',
    // About two fetched batches per transaction: many transactions, and merged ones among them.
    TRANSACTION_MAX_RECORDS: '4000',
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
  });
  /** Both jobs' committed records; `done` only once the producer finished (`latest` known). */
  const progressOf = async (dbUrl: string, groups: string[]): Promise<JobProgress> => {
    const each = await Promise.all(
      JOBS.map((j, i) => jobProgress(dbUrl, latest, { windowed: j.windowed, group: groups[i] })),
    );
    return {
      consumed: each.reduce((n, p) => n + p.consumed, 0),
      claimed: 0,
      unfinished: [],
      done: total > 0 && each.every((p) => p.done),
    };
  };
  /** Both jobs' committed records, out of 2 x total; null while the database does not answer. */
  const tryProgress = (dbUrl: string, groups: string[]) => progressOf(dbUrl, groups).catch(() => null);
  const all: ServiceProcess[] = [];
  onCleanup('workers', () => Promise.all(all.map((p) => p.kill('SIGKILL'))));
  const startWorker = async (env: Record<string, string>) => {
    const p = await startServiceProcess(env, 120_000);
    all.push(p);
    return p;
  };
  const waitDone = async (dbUrl: string, groups: string[], what: string) => {
    const deadline = performance.now() + Math.max(900_000, args.records);
    let last = performance.now();
    for (;;) {
      const p = await tryProgress(dbUrl, groups);
      if (p?.done) return;
      if (performance.now() > deadline)
        throw new Error(`${what}: not finished after ${fmtSec(performance.now() - t0)}`);
      if (performance.now() - last > 15_000 && p) {
        last = performance.now();
        event(`          … ${fmtInt(p.consumed)} / ${fmtInt(2 * (args.records + PARTITIONS))} committed`);
      }
      await sleep(250);
    }
  };

  // The producer: paced, riding through the broker restart by sending a failed chunk again
  // (a chunk may then be written twice: the reference reads the same topic, so it counts too).
  const feed = async () => {
    const producer = createKafka(kafka.brokers, randomName('soak-producer')).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const started = performance.now();
    const chunkSize = Math.max(1, Math.round(rate / 10));
    let sent = 0;
    let retries = 0;
    const send = async (messages: { key: string | null; value: string; partition?: number }[]) => {
      for (;;) {
        try {
          await producer.send({ topic: topic.topic, acks: -1, messages });
          return;
        } catch (err) {
          retries++;
          if (retries % 10 === 1)
            event(`   producer  send failed (${(err as Error).message}); sending the chunk again`);
          await sleep(1_000);
        }
      }
    };
    let chunk: { key: string | null; value: string }[] = [];
    for (const r of generateUserBehavior(generator)) {
      chunk.push({ key: r.key, value: r.value });
      if (chunk.length < chunkSize) continue;
      await send(chunk);
      sent += chunk.length;
      chunk = [];
      const ahead = (sent / rate) * 1000 - (performance.now() - started);
      if (ahead > 0) await sleep(ahead);
    }
    if (chunk.length > 0) await send(chunk);
    await send(flushRecords(flushTimeSec, PARTITIONS));
    await producer.disconnect();
    latest = await latestOffsets(topic.topic, kafka.brokers);
    total = sumOffsets(latest);
    event(
      `   producer  done: ${fmtInt(total)} records in the topic (${fmtInt(args.records + PARTITIONS)} generated), per partition ${[...latest.values()].map(fmtInt).join(' / ')}`,
    );
  };

  // ---- 1. soak
  const db = await createTestDatabase({ serverUrl: mariadb.serverUrl });
  await seedVips(db.url, vips);
  const groups = JOBS.map((j) => randomName(`soak-${j.name}`));
  const env = workerEnv(db.url, groups);
  event(`1. soak    ${args.workers} workers -> database ${db.name}, topic ${topic.topic} …`);
  const workers = await Promise.all(Array.from({ length: args.workers }, () => startWorker(env)));
  event(`          workers up: pids ${workers.map((w) => w.child.pid).join(', ')}; producing …`);
  const feeding = feed();
  // Awaited at the end; until then a failure must not be an unhandled rejection.
  feeding.catch(() => undefined);

  // Each fault fires once the committed progress (both jobs, out of 2 x total) passed its share.
  interface Fault {
    at: number;
    kind: 'kill' | 'broker' | 'database';
  }
  const faults: Fault[] = [
    ...Array.from({ length: args.kills }, () => ({ at: 0.02 + Math.random() * 0.93, kind: 'kill' as const })),
    { at: 0.25 + Math.random() * 0.2, kind: 'broker' as const },
    { at: 0.55 + Math.random() * 0.2, kind: 'database' as const },
  ].sort((a, b) => a.at - b.at);
  const counts = { kills: 0, killsBeforeEnd: 0 };
  for (const fault of faults) {
    const target = Math.floor(fault.at * 2 * (args.records + PARTITIONS));
    let p: JobProgress | null;
    for (;;) {
      p = await tryProgress(db.url, groups);
      if (p && (p.consumed >= target || p.done)) break;
      await sleep(20);
    }
    await sleep(Math.random() * 300);
    const at = `at ${fmtInt(p.consumed)} / ${fmtInt(2 * (args.records + PARTITIONS))} committed`;
    if (fault.kind === 'kill') {
      const i = Math.floor(Math.random() * workers.length);
      const victim = workers[i];
      await victim.kill('SIGKILL');
      counts.kills++;
      if (!p.done) counts.killsBeforeEnd++;
      event(
        `   kill ${String(counts.kills).padStart(2)}  SIGKILL worker pid ${victim.child.pid} ${at}; starting a replacement …`,
      );
      workers[i] = await startWorker(env);
      event(`          replacement pid ${workers[i].child.pid} ready`);
    } else if (fault.kind === 'broker') {
      await kafka.kill();
      event(`   broker  SIGKILL (stack.sh kafka-kill) ${at}; restarting it with stack.sh kafka-up …`);
      await kafka.start();
      event('          broker back');
    } else {
      await mariadb.kill();
      event(`   database  SIGKILL mariadbd ${at}; down for ${args['db-down-seconds']} s …`);
      await sleep(args['db-down-seconds'] * 1000);
      await mariadb.start();
      event('          database back (same data directory and port)');
    }
  }
  await feeding;
  await waitDone(db.url, groups, 'the soak run');
  event('          done; stopping the workers');
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  const result = await Promise.all(JOBS.map((j, i) => j.snapshot(db.url, groups[i])));

  // ---- 2. reference
  const refDb = await createTestDatabase({ serverUrl: mariadb.serverUrl });
  await seedVips(refDb.url, vips);
  const refGroups = JOBS.map((j) => randomName(`soak-ref-${j.name}`));
  event(`2. reference  one worker, uninterrupted, over the finished topic -> database ${refDb.name} …`);
  const ref = await startWorker(workerEnv(refDb.url, refGroups));
  await waitDone(refDb.url, refGroups, 'the reference run');
  await ref.kill('SIGTERM');
  const reference = await Promise.all(JOBS.map((j, i) => j.snapshot(refDb.url, refGroups[i])));
  event(`          done: ${reference[0].rows.length} abnormal-order users`);

  // ---- 3. compare
  const failedCommits = all
    .flatMap((w) => w.logs)
    .filter((l) => String(l.msg).startsWith('partition commit failed')).length;
  const fenced = all
    .flatMap((w) => w.logs)
    .filter((l) => String(l.msg).includes('was claimed by another worker')).length;
  log('');
  log(
    `3. compare  ${counts.kills} worker kills (${counts.killsBeforeEnd} before the end), 1 broker restart, 1 database restart; ` +
      `${all.length - 1} worker processes in the soak; ${failedCommits} failed batch commits rebuilt, ${fenced} fenced-off commits`,
  );
  let mismatches = 0;
  for (const [i, job] of JOBS.entries()) {
    const want = reference[i] as Record<string, unknown[]>;
    const got = result[i] as Record<string, unknown[]>;
    for (const table of Object.keys(want)) {
      const a = want[table];
      const b = got[table];
      if (isDeepStrictEqual(a, b)) {
        log(`   ${job.name} ${table}: match (${fmtInt(a.length)} rows)`);
        continue;
      }
      mismatches++;
      log(`   ${job.name} ${table}: MISMATCH (${fmtInt(a.length)} rows expected, ${fmtInt(b.length)} found)`);
      const key = (r: unknown) => JSON.stringify(r);
      const wantSet = new Set(a.map(key));
      const gotSet = new Set(b.map(key));
      const missing = a.filter((r) => !gotSet.has(key(r)));
      const extra = b.filter((r) => !wantSet.has(key(r)));
      for (const r of missing.slice(0, 10)) log(`      expected, missing: ${key(r)}`);
      for (const r of extra.slice(0, 10)) log(`      found, not expected: ${key(r)}`);
      if (missing.length + extra.length > 20)
        log(`      … ${missing.length} missing and ${extra.length} unexpected rows in all`);
    }
  }
  log('');
  log(
    mismatches === 0
      ? `RESULT: match (every row of both jobs equals the uninterrupted run's), ${fmtSec(performance.now() - t0)} in all`
      : `RESULT: MISMATCH in ${mismatches} tables`,
  );
  if (mismatches > 0) throw new Error(`soak: ${mismatches} tables differ from the uninterrupted run`);
}

await runBench(main);
