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
import {
  generateUserBehavior,
  sampleUsers,
  type GeneratedRecord,
  type UserBehaviorGeneratorOptions,
} from '../src/jobs/user-behavior/user-behavior-generator.js';
import { ENTER_ORDER_PAGE } from '../src/jobs/abnormal-orders/abnormal-orders-job.js';
import { seedVips } from '../test/helpers/job-runs.js';
import { flushRecords } from '../src/jobs/user-behavior/testing.js';
import { randomName, sql } from '../test/helpers/services.js';
import {
  createBenchTopicAndDatabase,
  fillBenchTopic,
  fmtInt,
  freePort,
  log,
  logFill,
  machineLine,
  parseBenchArgs,
  PARTITIONS,
  printTable,
  rawStep,
  runBench,
  serviceStep,
  sumMetric,
  summaryRows,
} from './bench-kit.js';

const USAGE = `usage: npm run bench -- [--records N] [--batch-size N] [--users N] [--events-per-second N] [--order-percent N] [--skip-raw] [--service-logs] [--cpu-prof DIR]

  --records N            records to produce (default 1000000), plus one flush record per partition
  --batch-size N         records per fillTopic send (default 10000, 4 sends in flight)
  --users N              uid pool of the generator (default 5000)
  --events-per-second N  records per second of event time (default 1000)
  --order-percent N      percent of the other records made enterOrderPage (default 0: the sample's session model)
  --skip-raw       skip the raw kafkajs consumer
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseBenchArgs(USAGE, { users: 5_000, 'events-per-second': 1_000, 'order-percent': 0 }, [
    'order-percent',
  ]);
  const startTimeMs = Date.UTC(2026, 0, 1);
  const eventsPerSecond = args['events-per-second'];
  const generator: UserBehaviorGeneratorOptions = {
    seed: 61024,
    users: args.users,
    startTimeMs,
    eventsPerSecond,
    count: args.records,
    orderPageShare: Math.min(100, args['order-percent']) / 100,
  };
  const spanMs = (args.records / eventsPerSecond) * 1000;
  const flushTimeSec = Math.floor((startTimeMs + spanMs + 86_400_000) / 1000);
  const users = sampleUsers(generator);
  const expectedRows = users.abnormalUids.length - users.abnormalVipUids.length;

  log(
    `abnormal-orders bench: ${fmtInt(args.records)} records (+${PARTITIONS} flush), ${fmtInt(args.users)} users, ` +
      `${fmtInt(eventsPerSecond)} records/s of event time = ${(spanMs / 60_000).toFixed(1)} min of events, ` +
      `${PARTITIONS} partitions; ${machineLine()}`,
  );

  const { topic, db } = await createBenchTopicAndDatabase('bench');
  await seedVips(db.url, users.vipUids);

  log(`0. setup  topic ${topic.topic} (+ .dlq), database ${db.name} with ${users.vipUids.length} VIPs`);
  log('1. fill   …');
  const windowUsers = new Map<number, number>();
  // Then one record per partition far in event-time future: the watermark passes every window.
  const f = await fillBenchTopic({
    topic: topic.topic,
    records: tallyWindowUsers(generateUserBehavior(generator), args.users, windowUsers),
    count: args.records,
    batchSize: args.batchSize,
    flush: flushRecords(flushTimeSec, PARTITIONS),
  });
  logFill(f);

  const busiest = Math.max(0, ...windowUsers.values());
  log(
    `   distinct users with an enterOrderPage per window (60 s, advancing 30 s): most ${fmtInt(busiest)}, ` +
      `over ${windowUsers.size} windows`,
  );

  const raw = await rawStep(topic.topic, f.total, args.skipRaw);
  const metricsPort = await freePort();

  const group = randomName('bench-abnormal');
  const e = await serviceStep({
    dbUrl: db.url,
    dbName: db.name,
    group,
    latest: f.latest,
    total: f.total,
    env: {
      // Only this job: the others read topics this bench does not create.
      JOBS: 'abnormal-orders',
      USER_BEHAVIOR_TOPIC: topic.topic,
      ABNORMAL_ORDERS_GROUP: group,
      // Windows close through event time (the flush records), never wall-clock idleness.
      IDLE_TIMEOUT_MS: '3600000',
    },
    cpuProfDir: args.cpuProf,
    serviceLogs: args.serviceLogs,
    metricsPort,
  });
  if (e.metrics !== null) {
    const peak = (kind: string) => sumMetric(e.metrics ?? '', 'rt_window_keys_peak', `kind="${kind}"`);
    log(
      `   window state: peak distinct keys ${fmtInt(peak('distinct'))}, peak live keys (summed over windows) ${fmtInt(peak('live'))} ` +
        `(each the sum of the partitions' peaks, rt_window_keys_peak)`,
    );
  }
  const [counts] = await sql<{ rows: bigint }>(db.url, 'SELECT COUNT(*) AS `rows` FROM unpayment_record');
  const [sums] = await sql<{ dead: bigint | null; late: bigint | null }>(
    db.url,
    'SELECT SUM(dead_lettered) AS dead, SUM(late_records) AS late FROM consumer_offset WHERE group_id = ?',
    [group],
  );
  const rows = Number(counts.rows);
  // Short runs end before every abnormal user had a burst: fewer rows is expected there, more never is.
  log(
    `   unpayment_record rows ${fmtInt(rows)} (the sample has ${expectedRows} abnormal non-VIP users; short runs reach fewer of them); ` +
      `dead-lettered ${fmtInt(Number(sums.dead ?? 0))}, late ${fmtInt(Number(sums.late ?? 0))}` +
      (raw
        ? `; fetched batches ≈ ${fmtInt(raw.batches)} (the raw consumer's count with the same fetch settings; the service commits several of a partition in one transaction while it is behind, up to TRANSACTION_MAX_RECORDS)`
        : ''),
  );

  printTable([
    ...summaryRows(f.total, f, raw, e),
    ['users in a window', `${fmtInt(busiest)} at most (of ${fmtInt(args.users)})`],
    ['rows detected', `${fmtInt(rows)} (of ${expectedRows} abnormal non-VIP users)`],
  ]);
}

/**
 * Passes `records` through, counting per 60 s window (advancing 30 s, the
 * service's default) the distinct users with a valid enterOrderPage record:
 * `counts` gets window start (epoch ms) -> users.
 */
function* tallyWindowUsers(
  records: Iterable<GeneratedRecord>,
  users: number,
  counts: Map<number, number>,
): Generator<GeneratedRecord> {
  const lastWindow = new Float64Array(users).fill(Number.NaN);
  const lastWindow2 = new Float64Array(users).fill(Number.NaN);
  for (const r of records) {
    yield r;
    if (r.malformed !== null || r.key === null) continue;
    const tab = r.value.lastIndexOf('\t');
    if (!r.value.startsWith(ENTER_ORDER_PAGE, r.value.lastIndexOf('\t', tab - 1) + 1)) continue;
    const u = Number(r.key) - 10001;
    const last = r.eventTimeMs - (r.eventTimeMs % 30_000);
    for (const start of [last - 30_000, last]) {
      if (lastWindow[u] === start || lastWindow2[u] === start) continue;
      lastWindow2[u] = lastWindow[u];
      lastWindow[u] = start;
      counts.set(start, (counts.get(start) ?? 0) + 1);
    }
  }
}

await runBench(main);
