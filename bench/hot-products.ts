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
// The target of the hot-products job is 50,000 records/s per core (Flink's Nexmark q5, hot items
// over a hopping window, exactly-once: about 22,100/s per core). "Per core" here is
// records / the service process's CPU seconds (utime + stime of /proc/<pid>/stat)
// between ready and done: how many records one fully busy core would take.
//
// Everything it creates (topic + .dlq, database, groups) is random and removed at
// the end, also on failure or Ctrl-C.
import { performance } from 'node:perf_hooks';
import { parseProductClick } from '../src/jobs/hot-products/product-click-format.js';
import type { FillRecord } from '../src/sample/fill-topic.js';
import {
  generateProductClicks,
  type ProductClickGeneratorOptions,
} from '../src/jobs/hot-products/product-click-generator.js';
import { HotProductStore } from '../src/jobs/hot-products/hot-product-store.js';
import { createDb } from '../src/store/prisma-client.js';
import { RANKING_REFRESH_MS, RANKING_SPAN_MS, rankingWindowAt } from '../src/jobs/hot-products/hot-ranking.js';
import { randomName, sql } from '../test/helpers/services.js';
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

const USAGE = `usage: npm run bench:clicks -- [--records N] [--products N] [--batch-size N] [--skip-raw] [--service-logs] [--cpu-prof DIR]

  --records N      click-stream records to produce (default 1000000)
  --products N     catalogue size of the generator (default 3000)
  --batch-size N   records per producer send (default 10000, 4 sends in flight)
  --skip-raw       skip the raw kafkajs consumer
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

/** The hot-products job's throughput target, records per second per core (about twice Flink's). */
const TARGET_PER_CORE = 50_000;
/** Flink's published Nexmark q5, records per second per core. */
const FLINK_Q5_PER_CORE = 22_100;

async function main(): Promise<void> {
  const args = parseBenchArgs(USAGE, { products: 3_000 });
  const eventsPerSecond = 1_000;
  const generator: ProductClickGeneratorOptions = {
    seed: 61024,
    products: args.products,
    startTimeMs: Date.UTC(2026, 0, 1),
    eventsPerSecond,
    count: args.records,
  };
  log(
    `hot-products bench: ${fmtInt(args.records)} records, ${fmtInt(args.products)} products, ` +
      `${fmtInt(eventsPerSecond)} records/s of event time = ${(args.records / eventsPerSecond / 60).toFixed(1)} min of events, ` +
      `${PARTITIONS} partitions; ${machineLine()}`,
  );

  const { topic, db } = await createBenchTopicAndDatabase('bench-clicks');

  // 1. fill, counting what the job must find.
  log(`1. fill   topic ${topic.topic} …`);
  let clicks = 0;
  let malformed = 0;
  function* counted(): Generator<FillRecord> {
    for (const r of generateProductClicks(generator)) {
      if (r.malformed) malformed++;
      else if (parseProductClick(r.value).action === 'click') clicks++;
      yield r;
    }
  }
  const fill = await fillBenchTopic({
    topic: topic.topic,
    records: counted(),
    count: args.records,
    batchSize: args.batchSize,
  });
  const { latest, total } = fill;
  logFill(fill, `${fmtInt(clicks)} clicks, ${fmtInt(malformed)} malformed`);

  // 2. raw consume.
  const raw = await rawStep(topic.topic, total, args.skipRaw);

  // 3. end to end.
  const group = randomName('bench-hot-products');
  const e = await serviceStep({
    dbUrl: db.url,
    dbName: db.name,
    group,
    latest,
    total,
    env: {
      JOBS: 'hot-products',
      PRODUCT_CLICKS_TOPIC: topic.topic,
      HOT_PRODUCTS_GROUP: group,
      // The stream's event time is in the past: idle advance would only add commits.
      IDLE_TIMEOUT_MS: '3600000',
    },
    cpuProfDir: args.cpuProf,
    serviceLogs: args.serviceLogs,
  });

  const [sums] = await sql<{ clicks: bigint | null; products: bigint }>(
    db.url,
    'SELECT SUM(clicks) AS clicks, COUNT(DISTINCT product_id) AS products FROM product_click_total',
  );
  const [rows] = await sql<{ minutes: bigint }>(
    db.url,
    'SELECT COUNT(*) AS minutes FROM (SELECT 1 FROM product_click_minute GROUP BY product_id, window_start) m',
  );
  const [dead] = await sql<{ dead: bigint | null }>(
    db.url,
    'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?',
    [group],
  );
  const [emitted] = await sql<{ n: bigint }>(db.url, 'SELECT COUNT(*) AS n FROM hot_products_emission');
  const storedClicks = Number(sums.clicks ?? 0);
  const perCore = e.cpuSec ? total / e.cpuSec : null;
  log(
    `   stored clicks ${fmtInt(storedClicks)} of ${fmtInt(clicks)} produced ${storedClicks === clicks ? '(exact)' : '(MISMATCH)'}; ` +
      `${fmtInt(Number(sums.products))} products, ${fmtInt(Number(rows.minutes))} product-minute rows; ` +
      `dead-lettered ${fmtInt(Number(dead.dead ?? 0))} of ${fmtInt(malformed)} malformed; rankings published ${fmtInt(Number(emitted.n))}`,
  );

  // Query-time cost of the rankings over the stored minutes: the hour ending at the first boundary after the stream.
  const prisma = createDb(db.url);
  onCleanup('prisma client', () => prisma.$disconnect());
  const store = new HotProductStore(prisma);
  const spanEnd =
    rankingWindowAt(generator.startTimeMs! + (args.records / eventsPerSecond) * 1000).endMs + RANKING_REFRESH_MS;
  const timed = async (fn: () => Promise<unknown>) => {
    await fn();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await fn();
    return (performance.now() - t0) / 5;
  };
  const rankingMs = await timed(() => store.ranking(spanEnd - RANKING_SPAN_MS, spanEnd, 10));
  const byCategoryMs = await timed(() => store.rankingByCategory(spanEnd - RANKING_SPAN_MS, spanEnd, 3));
  log(
    `   queries over the hour before ${new Date(spanEnd).toISOString()}: hotProducts(limit 10) ${rankingMs.toFixed(0)} ms, hotProductsByCategory(limit 3) ${byCategoryMs.toFixed(0)} ms (mean of 5)`,
  );

  printTable([
    ...summaryRows(total, fill, raw, e),
    [
      'per core (records / CPU s)',
      perCore
        ? `${fmtInt(perCore)} rec/s per core (target ${fmtInt(TARGET_PER_CORE)}; Flink Nexmark q5 ~${fmtInt(FLINK_Q5_PER_CORE)})`
        : '?',
    ],
    ['ranking queries', `${rankingMs.toFixed(0)} ms (top 10), ${byCategoryMs.toFixed(0)} ms (top 3 per category)`],
    ['clicks stored / produced', `${fmtInt(storedClicks)} / ${fmtInt(clicks)}`],
  ]);
  if (storedClicks !== clicks) throw new Error(`the service stored ${storedClicks} clicks, the topic holds ${clicks}`);
}

await runBench(main);
