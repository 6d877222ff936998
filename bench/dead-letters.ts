// `npm run bench:dead-letters [-- --records N]`: how fast the recharge-metrics
// job gets through a backlog of malformed records (each one dead-lettered to
// `<topic>.dlq` and counted) against a backlog of good ones, in one run, on
// the real Kafka, MariaDB and Redis of `scripts/stack.sh`.
//
//   1. fill      two fresh 3-partition topics with N records each: generated
//                recharge events (the good backlog), and malformed records as
//                large (cut-off JSON: the bad backlog)
//   2. good      the real service (ROLES=worker, JOBS=recharge-metrics, the
//                default transaction size) reads the good topic into a fresh
//                database, timed until every partition's committed next_offset
//                reaches the end
//   3. bad       the same for the malformed topic, each record dead-lettered
//   4. check     every malformed record is counted in consumer_offset once and
//                the dead-letter topic holds at least that many records
//   5. raw       the ceiling: the same dead letters sent by the service's sink
//                with a plain kafkajs producer, without consuming, parsing or
//                a database
//   6. bare      the same again with each record's headers left out (key and
//                value only): what the eight `dlq.*` headers cost the client
//
// The ratio printed is bad/good: at least 1 means a backlog of bad records is
// dead-lettered at least as fast as good records are committed. Everything it
// creates is random and removed at the end, also on failure or Ctrl-C.
import { createKafka } from '../src/ingest/kafka-client.js';
import type { DeadLetter } from '../src/engine/job.js';
import { DeadLetterSink, type DeadLetterProducer } from '../src/runner/dead-letter-sink.js';
import type { FillRecord } from '../src/sample/fill-topic.js';
import { generateRecharges } from '../src/jobs/recharge-metrics/recharge-generator.js';
import { latestOffsets, sumOffsets } from '../test/helpers/job-runs.js';
import { createTestTopic, KAFKA_BROKERS, randomName, sql } from '../test/helpers/services.js';
import {
  coreShare,
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
  usPerRecord,
  type ServiceRun,
} from './bench-kit.js';

const USAGE = `usage: npm run bench:dead-letters -- [--records N] [--batch-size N] [--service-logs] [--cpu-prof DIR]

  --records N      records in each backlog (default 1000000)
  --batch-size N   records per producer send (default 10000, 4 sends in flight)
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

/** Malformed recharge records of about 260 bytes (as large as the generated good ones): cut-off JSON, as a producer bug writes them. */
function* malformed(count: number): Generator<FillRecord> {
  const padding = 'x'.repeat(220);
  for (let i = 0; i < count; i++) yield { key: `bad-${i}`, value: `{"orderId":"bad-${i}","padding":"${padding}` };
}

async function runOn(
  label: string,
  records: Iterable<FillRecord>,
  count: number,
  batchSize: number,
  args: { cpuProf: string | null; serviceLogs: boolean },
): Promise<{ run: ServiceRun; total: number; dbUrl: string; group: string; dlq: string }> {
  const { topic, db } = await createBenchTopicAndDatabase(`bench-dlq-${label}`);
  const group = randomName(`bench-dlq-${label}`);
  log(`1. fill   topic ${topic.topic} (${label}) …`);
  const fill = await fillBenchTopic({ topic: topic.topic, records, count, batchSize });
  logFill(fill, label);
  const run = await serviceStep({
    dbUrl: db.url,
    dbName: db.name,
    group,
    latest: fill.latest,
    total: fill.total,
    env: {
      JOBS: 'recharge-metrics',
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
    },
    cpuProfDir: args.cpuProf,
    serviceLogs: args.serviceLogs,
  });
  return { run, total: fill.total, dbUrl: db.url, group, dlq: topic.dlq };
}

/**
 * The ceiling of dead-lettering on this machine: the dead letters of
 * `count` malformed records, sent by the service's own sink with a plain
 * kafkajs producer (same messages, headers and request sizes, transactions
 * of 20,000 records over 3 partitions), with no consuming, parsing or database.
 */
async function rawProduce(count: number, withHeaders = true): Promise<{ ms: number; cpuSec: number }> {
  const topic = await createTestTopic('bench-dlq-raw', PARTITIONS);
  onCleanup(`topics ${topic.topic}(.dlq)`, () => topic.delete());
  const producer = createKafka(KAFKA_BROKERS, randomName('bench-dlq-raw')).producer({ maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const bare: DeadLetterProducer = {
      send: (r) => producer.send({ ...r, messages: r.messages.map((m) => ({ key: m.key, value: m.value })) }),
    };
    const sink = new DeadLetterSink(withHeaders ? producer : bare, { name: 'recharge-metrics', topic: topic.topic });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const perTransaction = 20_000;
    let offset = 0n;
    let batch: DeadLetter[] = [];
    for (const r of malformed(count)) {
      batch.push({
        record: {
          offset: offset++,
          key: Buffer.from(r.key ?? ''),
          value: Buffer.from(r.value),
          timestampMs: Date.now(),
        },
        reason: 'bad-json',
        detail: 'Unterminated string in JSON at position 279',
      });
      if (batch.length === perTransaction) {
        await sink.send(Number(offset / BigInt(perTransaction)) % PARTITIONS, batch);
        batch = [];
      }
    }
    await sink.send(0, batch);
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    return { ms, cpuSec: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await producer.disconnect();
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(USAGE);
  log(
    `dead-letter bench (recharge-metrics): ${fmtInt(args.records)} good and ${fmtInt(args.records)} malformed records, ` +
      `${PARTITIONS} partitions each; ${machineLine()}`,
  );
  const good = await runOn(
    'good',
    generateRecharges({
      seed: 7331,
      count: args.records,
      startTimeMs: Date.UTC(2025, 11, 31, 15, 55),
      eventsPerSecond: 1_000,
    }),
    args.records,
    args.batchSize,
    args,
  );
  const bad = await runOn('malformed', malformed(args.records), args.records, args.batchSize, args);
  const [dead] = await sql<{ dead: bigint | null }>(
    bad.dbUrl,
    'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?',
    [bad.group],
  );
  const counted = Number(dead.dead ?? 0);
  const inTopic = sumOffsets(await latestOffsets(bad.dlq));
  const exact = counted === bad.total && inTopic >= bad.total;
  log(
    `4. check  ${fmtInt(counted)} of ${fmtInt(bad.total)} malformed records counted as dead-lettered; ` +
      `${fmtInt(inTopic)} records in ${bad.dlq} ${exact ? '(all there)' : '(MISSING)'}`,
  );

  log(
    '5. raw    the same dead letters sent by the sink with a plain kafkajs producer (no consume, parse or database) …',
  );
  const raw = await rawProduce(args.records);
  log(`   ${fmtInt(args.records)} dead letters in ${(raw.ms / 1000).toFixed(2)} s: ${fmtRate(args.records, raw.ms)}`);
  log('6. bare   the same without their headers (key and value only) …');
  const bare = await rawProduce(args.records, false);
  log(`   ${fmtInt(args.records)} records in ${(bare.ms / 1000).toFixed(2)} s: ${fmtRate(args.records, bare.ms)}`);

  const rate = (r: { run: ServiceRun; total: number }) => r.total / (r.run.ms / 1000);
  const cpu = (r: { run: ServiceRun; total: number }) =>
    r.run.cpuSec !== null
      ? `${usPerRecord(r.run.cpuSec, r.total)} per record, ${coreShare(r.run.cpuSec, r.run.ms)}% of a core`
      : '?';
  printTable([
    ['good records committed', fmtRate(good.total, good.run.ms)],
    ['malformed records dead-lettered', fmtRate(bad.total, bad.run.ms)],
    ['dead-lettered / committed', `${(rate(bad) / rate(good)).toFixed(2)} (goal >= 1)`],
    ['raw dead-letter produce (ceiling)', fmtRate(args.records, raw.ms)],
    ['dead-lettered / raw produce', (rate(bad) / (args.records / (raw.ms / 1000))).toFixed(2)],
    ['raw produce / committed', (args.records / (raw.ms / 1000) / rate(good)).toFixed(2)],
    [
      'process CPU, raw produce',
      `${usPerRecord(raw.cpuSec, args.records)} per record, ${coreShare(raw.cpuSec, raw.ms)}% of a core`,
    ],
    ['raw produce without headers', fmtRate(args.records, bare.ms)],
    ['raw produce without headers / committed', (args.records / (bare.ms / 1000) / rate(good)).toFixed(2)],
    [
      'process CPU, raw produce without headers',
      `${usPerRecord(bare.cpuSec, args.records)} per record, ${coreShare(bare.cpuSec, bare.ms)}% of a core`,
    ],
    ['service CPU, good', cpu(good)],
    ['service CPU, malformed', cpu(bad)],
    ['log lines at warn or above', `good ${good.run.warnLines}, malformed ${bad.run.warnLines}`],
    [
      'dead letters counted / written',
      exact ? 'every one, once' : `MISSING: ${counted} counted, ${inTopic} in the topic`,
    ],
  ]);
  if (!exact) throw new Error('dead letters are missing');
}

await runBench(main);
