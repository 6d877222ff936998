// `npm run bench:recharge [-- --records N]`: throughput of the recharge-metrics
// job against the real Kafka, MariaDB and Redis of `scripts/stack.sh`.
//
//   1. fill      a fresh 3-partition `recharge` topic with N generated recharge
//                events (key = orderId; ~95% success, 1% duplicates, 5% other
//                services, 0.2% malformed), counting what the job must find
//   2. raw       a plain kafkajs consumer reads the topic (count + resolve only),
//                with the service's fetch settings: the ceiling set by Kafka + kafkajs
//   3. e2e       the real service (`node dist/src/main.js`, ROLES=worker,
//                JOBS=recharge-metrics) consumes the same topic into a fresh
//                database, Redis mirror included; timed until every partition's
//                committed next_offset reaches the end, then the totals are
//                checked against the generator's, to the cent
//   4. floor     the database's floor in the same run: the job's de-duplication
//                INSERT alone on a fresh database (`dedup-floor.ts`, as
//                `npm run bench:dedup-insert` runs it), and end to end / floor
//
// Everything it creates (topic + .dlq, database, groups, Redis keys) is random
// and removed at the end, also on failure or Ctrl-C.
import { Redis } from 'ioredis';
import { formatFen } from '../src/domain/money.js';
import { parseRecharge } from '../src/jobs/recharge-metrics/recharge-format.js';
import type { FillRecord } from '../src/sample/fill-topic.js';
import { generateRecharges, type RechargeGeneratorOptions } from '../src/jobs/recharge-metrics/recharge-generator.js';
import { RECHARGE_KEY_PREFIX } from '../src/jobs/recharge-metrics/recharge-serving-cache.js';
import { ZonedCalendar } from '../src/domain/zoned-calendar.js';
import { randomName, REDIS_URL, sql } from '../test/helpers/services.js';
import {
  createBenchTopicAndDatabase,
  fillBenchTopic,
  fmtInt,
  log,
  logFill,
  machineLine,
  onCleanup,
  parseBenchArgs,
  PARTITIONS,
  printTable,
  rawStep,
  runBench,
  serviceStep,
  summaryRows,
} from './bench-kit.js';
import { DEDUP_FLOOR_DEFAULTS, dedupFloor } from './dedup-floor.js';

const USAGE = `usage: npm run bench:recharge -- [--records N] [--batch-size N] [--skip-raw] [--service-logs] [--cpu-prof DIR]

  --records N      recharge events to produce (default 1000000)
  --batch-size N   records per producer send (default 10000, 4 sends in flight)
  --skip-raw       skip the raw kafkajs consumer
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

async function main(): Promise<void> {
  const args = parseBenchArgs(USAGE);
  const eventsPerSecond = 1_000;
  // From 23:55 local time: the stream crosses midnight in Asia/Shanghai (two days of buckets).
  const generator: RechargeGeneratorOptions = {
    seed: 61024,
    startTimeMs: Date.UTC(2025, 11, 31, 15, 55),
    eventsPerSecond,
    count: args.records,
  };
  log(
    `recharge-metrics bench: ${fmtInt(args.records)} records, ${fmtInt(eventsPerSecond)} records/s of event time = ` +
      `${(args.records / eventsPerSecond / 60).toFixed(1)} min of events, ${PARTITIONS} partitions; ` +
      machineLine(),
  );

  const { topic, db } = await createBenchTopicAndDatabase('bench-recharge');
  const group = randomName('bench-recharge-metrics');
  onCleanup('redis keys', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${RECHARGE_KEY_PREFIX}${group}:*`);
      if (keys.length > 0) await redis.unlink(...keys);
    } finally {
      redis.disconnect();
    }
  });

  // 1. fill, counting what the job must find (each order once).
  log(`1. fill   topic ${topic.topic} …`);
  const calendar = new ZonedCalendar('Asia/Shanghai');
  const seen = new Set<string>();
  let orders = 0;
  let succeeded = 0;
  let amountFen = 0;
  let duplicates = 0;
  let skipped = 0;
  let malformed = 0;
  function* counted(): Generator<FillRecord> {
    for (const r of generateRecharges(generator)) {
      if (r.kind === 'malformed') malformed++;
      else if (r.kind === 'other-service') skipped++;
      else if (seen.has(r.key)) duplicates++;
      else {
        seen.add(r.key);
        const e = parseRecharge(r.value, { calendar })!;
        orders++;
        if (e.succeeded) {
          succeeded++;
          amountFen += e.amountFen;
        }
      }
      yield r;
    }
  }
  const fill = await fillBenchTopic({
    topic: topic.topic,
    records: counted(),
    count: args.records,
    batchSize: args.batchSize,
  });
  seen.clear();
  const { latest, total } = fill;
  logFill(
    fill,
    `${fmtInt(orders)} orders, ${fmtInt(duplicates)} duplicates, ${fmtInt(skipped)} other services, ${fmtInt(malformed)} malformed`,
  );

  // 2. raw consume.
  const raw = await rawStep(topic.topic, total, args.skipRaw);

  // 3. end to end.
  const e = await serviceStep({
    dbUrl: db.url,
    dbName: db.name,
    group,
    latest,
    total,
    env: {
      JOBS: 'recharge-metrics',
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
    },
    cpuProfDir: args.cpuProf,
    serviceLogs: args.serviceLogs,
  });

  const [sums] = await sql<{ orders: bigint | null; succeeded: bigint | null; amount: string | null; days: bigint }>(
    db.url,
    'SELECT SUM(orders) AS orders, SUM(succeeded) AS succeeded, CAST(SUM(amount) AS CHAR) AS amount, COUNT(DISTINCT day) AS days FROM recharge_city_daily',
  );
  const [minuteSums] = await sql<{ orders: bigint | null; minutes: bigint }>(
    db.url,
    'SELECT SUM(orders) AS orders, COUNT(DISTINCT minute_start) AS minutes FROM recharge_minute',
  );
  const [seenRows] = await sql<{ n: bigint }>(db.url, 'SELECT COUNT(*) AS n FROM recharge_order');
  const [dead] = await sql<{ dead: bigint | null }>(
    db.url,
    'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?',
    [group],
  );
  const stored = {
    orders: Number(sums.orders ?? 0),
    succeeded: Number(sums.succeeded ?? 0),
    amount: sums.amount ?? '0.00',
  };
  const expected = { orders, succeeded, amount: formatFen(amountFen) };
  const exact =
    stored.orders === expected.orders &&
    stored.succeeded === expected.succeeded &&
    stored.amount === expected.amount &&
    Number(minuteSums.orders ?? 0) === orders &&
    Number(seenRows.n) === orders;
  log(
    `   stored ${fmtInt(stored.orders)} orders, ${fmtInt(stored.succeeded)} succeeded, ${stored.amount} yuan over ${Number(sums.days)} days and ` +
      `${fmtInt(Number(minuteSums.minutes))} minutes; expected ${fmtInt(expected.orders)}, ${fmtInt(expected.succeeded)}, ${expected.amount} ${exact ? '(exact)' : '(MISMATCH)'}; ` +
      `dead-lettered ${fmtInt(Number(dead.dead ?? 0))} of ${fmtInt(malformed)} malformed`,
  );

  // 4. the database's floor, in the same run: no run can commit more records per second than MariaDB
  // commits new de-duplication rows (one per order).
  log(`4. floor  the de-duplication INSERT alone (bench:dedup-insert's defaults) on a fresh database …`);
  const floor = await dedupFloor();
  log(
    `   ${fmtInt(floor.idsPerSecond)} new ids/s over ${DEDUP_FLOOR_DEFAULTS.connections} connections` +
      (floor.serverCpuPerIdUs === null ? '' : `, MariaDB ${floor.serverCpuPerIdUs.toFixed(2)} µs CPU per id`),
  );
  const e2eRate = total / (e.ms / 1000);
  printTable([
    ...summaryRows(total, fill, raw, e),
    ['de-duplication floor', `${fmtInt(floor.idsPerSecond)} ids/s`],
    ['end-to-end / floor', `${((100 * e2eRate) / floor.idsPerSecond).toFixed(0)}%`],
    [
      'totals stored / expected',
      exact ? 'exact, to the cent' : `MISMATCH: ${JSON.stringify(stored)} vs ${JSON.stringify(expected)}`,
    ],
  ]);
  if (!exact) throw new Error('the stored totals differ from the generated stream');
}

await runBench(main);
