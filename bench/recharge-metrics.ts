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
//
// Everything it creates (topic + .dlq, database, groups, Redis keys) is random
// and removed at the end, also on failure or Ctrl-C.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createConnection } from 'mariadb';
import { formatFen, parseRecharge } from '../src/ingest/formats/recharge.js';
import { fillTopic, type FillRecord } from '../src/sample/fill-topic.js';
import { generateRecharges, type RechargeGeneratorOptions } from '../src/sample/recharge-generator.js';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import { RECHARGE_KEY_PREFIX } from '../src/store/recharge-serving-cache.js';
import { ZonedCalendar } from '../src/stream/zoned-calendar.js';
import { connectAdmin, createTestDatabase, createTestTopic, KAFKA_BROKERS, randomName, REDIS_URL, sql } from '../test/helpers/services.js';
import { fmtInt, fmtRate, fmtSec, log, MiB, onCleanup, rawConsume, runBench, timeService, type RawResult } from './bench-kit.js';

const USAGE = `usage: npm run bench:recharge -- [--records N] [--batch-size N] [--skip-raw] [--service-logs] [--cpu-prof DIR]

  --records N      recharge events to produce (default 1000000)
  --batch-size N   records per producer send (default 10000, 4 sends in flight)
  --skip-raw       skip the raw kafkajs consumer
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

const PARTITIONS = 3;

function parseCli() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'batch-size': { type: 'string' },
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
    skipRaw: values['skip-raw'] ?? false,
    serviceLogs: values['service-logs'] ?? false,
    cpuProf: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : null,
  };
}

async function main(): Promise<void> {
  const args = parseCli();
  const eventsPerSecond = 1_000;
  // From 23:55 local time: the stream crosses midnight in Asia/Shanghai (two days of buckets).
  const generator: RechargeGeneratorOptions = { seed: 61024, startTimeMs: Date.UTC(2025, 11, 31, 15, 55), eventsPerSecond, count: args.records };
  log(`recharge-metrics bench: ${fmtInt(args.records)} records, ${fmtInt(eventsPerSecond)} records/s of event time = `
    + `${(args.records / eventsPerSecond / 60).toFixed(1)} min of events, ${PARTITIONS} partitions; `
    + `node ${process.version}, ${os.availableParallelism()} CPUs, load ${os.loadavg()[0]!.toFixed(1)}`);

  const topic = await createTestTopic('bench-recharge', PARTITIONS);
  onCleanup(`topics ${topic.topic}(.dlq)`, () => topic.delete());
  const db = await createTestDatabase();
  onCleanup(`database ${db.name}`, () => db.drop());
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
  let bytes = 0;
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
      bytes += r.value.length + r.key.length;
      yield { key: r.key, value: r.value };
    }
  }
  const fill = await fillTopic({ brokers: KAFKA_BROKERS, topic: topic.topic, records: counted(), batchSize: args.batchSize });
  seen.clear();
  const admin = await connectAdmin();
  const latest = new Map((await admin.fetchTopicOffsets(topic.topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const total = [...latest.values()].reduce((a, b) => a + b, 0);
  if (total !== args.records) throw new Error(`topic holds ${total} records, expected ${args.records}`);
  log(`   ${fmtInt(total)} records (${fmtInt(orders)} orders, ${fmtInt(duplicates)} duplicates, ${fmtInt(skipped)} other services, ${fmtInt(malformed)} malformed), `
    + `${(bytes / MiB).toFixed(1)} MiB in ${fmtSec(fill.ms)}: ${fmtRate(total, fill.ms)}; per partition ${[...latest.values()].map(fmtInt).join(' / ')}`);

  // 2. raw consume.
  let raw: RawResult | null = null;
  if (!args.skipRaw) {
    log('2. raw    plain kafkajs consumer (count + resolveOffset), service fetch settings …');
    raw = await rawConsume(topic.topic, total);
    log(`   ${fmtInt(raw.messages)} records in ${fmtSec(raw.ms)} from run() (join ${fmtSec(raw.joinMs)}): ${fmtRate(raw.messages, raw.ms)}; `
      + `${fmtInt(raw.batches)} batches, ${fmtInt(raw.messages / Math.max(1, raw.batches))} records/batch; CPU ${raw.cpuSec.toFixed(1)} s`);
  }

  // 3. end to end.
  log(`3. e2e    service (ROLES=worker, JOBS=recharge-metrics, LOG_LEVEL=warn) -> database ${db.name} …`);
  const conn = await createConnection({ ...parseDatabaseUrl(db.url), connectTimeout: 5_000 });
  onCleanup('poll connection', () => conn.end());
  const e = await timeService({
    conn, group, latest, total,
    env: { DATABASE_URL: db.url, JOBS: 'recharge-metrics', RECHARGE_TOPIC: topic.topic, RECHARGE_GROUP: group },
    cpuProfDir: args.cpuProf,
    serviceLogs: args.serviceLogs,
  });

  const [sums] = await sql<{ orders: bigint | null; succeeded: bigint | null; amount: string | null; days: bigint }>(db.url,
    'SELECT SUM(orders) AS orders, SUM(succeeded) AS succeeded, CAST(SUM(amount) AS CHAR) AS amount, COUNT(DISTINCT day) AS days FROM recharge_city_daily');
  const [minuteSums] = await sql<{ orders: bigint | null; minutes: bigint }>(db.url, 'SELECT SUM(orders) AS orders, COUNT(*) AS minutes FROM recharge_minute');
  const [seenRows] = await sql<{ n: bigint }>(db.url, 'SELECT COUNT(*) AS n FROM recharge_order');
  const [dead] = await sql<{ dead: bigint | null }>(db.url, 'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?', [group]);
  const stored = { orders: Number(sums?.orders ?? 0), succeeded: Number(sums?.succeeded ?? 0), amount: sums?.amount ?? '0.00' };
  const expected = { orders, succeeded, amount: formatFen(amountFen) };
  const exact = stored.orders === expected.orders && stored.succeeded === expected.succeeded && stored.amount === expected.amount
    && Number(minuteSums?.orders ?? 0) === orders && Number(seenRows?.n ?? 0) === orders;
  const e2eRate = total / (e.ms / 1000);
  log(`   ready after ${fmtSec(e.startupMs)}; ${fmtInt(total)} records committed in ${fmtSec(e.ms)} from ready: ${fmtInt(e2eRate)} rec/s (${fmtRate(total, e.fromSpawnMs)} from spawn)`);
  log(`   service CPU ${e.cpuSec?.toFixed(1) ?? '?'} s (${e.cpuSec !== null ? ((100 * e.cpuSec) / (e.ms / 1000)).toFixed(0) : '?'}% of one core); `
    + `peak RSS ${e.peakRssMiB?.toFixed(0) ?? '?'} MiB; exit code ${e.exitCode}; ${e.warnLines} log lines at warn or above`);
  log(`   stored ${fmtInt(stored.orders)} orders, ${fmtInt(stored.succeeded)} succeeded, ${stored.amount} yuan over ${Number(sums?.days ?? 0)} days and `
    + `${fmtInt(Number(minuteSums?.minutes ?? 0))} minutes; expected ${fmtInt(expected.orders)}, ${fmtInt(expected.succeeded)}, ${expected.amount} ${exact ? '(exact)' : '(MISMATCH)'}; `
    + `dead-lettered ${fmtInt(Number(dead?.dead ?? 0))} of ${fmtInt(malformed)} malformed`);

  const rawRate = raw ? raw.messages / (raw.ms / 1000) : null;
  const table: Array<[string, string]> = [
    ['records', fmtInt(total)],
    ['raw consume rate', raw ? `${fmtInt(rawRate!)} rec/s` : 'skipped'],
    ['end-to-end rate', `${fmtInt(e2eRate)} rec/s`],
    ['end-to-end / raw', rawRate ? `${((100 * e2eRate) / rawRate).toFixed(0)}%` : '-'],
    ['service CPU per record', e.cpuSec ? `${((e.cpuSec * 1e6) / total).toFixed(1)} µs` : '?'],
    ['service peak RSS', e.peakRssMiB !== null ? `${e.peakRssMiB.toFixed(0)} MiB` : '?'],
    ['totals stored / expected', exact ? 'exact, to the cent' : `MISMATCH: ${JSON.stringify(stored)} vs ${JSON.stringify(expected)}`],
  ];
  const width = Math.max(...table.map(([k]) => k.length));
  log('');
  for (const [k, v] of table) log(`  ${k.padEnd(width)}  ${v}`);
  if (!exact) throw new Error('the stored totals differ from the generated stream');
}

await runBench(main);
