// `npm run bench:clicks [-- --records N]`: throughput of the hot-products job
// against the real Kafka, MariaDB and Redis of `scripts/stack.sh`.
//
//   1. fill      a fresh 3-partition topic with N generated product clicks
//                (Zipf-skewed over 3,000 products, 85% clicks, a few malformed)
//   2. raw       a plain kafkajs consumer reads the topic (count + resolve only),
//                with the service's fetch settings: the ceiling set by Kafka + kafkajs
//   3. e2e       the real service (`node dist/src/main.js`, ROLES=worker,
//                JOBS=hot-products) consumes the same topic into a fresh database;
//                timed until every partition's committed next_offset reaches the end
//
// The target of issue 4 is 50,000 records/s per core (Flink's Nexmark q5, hot items
// over a hopping window, exactly-once: about 22,100/s per core). "Per core" here is
// records / the service process's CPU seconds (utime + stime of /proc/<pid>/stat)
// between ready and done: how many records one fully busy core would take.
//
// Everything it creates (topic + .dlq, database, groups) is random and removed at
// the end, also on failure or Ctrl-C.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createConnection } from 'mariadb';
import { parseProductClick } from '../src/ingest/formats/product-click.js';
import { fillTopic, type FillRecord } from '../src/sample/fill-topic.js';
import { generateProductClicks, type ProductClickGeneratorOptions } from '../src/sample/product-click-generator.js';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import { HotProductStore } from '../src/store/hot-product-store.js';
import { createDb } from '../src/store/prisma-client.js';
import { RANKING_REFRESH_MS, RANKING_SPAN_MS, rankingWindowAt } from '../src/stream/hot-ranking.js';
import { connectAdmin, createTestDatabase, createTestTopic, KAFKA_BROKERS, randomName, sql } from '../test/helpers/services.js';
import { fmtInt, fmtRate, fmtSec, log, MiB, onCleanup, rawConsume, runBench, timeService, type RawResult } from './bench-kit.js';

const USAGE = `usage: npm run bench:clicks -- [--records N] [--products N] [--batch-size N] [--skip-raw] [--service-logs] [--cpu-prof DIR]

  --records N      click-stream records to produce (default 1000000)
  --products N     catalogue size of the generator (default 3000)
  --batch-size N   records per producer send (default 10000, 4 sends in flight)
  --skip-raw       skip the raw kafkajs consumer
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

const PARTITIONS = 3;
/** Issue 4's target, records per second per core. */
const TARGET_PER_CORE = 50_000;
/** Flink's published Nexmark q5, records per second per core. */
const FLINK_Q5_PER_CORE = 22_100;

function parseCli() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      products: { type: 'string' },
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
    products: int('products', values.products, 3_000, 1),
    batchSize: int('batch-size', values['batch-size'], 10_000, 1),
    skipRaw: values['skip-raw'] ?? false,
    serviceLogs: values['service-logs'] ?? false,
    cpuProf: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : null,
  };
}

async function main(): Promise<void> {
  const args = parseCli();
  const eventsPerSecond = 1_000;
  const generator: ProductClickGeneratorOptions = {
    seed: 61024, products: args.products, startTimeMs: Date.UTC(2026, 0, 1), eventsPerSecond, count: args.records,
  };
  log(`hot-products bench: ${fmtInt(args.records)} records, ${fmtInt(args.products)} products, `
    + `${fmtInt(eventsPerSecond)} records/s of event time = ${(args.records / eventsPerSecond / 60).toFixed(1)} min of events, `
    + `${PARTITIONS} partitions; node ${process.version}, ${os.availableParallelism()} CPUs, load ${os.loadavg()[0]!.toFixed(1)}`);

  const topic = await createTestTopic('bench-clicks', PARTITIONS);
  onCleanup(`topics ${topic.topic}(.dlq)`, () => topic.delete());
  const db = await createTestDatabase();
  onCleanup(`database ${db.name}`, () => db.drop());

  // 1. fill, counting what the job must find.
  log(`1. fill   topic ${topic.topic} …`);
  let clicks = 0;
  let malformed = 0;
  let bytes = 0;
  function* counted(): Generator<FillRecord> {
    for (const r of generateProductClicks(generator)) {
      if (r.malformed) malformed++;
      else if (parseProductClick(r.value).action === 'click') clicks++;
      bytes += r.value.length + (r.key?.length ?? 0);
      yield { key: r.key, value: r.value };
    }
  }
  const fill = await fillTopic({ brokers: KAFKA_BROKERS, topic: topic.topic, records: counted(), batchSize: args.batchSize });
  const admin = await connectAdmin();
  const latest = new Map((await admin.fetchTopicOffsets(topic.topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const total = [...latest.values()].reduce((a, b) => a + b, 0);
  if (total !== args.records) throw new Error(`topic holds ${total} records, expected ${args.records}`);
  log(`   ${fmtInt(total)} records (${fmtInt(clicks)} clicks, ${fmtInt(malformed)} malformed), ${(bytes / MiB).toFixed(1)} MiB in ${fmtSec(fill.ms)}: `
    + `${fmtRate(total, fill.ms)}; per partition ${[...latest.values()].map(fmtInt).join(' / ')}`);

  // 2. raw consume.
  let raw: RawResult | null = null;
  if (!args.skipRaw) {
    log('2. raw    plain kafkajs consumer (count + resolveOffset), service fetch settings …');
    raw = await rawConsume(topic.topic, total);
    log(`   ${fmtInt(raw.messages)} records in ${fmtSec(raw.ms)} from run() (join ${fmtSec(raw.joinMs)}): ${fmtRate(raw.messages, raw.ms)}; `
      + `${fmtInt(raw.batches)} batches, ${fmtInt(raw.messages / Math.max(1, raw.batches))} records/batch; CPU ${raw.cpuSec.toFixed(1)} s`);
  }

  // 3. end to end.
  log(`3. e2e    service (ROLES=worker, JOBS=hot-products, LOG_LEVEL=warn) -> database ${db.name} …`);
  const group = randomName('bench-hot-products');
  const conn = await createConnection({ ...parseDatabaseUrl(db.url), connectTimeout: 5_000 });
  onCleanup('poll connection', () => conn.end());
  const e = await timeService({
    conn, group, latest, total,
    env: {
      DATABASE_URL: db.url,
      JOBS: 'hot-products',
      PRODUCT_CLICKS_TOPIC: topic.topic,
      HOT_PRODUCTS_GROUP: group,
      // The stream's event time is in the past: idle advance would only add commits.
      IDLE_TIMEOUT_MS: '3600000',
    },
    cpuProfDir: args.cpuProf,
    serviceLogs: args.serviceLogs,
  });

  const [sums] = await sql<{ clicks: bigint | null; products: bigint }>(db.url, 'SELECT SUM(clicks) AS clicks, COUNT(*) AS products FROM product_click_total');
  const [rows] = await sql<{ minutes: bigint }>(db.url, 'SELECT COUNT(*) AS minutes FROM product_click_minute');
  const [dead] = await sql<{ dead: bigint | null }>(db.url, 'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?', [group]);
  const [emitted] = await sql<{ n: bigint }>(db.url, 'SELECT COUNT(*) AS n FROM hot_products_emission');
  const storedClicks = Number(sums?.clicks ?? 0);
  const e2eRate = total / (e.ms / 1000);
  const perCore = e.cpuSec ? total / e.cpuSec : null;
  log(`   ready after ${fmtSec(e.startupMs)}; ${fmtInt(total)} records committed in ${fmtSec(e.ms)} from ready: ${fmtInt(e2eRate)} rec/s (${fmtRate(total, e.fromSpawnMs)} from spawn)`);
  log(`   service CPU ${e.cpuSec?.toFixed(1) ?? '?'} s (${e.cpuSec !== null ? ((100 * e.cpuSec) / (e.ms / 1000)).toFixed(0) : '?'}% of one core); `
    + `peak RSS ${e.peakRssMiB?.toFixed(0) ?? '?'} MiB; exit code ${e.exitCode}; ${e.warnLines} log lines at warn or above`);
  log(`   stored clicks ${fmtInt(storedClicks)} of ${fmtInt(clicks)} produced ${storedClicks === clicks ? '(exact)' : '(MISMATCH)'}; `
    + `${fmtInt(Number(sums?.products ?? 0))} products, ${fmtInt(Number(rows?.minutes ?? 0))} product-minute rows; `
    + `dead-lettered ${fmtInt(Number(dead?.dead ?? 0))} of ${fmtInt(malformed)} malformed; rankings published ${fmtInt(Number(emitted?.n ?? 0))}`);

  // Query-time cost of the rankings over the stored minutes: the hour ending at the first boundary after the stream.
  const prisma = createDb(db.url);
  onCleanup('prisma client', () => prisma.$disconnect());
  const store = new HotProductStore(prisma);
  const spanEnd = rankingWindowAt(generator.startTimeMs! + (args.records / eventsPerSecond) * 1000).endMs + RANKING_REFRESH_MS;
  const timed = async (fn: () => Promise<unknown>) => {
    await fn();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await fn();
    return (performance.now() - t0) / 5;
  };
  const rankingMs = await timed(() => store.ranking(spanEnd - RANKING_SPAN_MS, spanEnd, 10));
  const byCategoryMs = await timed(() => store.rankingByCategory(spanEnd - RANKING_SPAN_MS, spanEnd, 3));
  log(`   queries over the hour before ${new Date(spanEnd).toISOString()}: hotProducts(limit 10) ${rankingMs.toFixed(0)} ms, hotProductsByCategory(limit 3) ${byCategoryMs.toFixed(0)} ms (mean of 5)`);

  const rawRate = raw ? raw.messages / (raw.ms / 1000) : null;
  const table: Array<[string, string]> = [
    ['records', fmtInt(total)],
    ['raw consume rate', raw ? `${fmtInt(rawRate!)} rec/s (consumer CPU ${((raw.cpuSec * 1e6) / raw.messages).toFixed(1)} µs/record)` : 'skipped'],
    ['end-to-end rate', `${fmtInt(e2eRate)} rec/s`],
    ['end-to-end / raw', rawRate ? `${((100 * e2eRate) / rawRate).toFixed(0)}%` : '-'],
    ['service CPU per record', e.cpuSec ? `${((e.cpuSec * 1e6) / total).toFixed(1)} µs` : '?'],
    ['per core (records / CPU s)', perCore ? `${fmtInt(perCore)} rec/s per core (target ${fmtInt(TARGET_PER_CORE)}; Flink Nexmark q5 ~${fmtInt(FLINK_Q5_PER_CORE)})` : '?'],
    ['service peak RSS', e.peakRssMiB !== null ? `${e.peakRssMiB.toFixed(0)} MiB` : '?'],
    ['ranking queries', `${rankingMs.toFixed(0)} ms (top 10), ${byCategoryMs.toFixed(0)} ms (top 3 per category)`],
    ['clicks stored / produced', `${fmtInt(storedClicks)} / ${fmtInt(clicks)}`],
  ];
  const width = Math.max(...table.map(([k]) => k.length));
  log('');
  for (const [k, v] of table) log(`  ${k.padEnd(width)}  ${v}`);
  if (storedClicks !== clicks) throw new Error(`the service stored ${storedClicks} clicks, the topic holds ${clicks}`);
}

await runBench(main);
