// `npm run bench:api [-- --rate N --duration S --ingest-rate N]`: latency of the
// GraphQL read path at a FIXED offered request rate while the jobs ingest.
//
//   0. setup     three fresh 3-partition topics (behaviour, recharge, clicks, each
//                with its .dlq), a fresh migrated database with N seeded
//                `unpayment_record` rows, and the service (`node dist/src/main.js`) as
//                two processes, as deployed: ROLES=api on a free loopback port and
//                ROLES=worker (all four jobs, fresh consumer groups); --combined runs
//                one ROLES=worker,api process instead
//   1. ingest    three `scripts/produce.js` child processes write the sample
//                generators' records at --ingest-rate records/s in all (a third per
//                topic) until the end; the bench waits until every job has
//                committed records, then samples one response of every query
//                (abort when one answers an error or no data)
//   2. reads     --rate requests/s of each query in turn for --duration seconds
//                over POST /graphql with an ops key, arrivals spaced evenly (open
//                loop, bench/paced-load.ts; --pacing burst uses autocannon's
//                per-second bursts instead), and the
//                bench records every response's latency, non-2xx and GraphQL
//                `errors`, each process's CPU (utime + stime of /proc/<pid>/stat)
//                and the topics' growth (the achieved ingest rate)
//   3. table     per query: offered and achieved rate, p50 / p99 / max latency in
//                milliseconds, errors, p99 over the `{ __typename }` baseline's p99
//                of the same run, API and worker CPU as % of one core, ingest rate;
//                `--json` prints the same as one JSON document on stdout
//
// Everything it creates (topics, database, groups, Redis keys, processes) is
// random or its own and is removed at the end, also on failure, on Ctrl-C and
// when the run exceeds its time bound. All traffic stays on 127.0.0.1.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { quantile, startPacedLoad } from './paced-load.js';
import { samplePhone } from '../src/jobs/user-behavior/user-behavior-generator.js';
import { RECHARGE_KEY_PREFIX } from '../src/jobs/recharge-metrics/recharge-serving-cache.js';
import type { TestTopic } from '../test/helpers/job-runs.js';
import {
  connectAdmin,
  createTestDatabase,
  createTestTopic,
  KAFKA_BROKERS,
  randomName,
  REDIS_URL,
  sql,
  waitFor,
} from '../test/helpers/services.js';
import {
  coreShare,
  cpuSeconds,
  fmtInt,
  intFlag,
  machineCpuSeconds,
  machineLine,
  onCleanup,
  PARTITIONS,
  runBench,
  runQueueWaitSeconds,
  SERVICE_ENV,
  sleep,
  lastLines,
  stopChild,
} from './bench-kit.js';

const USAGE = `usage: npm run bench:api -- [--rate N] [--duration S] [--ingest-rate N] [--connections N] [--pacing even|burst] [--seed-rows N] [--warmup S] [--read-warmup S] [--combined] [--api-nice N] [--queries LIST] [--cpu-prof DIR] [--json] [--service-logs]

  --rate N          requests/s offered for each query (default 1000)
  --duration S      seconds of load per query (default 10)
  --ingest-rate N   records/s produced in all while measuring, a third per topic (default 5000)
  --connections N   keep-alive HTTP connections of the load (default 50; at most --rate)
  --pacing MODE     even: open-loop arrivals 1/rate apart, latency from each scheduled instant (default);
                    burst: autocannon's overallRate, each connection's per-second budget sent back to back
  --seed-rows N     unpayment_record rows inserted before the run (default 10000)
  --warmup S        seconds of ingest before the first query (default 5)
  --read-warmup S   seconds each query is offered, unrecorded, just before its measured load (default 2)
  --combined        one service process with ROLES=worker,api instead of an API process apart from the worker
  --api-nice N      run each service process and producer in a session of its own and give the API process's
                    and this bench's (the load generator's) scheduling groups niceness N (-20..19; below 0 needs
                    root): the API and its clients ahead of the ingest for the CPU (Linux autogroups)
  --queries LIST    comma-separated names of the queries to load after the baseline (dashboard, unpaidUsers,
                    unpaidUsersDeep, unpaidUser, hotProducts, consumerOffsets; default all)
  --cpu-prof DIR    run the API and the worker process under \`node --cpu-prof --cpu-prof-dir DIR\` (profiles written
                    when they stop, named CPU.<date>.<time>.<pid>…; the pids are printed at the start)
  --json            print the table as one JSON document on stdout (the log goes to stderr)
  --service-logs    copy the service's log lines (LOG_LEVEL=warn) to stderr`;

interface ApiBenchArgs {
  rate: number;
  durationSec: number;
  ingestRate: number;
  connections: number;
  /** How arrivals are spread over each second: evenly (open loop) or autocannon's per-second bursts. */
  pacing: 'even' | 'burst';
  seedRows: number;
  warmupSec: number;
  /** Seconds each query is offered, unrecorded, right before its measured load (JIT, caches, connections). */
  readWarmupSec: number;
  json: boolean;
  serviceLogs: boolean;
  /** One process with both roles (the old layout) instead of an API process apart from the worker. */
  combined: boolean;
  /**
   * Niceness of the API's and the load generator's scheduling groups (Linux autogroups), with every child
   * process in a session of its own; null to leave every process in the bench's session at its niceness.
   */
  apiNice: number | null;
  /** Keys of the queries to load after the baseline; null for all. */
  queries: Set<string> | null;
  /** Absolute directory for the service processes' `node --cpu-prof`, or null. */
  cpuProf: string | null;
}

function parseCommandLine(): ApiBenchArgs {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      'ingest-rate': { type: 'string' },
      connections: { type: 'string' },
      pacing: { type: 'string', default: 'even' },
      'seed-rows': { type: 'string' },
      warmup: { type: 'string' },
      'read-warmup': { type: 'string' },
      json: { type: 'boolean', default: false },
      combined: { type: 'boolean', default: false },
      'api-nice': { type: 'string' },
      queries: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'service-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, def: number, min: number) => intFlag(name, raw, def, min, USAGE);
  const rate = int('rate', values.rate, 1_000, 1);
  // The deep page sits about 5,000 rows in: the seed must hold that many.
  const seedRows = int('seed-rows', values['seed-rows'], 10_000, DEEP_PAGE_ROWS + PAGE_SIZE);
  return {
    rate,
    durationSec: int('duration', values.duration, 10, 1),
    ingestRate: int('ingest-rate', values['ingest-rate'], 5_000, 3),
    connections: Math.min(rate, int('connections', values.connections, 50, 1)),
    seedRows,
    warmupSec: int('warmup', values.warmup, 5, 0),
    readWarmupSec: int('read-warmup', values['read-warmup'], 2, 0),
    pacing: parsePacing(values.pacing),
    json: values.json,
    serviceLogs: values['service-logs'],
    combined: values.combined,
    apiNice: parseNice(values['api-nice']),
    queries: values.queries === undefined ? null : new Set(values.queries.split(',').map((q) => q.trim())),
    cpuProf: values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']),
  };
}

function parseNice(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -20 || n > 19)
    throw new Error(`--api-nice: expected an integer from -20 to 19, got ${JSON.stringify(raw)}\n${USAGE}`);
  return n;
}

function parsePacing(raw: string): ApiBenchArgs['pacing'] {
  if (raw === 'even' || raw === 'burst') return raw;
  throw new Error(`--pacing: expected even or burst, got ${JSON.stringify(raw)}\n${USAGE}`);
}

/** Rows before the deep page of `unpaidUsers`. */
const DEEP_PAGE_ROWS = 5_000;
/** `first` of the measured pages. */
const PAGE_SIZE = 20;
/** Seeded uids `unpaidUser` rotates over. */
const ROTATED_UIDS = 1_000;
/** The ops key of this run only: its rate-limit budget in Redis is its own. */
const OPS_KEY = randomName('bench-ops-key');

type GraphQLData = Record<string, unknown>;

/** One measured query: its request bodies (rotated in turn) and what a useful answer holds. */
interface ReadQuery {
  /** Short name for --queries. */
  key: string;
  name: string;
  bodies: string[];
  /** Why `data` is not a useful answer, or null when it is. */
  check(data: GraphQLData): string | null;
}

const body = (query: string, variables?: Record<string, unknown>) =>
  JSON.stringify(variables ? { query, variables } : { query });
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

async function main(args: ApiBenchArgs): Promise<void> {
  const say = args.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  say(
    `api bench: ${fmtInt(args.rate)} requests/s offered per query for ${args.durationSec} s, ${args.connections} connections, ${args.pacing} pacing, ` +
      `ingest ${fmtInt(args.ingestRate)} records/s, ${fmtInt(args.seedRows)} seeded unpaid users; ${machineLine()}`,
  );

  // 0. setup: topics, database, seed.
  const topics = {
    behavior: await benchTopic('bench-api-behavior'),
    recharge: await benchTopic('bench-api-recharge'),
    clicks: await benchTopic('bench-api-clicks'),
  };
  const db = await createTestDatabase();
  onCleanup(`database ${db.name}`, () => db.drop());
  const seeded = await seedUnpaidUsers(db.url, args.seedRows);
  say(
    `0. setup  topics ${Object.values(topics)
      .map((t) => t.topic)
      .join(', ')}; database ${db.name} with ${fmtInt(args.seedRows)} unpayment_record rows`,
  );

  const groups = {
    abnormalOrders: randomName('bench-api-abnormal-orders'),
    recharge: randomName('bench-api-recharge-metrics'),
    hotProducts: randomName('bench-api-hot-products'),
    dau: randomName('bench-api-daily-active-users'),
  };
  onCleanup('kafka groups', async () => {
    const admin = await connectAdmin();
    // Best effort: a group left over is only clutter on the shared broker.
    await admin.deleteGroups(Object.values(groups)).catch(() => undefined);
    await admin.disconnect();
  });
  onCleanup('redis keys', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const keys = await redis.keys(`${RECHARGE_KEY_PREFIX}${groups.recharge}:*`);
      if (keys.length > 0) await redis.unlink(...keys);
    } finally {
      redis.disconnect();
    }
  });

  // The documented deployment runs the API apart from the workers: a batch's CPU burst (parse, window,
  // serialise tens of thousands of records) holds one event loop for tens of milliseconds, and every
  // request queued behind it waits that long. --combined measures the one-process layout.
  const serviceEnv = {
    DATABASE_URL: db.url,
    JOBS: 'abnormal-orders,recharge-metrics,hot-products,daily-active-users',
    USER_BEHAVIOR_TOPIC: topics.behavior.topic,
    RECHARGE_TOPIC: topics.recharge.topic,
    PRODUCT_CLICKS_TOPIC: topics.clicks.topic,
    ABNORMAL_ORDERS_GROUP: groups.abnormalOrders,
    RECHARGE_GROUP: groups.recharge,
    HOT_PRODUCTS_GROUP: groups.hotProducts,
    DAU_GROUP: groups.dau,
    API_KEYS: `ops:${OPS_KEY}`,
    // The operation budget per key would refuse the offered load: this bench measures the reads, not the limiter's refusals.
    RATE_LIMIT_PER_MINUTE: String(Math.max(1_000_000, args.rate * 60 * 10)),
    LOG_LEVEL: 'warn',
  };
  const port = await freeLoopbackPort();
  const cpuProfArgs = args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : [];
  ownSessions = args.apiNice !== null;
  const api = startService(
    args.combined ? 'service' : 'api',
    { ...serviceEnv, PORT: String(port), ROLES: args.combined ? 'worker,api' : 'api' },
    args.serviceLogs,
    cpuProfArgs,
  );
  if (args.apiNice !== null) {
    setAutogroupNice(api.pid, args.apiNice);
    setAutogroupNice('self', args.apiNice);
  }
  const workerPort = args.combined ? null : await freeLoopbackPort();
  const worker =
    workerPort === null
      ? null
      : startService(
          'worker',
          { ...serviceEnv, PORT: String(workerPort), ROLES: 'worker' },
          args.serviceLogs,
          cpuProfArgs,
        );
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/graphql`;
  const spawnedAt = performance.now();
  for (const [svc, p] of [[api, port] as const, ...(worker && workerPort ? [[worker, workerPort] as const] : [])]) {
    await waitFor(
      `the ${svc.name} process to answer /readyz with 200`,
      async () => {
        if (svc.dead()) throw svc.died();
        const res = await fetch(`http://127.0.0.1:${p}/readyz`).catch(() => null);
        return res?.status === 200;
      },
      120_000,
      200,
    ).catch((err: unknown) => {
      throw svc.dead() ? svc.died() : err;
    });
  }
  say(
    `   ${args.combined ? 'service (ROLES=worker,api)' : 'api (ROLES=api)'} pid ${api.pid} on ${url}` +
      (worker ? `, worker (ROLES=worker) pid ${worker.pid}` : '') +
      `, ready after ${((performance.now() - spawnedAt) / 1000).toFixed(1)} s` +
      (args.apiNice === null
        ? ''
        : `; each process in a session of its own, the API's and the load generator's niceness ${args.apiNice}`),
  );
  const alive = () => {
    if (api.dead()) throw api.died();
    if (worker?.dead()) throw worker.died();
  };

  // 1. ingest: a third of the rate per topic; the clicks start an hour back in event time so that
  // hotProducts' ranked hour (ending at the last 5-minute boundary before now) holds them.
  const perTopic = Math.floor(args.ingestRate / 3);
  const rates = { behavior: args.ingestRate - 2 * perTopic, recharge: perTopic, clicks: perTopic };
  startProducer('behavior', topics.behavior.topic, rates.behavior, []);
  startProducer('recharge', topics.recharge.topic, rates.recharge, []);
  startProducer('clicks', topics.clicks.topic, rates.clicks, [
    '--start',
    new Date(Date.now() - 3_600_000).toISOString(),
  ]);
  say(
    `1. ingest ${fmtInt(rates.behavior)} behaviour + ${fmtInt(rates.recharge)} recharge + ${fmtInt(rates.clicks)} click records/s (scripts/produce.js); warm-up ${args.warmupSec} s`,
  );

  const admin = await connectAdmin();
  onCleanup('kafka admin', () => admin.disconnect());
  const allTopics = Object.values(topics).map((t) => t.topic);
  await sleep(args.warmupSec * 1000);
  await waitFor(
    'every job to commit records',
    async () => {
      alive();
      const rows = await sql<{ group_id: string; n: bigint | number }>(
        db.url,
        'SELECT group_id, SUM(next_offset) AS n FROM consumer_offset WHERE group_id IN (?) GROUP BY group_id',
        [Object.values(groups)],
      );
      return rows.length === 4 && rows.every((r) => Number(r.n) > 0);
    },
    120_000,
    500,
  ).catch((err: unknown) => {
    alive();
    throw err;
  });

  // The deep page's cursor: page once through the first DEEP_PAGE_ROWS rows.
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${OPS_KEY}` };
  const post = async (
    b: string,
  ): Promise<{ status: number; json: { data?: GraphQLData | null; errors?: unknown[] } }> => {
    const res = await fetch(url, { method: 'POST', headers, body: b });
    const text = await res.text();
    try {
      return { status: res.status, json: JSON.parse(text) };
    } catch {
      throw new Error(`POST /graphql answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
    }
  };
  let after: string | null = null;
  for (let paged = 0; paged < DEEP_PAGE_ROWS; paged += 200) {
    const r = await post(
      body('query($after: String) { unpaidUsers(first: 200, after: $after) { pageInfo { endCursor hasNextPage } } }', {
        after,
      }),
    );
    const page = (r.json.data?.unpaidUsers as { pageInfo?: { endCursor: string | null } } | undefined)?.pageInfo;
    if (r.status !== 200 || r.json.errors || !page?.endCursor)
      throw new Error(`paging to the deep cursor failed: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    after = page.endCursor;
  }

  const allQueries: ReadQuery[] = [
    {
      key: 'baseline',
      name: 'baseline { __typename }',
      bodies: [body('{ __typename }')],
      check: (d) => (d.__typename === 'Query' ? null : '__typename is not Query'),
    },
    {
      key: 'dashboard',
      name: 'dashboard (cityRechargeStats, topCities, rechargeSummary)',
      bodies: [
        body(
          '{ cityRechargeStats { cityCode orders failed successRate amount } topCities { cityName orders successRate } rechargeSummary { orders amount } }',
        ),
      ],
      check: (d) =>
        list(d.cityRechargeStats).length === 0
          ? 'no cities'
          : list(d.topCities).length === 0
            ? 'no ranked city (no recharge of today committed)'
            : !(d.rechargeSummary as { orders?: number } | null)?.orders
              ? 'rechargeSummary has no orders'
              : null,
    },
    {
      key: 'unpaidUsers',
      name: `unpaidUsers(first: ${PAGE_SIZE})`,
      bodies: [
        body(
          `{ unpaidUsers(first: ${PAGE_SIZE}) { totalCount edges { node { uid phone callbackStatus lastDetectedAt } } } }`,
        ),
      ],
      check: (d) => pageProblem(d, args.seedRows),
    },
    {
      key: 'unpaidUsersDeep',
      name: `unpaidUsers(first: ${PAGE_SIZE}, after: ~${fmtInt(DEEP_PAGE_ROWS)} rows in)`,
      bodies: [
        body(
          `query($after: String) { unpaidUsers(first: ${PAGE_SIZE}, after: $after) { totalCount edges { node { uid phone callbackStatus lastDetectedAt } } } }`,
          { after },
        ),
      ],
      check: (d) => pageProblem(d, args.seedRows),
    },
    {
      key: 'unpaidUser',
      name: `unpaidUser(uid) over ${fmtInt(Math.min(ROTATED_UIDS, seeded.length))} uids`,
      bodies: seeded
        .slice(0, ROTATED_UIDS)
        .map((uid) =>
          body('query($uid: ID!) { unpaidUser(uid: $uid) { uid phone callbackStatus lastDetectedAt } }', { uid }),
        ),
      check: (d) => ((d.unpaidUser as { uid?: string } | null)?.uid ? null : 'unpaidUser is null'),
    },
    {
      key: 'hotProducts',
      name: 'hotProducts(limit: 10)',
      bodies: [body('{ hotProducts(limit: 10) { rank productId clicks category } }')],
      check: (d) => (list(d.hotProducts).length === 0 ? 'no product ranked' : null),
    },
    {
      key: 'consumerOffsets',
      name: 'consumerOffsets(abnormal-orders group)',
      bodies: [
        body('query($g: String) { consumerOffsets(groupId: $g) { partition offset latest lag } }', {
          g: groups.abnormalOrders,
        }),
      ],
      check: (d) =>
        list(d.consumerOffsets).length !== PARTITIONS
          ? `expected ${PARTITIONS} partitions, got ${list(d.consumerOffsets).length}`
          : null,
    },
  ];

  const unknown = [...(args.queries ?? [])].filter((k) => !allQueries.some((q) => q.key === k));
  if (unknown.length > 0) throw new Error(`--queries: unknown ${unknown.join(', ')}\n${USAGE}`);
  // The baseline always runs first: every ratio is to it.
  const queries = allQueries.filter((q, i) => i === 0 || !args.queries || args.queries.has(q.key));

  // Every query must answer data before its load: a bench of errors measures nothing.
  for (const q of queries) {
    const r = await post(q.bodies[0]);
    const problem =
      r.status !== 200
        ? `HTTP ${r.status}`
        : r.json.errors
          ? `errors ${JSON.stringify(r.json.errors)}`
          : !r.json.data
            ? 'no data'
            : q.check(r.json.data);
    if (problem)
      throw new Error(
        `query "${q.name}" does not return data (${problem}); sample response: ${JSON.stringify(r.json).slice(0, 500)}`,
      );
  }
  say(`   every query answered data; deep cursor ${after}`);

  // 2. reads, one query after the other.
  say(`2. reads  ${queries.length} queries x ${args.durationSec} s at ${fmtInt(args.rate)} requests/s offered …`);
  const produced = async () => {
    let n = 0;
    for (const t of allTopics) for (const o of await admin.fetchTopicOffsets(t)) n += Number(o.high);
    return n;
  };
  const committed = async () => {
    const rows = await sql<{ group_id: string; n: bigint | number }>(
      db.url,
      'SELECT group_id, SUM(next_offset) AS n FROM consumer_offset WHERE group_id IN (?) GROUP BY group_id',
      [Object.values(groups)],
    );
    return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
  };
  onCleanup('read load', async () => {
    aborted = true;
    running?.stop();
  });
  const producedAtStart = await produced();
  const committedAtStart = await committed();
  const readsStartedAt = performance.now();
  const rows: ResultRow[] = [];
  for (const q of queries) {
    if (aborted) throw new Error(`stopped before "${q.name}"`);
    alive();
    // Unrecorded: the first requests of a query compile its code paths and fill its caches, and an
    // open loop would carry the queue they build into the whole measurement.
    if (args.readWarmupSec > 0) await measure(url, headers, q, { ...args, durationSec: args.readWarmupSec });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the cleanup hook while measure() was awaited
    if (aborted) throw new Error(`stopped during the warm-up of "${q.name}"`);
    const cpu0 = cpuSeconds(api.pid);
    const waited0 = runQueueWaitSeconds(api.pid);
    const machine0 = machineCpuSeconds();
    const workerCpu0 = worker ? cpuSeconds(worker.pid) : null;
    const in0 = await produced();
    const m = await measure(url, headers, q, args);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the cleanup hook while measure() was awaited
    if (aborted) throw new Error(`stopped during "${q.name}"`);
    const in1 = await produced();
    const cpu1 = cpuSeconds(api.pid);
    const waited1 = runQueueWaitSeconds(api.pid);
    const machine1 = machineCpuSeconds();
    const workerCpu1 = worker ? cpuSeconds(worker.pid) : null;
    const row: ResultRow = {
      query: q.name,
      offeredRps: args.rate,
      achievedRps: m.responses / (m.ms / 1000),
      p50Ms: m.p50,
      p99Ms: m.p99,
      maxMs: m.max,
      errors: m.errors,
      p99OverBaseline: null,
      apiCpuPct: cpu0 !== null && cpu1 !== null ? Number(coreShare(cpu1 - cpu0, m.ms)) : null,
      apiWaitPct: waited0 !== null && waited1 !== null ? Number(coreShare(waited1 - waited0, m.ms)) : null,
      machineBusyPct:
        machine0 !== null && machine1 !== null && machine1.total > machine0.total
          ? Math.round((100 * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total))
          : null,
      workerCpuPct:
        workerCpu0 !== null && workerCpu1 !== null ? Number(coreShare(workerCpu1 - workerCpu0, m.ms)) : null,
      ingestRps: (in1 - in0) / (m.ms / 1000),
    };
    rows.push(row);
    say(
      `   ${q.name}: ${fmtInt(m.responses)} responses in ${(m.ms / 1000).toFixed(1)} s, p99 ${m.p99.toFixed(1)} ms, ${fmtInt(m.errors)} errors` +
        (m.maxSendLagMs === null ? '' : `, sender at most ${m.maxSendLagMs.toFixed(1)} ms late`) +
        (m.firstError ? ` (first: ${m.firstError})` : ''),
    );
  }
  const readsMs = performance.now() - readsStartedAt;
  const producedAtEnd = await produced();
  const committedAtEnd = await committed();
  const baselineP99 = rows[0].p99Ms;
  for (const r of rows) r.p99OverBaseline = baselineP99 > 0 ? r.p99Ms / baselineP99 : null;
  const ingest = { offeredRps: args.ingestRate, achievedRps: (producedAtEnd - producedAtStart) / (readsMs / 1000) };
  const jobs = Object.entries(groups).map(([job, group]) => ({
    job,
    committedRps: ((committedAtEnd.get(group) ?? 0) - (committedAtStart.get(group) ?? 0)) / (readsMs / 1000),
  }));

  // 3. table.
  printResultTable(rows, say);
  say('');
  say(
    `  ingest: ${fmtInt(ingest.achievedRps)} records/s produced of ${fmtInt(ingest.offeredRps)} offered, over the ${(readsMs / 1000).toFixed(0)} s of reads; ` +
      `committed per job: ${jobs.map((j) => `${j.job} ${fmtInt(j.committedRps)}`).join(', ')} records/s`,
  );
  say(
    (args.pacing === 'even'
      ? `  latency from each request's scheduled send (arrivals 1/${fmtInt(args.rate)} s apart) to the last response byte`
      : "  latency from autocannon's request write to the last response byte") +
      `, every response (milliseconds); p99 ratio to the baseline's ${baselineP99.toFixed(2)} ms`,
  );
  if (args.json) {
    console.log(
      JSON.stringify(
        {
          machine: machineLine(),
          settings: {
            rate: args.rate,
            durationSec: args.durationSec,
            connections: args.connections,
            pacing: args.pacing,
            ingestRate: args.ingestRate,
            seedRows: args.seedRows,
          },
          queries: rows,
          ingest,
          jobs,
        },
        null,
        2,
      ),
    );
  }
}

/** One row of the result table; times in milliseconds, rates per second. */
interface ResultRow {
  query: string;
  offeredRps: number;
  achievedRps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  p99OverBaseline: number | null;
  /** CPU of the process serving the API (utime + stime, all threads) over the query's load, % of one core; with --combined it runs the jobs too. */
  apiCpuPct: number | null;
  /**
   * Time the API process's JavaScript thread was runnable but waiting for a CPU
   * (/proc/<pid>/schedstat) over the query's load, % of its wall time: the share
   * of the latency the machine's other processes added.
   */
  apiWaitPct: number | null;
  /** CPU time of the whole machine (every process, every core) over the query's load, % of all its cores. */
  machineBusyPct: number | null;
  /** CPU of the worker process over the query's load, % of one core; null with --combined. */
  workerCpuPct: number | null;
  /** Records added to the three topics per second during the query's load. */
  ingestRps: number;
}

function printResultTable(rows: ResultRow[], say: (line: string) => void): void {
  const head = [
    'query',
    'offered/s',
    'achieved/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'errors',
    'p99/base',
    'API CPU',
    'API waited',
    'worker CPU',
    'machine busy',
    'ingest/s',
  ];
  const cells = rows.map((r) => [
    r.query,
    fmtInt(r.offeredRps),
    fmtInt(r.achievedRps),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    r.maxMs.toFixed(1),
    fmtInt(r.errors),
    r.p99OverBaseline === null ? '-' : `${r.p99OverBaseline.toFixed(1)}x`,
    r.apiCpuPct === null ? '?' : `${r.apiCpuPct}%`,
    r.apiWaitPct === null ? '?' : `${r.apiWaitPct}%`,
    r.workerCpuPct === null ? '-' : `${r.workerCpuPct}%`,
    r.machineBusyPct === null ? '?' : `${r.machineBusyPct}%`,
    fmtInt(r.ingestRps),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    `  ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ')}`;
  say('');
  say(line(head));
  for (const c of cells) say(line(c));
}

/** Why an `unpaidUsers` page is not a useful answer, or null. */
function pageProblem(d: GraphQLData, seedRows: number): string | null {
  const conn = d.unpaidUsers as { totalCount?: number; edges?: unknown[] } | null;
  if (!conn || (conn.totalCount ?? 0) < seedRows)
    return `totalCount ${conn?.totalCount} below the ${seedRows} seeded rows`;
  return list(conn.edges).length === PAGE_SIZE ? null : `${list(conn.edges).length} edges instead of ${PAGE_SIZE}`;
}

/** What {@link measure} saw of one query's load. */
interface Measured {
  responses: number;
  /** From the start of the load to its end, milliseconds. */
  ms: number;
  p50: number;
  p99: number;
  max: number;
  /** Non-2xx responses, responses with GraphQL `errors` or without `data`, connection errors and timeouts. */
  errors: number;
  firstError: string | null;
  /** With even pacing: the load generator's largest delay behind a scheduled arrival, milliseconds (a large one means the bench itself was starved of CPU). */
  maxSendLagMs: number | null;
}

/** The load in progress, stopped by the cleanup on failure or Ctrl-C. */
let running: { stop(): void } | null = null;
/** Set by the cleanup: no further load may start. */
let aborted = false;

/** Why a GraphQL response is not a useful answer (non-2xx, `errors`, no `data`, not JSON), or null. */
function responseProblem(status: number, text: string): string | null {
  if (status < 200 || status >= 300) return `HTTP ${status}`;
  try {
    const json = JSON.parse(text) as { data?: unknown; errors?: unknown };
    if (json.errors) return `errors ${JSON.stringify(json.errors).slice(0, 200)}`;
    return json.data ? null : 'no data';
  } catch {
    return 'body is not JSON';
  }
}

/**
 * Offers `args.rate` requests/s of `q` for `args.durationSec` seconds over
 * `args.connections` keep-alive connections, rotating over `q.bodies`.
 *
 * - `--pacing even` (default): open-loop arrivals 1/rate apart
 *   ({@link startPacedLoad}); latency from each request's scheduled instant.
 * - `--pacing burst`: autocannon's `overallRate`, which sends each connection's
 *   per-second budget back to back at the start of every second; latency from
 *   the request's write, with sub-millisecond precision (autocannon's own
 *   histogram rounds to whole milliseconds).
 */
async function measure(
  url: string,
  headers: Record<string, string>,
  q: ReadQuery,
  args: ApiBenchArgs,
): Promise<Measured> {
  if (args.pacing === 'even') {
    const u = new URL(url);
    const load = startPacedLoad({
      origin: u.origin,
      path: u.pathname,
      headers,
      bodies: q.bodies,
      rate: args.rate,
      durationSec: args.durationSec,
      connections: args.connections,
      timeoutMs: 10_000,
      check: responseProblem,
    });
    running = load;
    const r = await load.done;
    running = null;
    return {
      responses: r.responses,
      ms: r.ms,
      p50: quantile(r.latencies, 0.5),
      p99: quantile(r.latencies, 0.99),
      max: r.latencies.at(-1) ?? 0,
      errors: r.errors,
      firstError: r.firstError,
      maxSendLagMs: r.maxSendLagMs,
    };
  }
  const latencies: number[] = [];
  let bad = 0;
  let firstError: string | null = null;
  let next = 0;
  const request: autocannon.Request = {
    method: 'POST',
    onResponse: (status, text) => {
      const problem = responseProblem(status, text);
      if (problem) {
        bad++;
        firstError ??= problem;
      }
    },
  };
  if (q.bodies.length > 1) request.setupRequest = (req) => ({ ...req, body: q.bodies[next++ % q.bodies.length] });
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers,
        body: q.bodies[0],
        connections: args.connections,
        overallRate: args.rate,
        duration: args.durationSec,
        timeout: 10,
        requests: [request],
      },
      (err, res) => (err ? reject(err as Error) : resolve(res)),
    );
    running = instance;
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
    });
  });
  const ms = performance.now() - started;
  running = null;
  latencies.sort((a, b) => a - b);
  if (result.errors + result.timeouts > 0)
    firstError ??= `${result.errors} connection errors, ${result.timeouts} timeouts`;
  return {
    responses: latencies.length,
    ms,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? 0,
    errors: bad + result.errors + result.timeouts,
    firstError,
    maxSendLagMs: null,
  };
}

/** A fresh `PARTITIONS`-partition topic (+ .dlq), removed at the end. */
async function benchTopic(prefix: string): Promise<TestTopic> {
  const topic = await createTestTopic(prefix, PARTITIONS);
  onCleanup(`topics ${topic.topic}(.dlq)`, () => topic.delete());
  return topic;
}

/**
 * Inserts `rows` abnormal-order users (uids `bench-000000` …, which the sample
 * generator's numeric uids never take) detected over the last 24 hours, one in
 * five with a callback status; returns their uids, newest first.
 */
async function seedUnpaidUsers(dbUrl: string, rows: number): Promise<string[]> {
  const now = Date.now();
  const uids: string[] = [];
  const CHUNK = 1_000;
  for (let from = 0; from < rows; from += CHUNK) {
    const values: unknown[] = [];
    const n = Math.min(CHUNK, rows - from);
    for (let i = from; i < from + n; i++) {
      const uid = `bench-${String(i).padStart(6, '0')}`;
      uids.push(uid);
      const last = new Date(now - Math.floor((i * 86_400_000) / rows));
      const windowEnd = new Date(Math.floor(last.getTime() / 30_000) * 30_000);
      values.push(
        uid,
        samplePhone(String(i % 100_000)),
        i % 5 === 0 ? (i / 5) % 5 : null,
        3 + (i % 4),
        new Date(last.getTime() - 60_000),
        last,
        new Date(windowEnd.getTime() - 60_000),
        windowEnd,
      );
    }
    await sql(
      dbUrl,
      `INSERT INTO unpayment_record (uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end) VALUES ${Array.from(
        { length: n },
        () => '(?, ?, ?, ?, ?, ?, ?, ?)',
      ).join(', ')}`,
      values,
    );
  }
  return uids;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The service (`node dist/src/main.js`) as a child process with `env` on top of the bench's Kafka and Redis; stopped at the end. */
function startService(name: string, env: Record<string, string>, serviceLogs: boolean, nodeArgs: string[]) {
  const main = path.resolve(import.meta.dirname, '../src/main.js');
  const child = spawn(process.execPath, [...nodeArgs, main], {
    env: { ...process.env, ...SERVICE_ENV, KAFKA_BROKERS: KAFKA_BROKERS.join(','), REDIS_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownSessions,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onCleanup(`${name} process`, () => stopChild(child, exited, 15_000));
  const tail = lastLines(10);
  const keep = (line: string) => {
    tail.add(line);
    if (serviceLogs) process.stderr.write(`[${name} ${child.pid}] ${line}\n`);
  };
  createInterface({ input: child.stdout }).on('line', keep);
  createInterface({ input: child.stderr }).on('line', keep);
  return {
    name,
    pid: child.pid!,
    dead: () => child.exitCode !== null || child.signalCode !== null,
    died: () =>
      new Error(
        `the ${name} process exited (code ${child.exitCode}, signal ${child.signalCode}); last output:\n${tail.text()}`,
      ),
  };
}

/**
 * Whether child processes start in sessions of their own (`--api-nice`). With Linux autogroup scheduling
 * (`/proc/sys/kernel/sched_autogroup_enabled` = 1) the CPU is shared between sessions first, then between the
 * processes of each: in the bench's one session the API, the worker, the producers and the load generator would
 * share one group's weight against Kafka's and MariaDB's, and no niceness inside it would put the API ahead of
 * those. A service manager gives each service a group of its own, too.
 */
let ownSessions = false;

/**
 * Sets the niceness of the scheduling group (autogroup) of process `pid` ('self' for this one).
 * @throws Error without autogroup scheduling, or without the privilege for a niceness below 0.
 */
function setAutogroupNice(pid: number | 'self', nice: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch (err) {
    throw new Error(
      `--api-nice ${nice}: cannot set the scheduling group of process ${pid} (${(err as Error).message}); ` +
        'it needs Linux autogroups (/proc/sys/kernel/sched_autogroup_enabled = 1) and, below 0, root',
      { cause: err },
    );
  }
}

/** Set once the cleanup stops the producers: an exit after that is expected. */
let stopping = false;

/** `scripts/produce.js --kind <kind> --topic <topic> --rate <rate>` until the end (SIGTERM flushes it). */
function startProducer(kind: string, topic: string, rate: number, extra: string[]): void {
  const script = path.resolve(import.meta.dirname, '../scripts/produce.js');
  const child = spawn(process.execPath, [script, '--kind', kind, '--topic', topic, '--rate', String(rate), ...extra], {
    env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownSessions,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tail = lastLines(5);
  createInterface({ input: child.stdout }).on('line', tail.add);
  createInterface({ input: child.stderr }).on('line', tail.add);
  void exited.then(() => {
    if (!stopping && child.exitCode !== 0)
      console.error(
        `producer ${kind} exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${tail.text()}`,
      );
  });
  onCleanup(`producer ${kind}`, () => {
    stopping = true;
    return stopChild(child, exited, 10_000);
  });
}

/** An upper bound on the whole run, milliseconds: start-up, warm-up and each query's load with slack. */
function timeBoundMs(args: ApiBenchArgs): number {
  return (
    120_000 + 120_000 + args.warmupSec * 1000 + 7 * ((args.durationSec + args.readWarmupSec) * 1000 + 30_000) + 60_000
  );
}

await runBench(async () => {
  const args = parseCommandLine();
  const bound = timeBoundMs(args);
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the bench exceeded its time bound of ${(bound / 1000).toFixed(0)} s: stopped`)),
      bound,
    );
  });
  try {
    await Promise.race([main(args), overtime]);
  } finally {
    clearTimeout(timer);
  }
});
