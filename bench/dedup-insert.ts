// `npm run bench:dedup-insert [-- --ids N --rounds N --connections N]`: the database's own cost of the
// recharge-metrics de-duplication rows, the floor under that job's end-to-end rate.
//
// The job keeps one `recharge_order` row per order id for its de-duplication horizon, written in each
// batch transaction by one multi-row INSERT … SELECT FROM JSON_TABLE (the statement of
// `RechargeMetricsStore`). This bench runs that statement alone, on a fresh database migrated by the
// project's migrations, with new ids only (the common case), each statement in a transaction of its own
// and committed, on `--connections` connections at once (the job commits its partitions concurrently).
// It prints, after `--warmup` unrecorded rounds:
//   - wall time per statement and per id, milliseconds and microseconds;
//   - ids per second over all connections: no recharge-metrics run on this database can commit more
//     records per second than this, whatever the service does;
//   - the MariaDB server's CPU per id (utime + stime of its process, when this machine's server is local
//     and its pid file readable), microseconds.
// The database is removed at the end, also on failure and on Ctrl-C.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createConnection } from 'mariadb';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import { createTestDatabase } from '../test/helpers/services.js';
import { cpuSeconds, fmtInt, intFlag, log, machineLine, onCleanup, runBench } from './bench-kit.js';

const USAGE = `usage: npm run bench:dedup-insert -- [--ids N] [--rounds N] [--warmup N] [--connections N]

  --ids N          order ids per statement (default 3300: a 10,000-record batch over 3 partitions)
  --rounds N       measured statements per connection (default 50)
  --warmup N       unrecorded statements per connection first (default 10)
  --connections N  connections inserting at once, each its own ids (default 3, the job's partitions)`;

function parse(): { ids: number; rounds: number; warmup: number; connections: number } {
  const { values } = parseArgs({
    options: {
      ids: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, def: number, min: number) => intFlag(name, raw, def, min, USAGE);
  return {
    ids: int('ids', values.ids, 3_300, 1),
    rounds: int('rounds', values.rounds, 50, 1),
    warmup: int('warmup', values.warmup, 10, 0),
    connections: int('connections', values.connections, 3, 1),
  };
}

/** The pid of the local MariaDB server from its pid file, or null (remote server, unreadable file). */
function serverPid(pidFile: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isSafeInteger(pid) && cpuSeconds(pid) !== null ? pid : null;
  } catch {
    return null;
  }
}

/** The statement the recharge-metrics job writes its de-duplication rows with (see `RechargeMetricsStore`). */
const INSERT = `INSERT INTO recharge_order (order_id, notify_time, city_code)
  SELECT j.id, j.notify_time, j.city_code
  FROM JSON_TABLE(?, '$[*]' COLUMNS (id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', notify_time DATETIME(3) PATH '$[1]',
    city_code VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci PATH '$[2]')) AS j`;

async function main(): Promise<void> {
  const args = parse();
  log(machineLine());
  const db = await createTestDatabase();
  onCleanup(`database ${db.name}`, () => db.drop());
  const conns = await Promise.all(
    Array.from({ length: args.connections }, () => createConnection({ ...parseDatabaseUrl(db.url) })),
  );
  onCleanup('connections', () => Promise.all(conns.map((c) => c.end())));
  const pidFile = (await conns[0].query<{ f: string }[]>('SELECT @@pid_file AS f'))[0].f;
  const pid = serverPid(pidFile);
  // Order ids as the sample generator makes them (19 digits), distinct across connections and rounds.
  let next = 384_000_000_000_000_000n;
  const rowsOf = (n: number) => {
    let rows = '[';
    for (let i = 0; i < n; i++) rows += `${i === 0 ? '' : ','}["${next++}","2026-12-02 10:00:00.000","440100"]`;
    return `${rows}]`;
  };
  const round = async (conn: (typeof conns)[number]) => {
    const rows = rowsOf(args.ids);
    const t0 = performance.now();
    await conn.beginTransaction();
    await conn.query(INSERT, [rows]);
    await conn.commit();
    return performance.now() - t0;
  };
  log(
    `${args.connections} connection(s) x (${args.warmup} + ${args.rounds}) statements of ${fmtInt(args.ids)} new ids, each committed`,
  );
  await Promise.all(
    conns.map(async (c) => {
      for (let i = 0; i < args.warmup; i++) await round(c);
    }),
  );
  const cpu0 = pid === null ? null : cpuSeconds(pid);
  const t0 = performance.now();
  const walls: number[] = [];
  await Promise.all(
    conns.map(async (c) => {
      for (let i = 0; i < args.rounds; i++) walls.push(await round(c));
    }),
  );
  const elapsedMs = performance.now() - t0;
  const cpu1 = pid === null ? null : cpuSeconds(pid);
  const ids = args.rounds * args.ids * args.connections;
  const meanMs = walls.reduce((a, b) => a + b, 0) / walls.length;
  log('');
  log(`  statement + commit, mean     ${meanMs.toFixed(1)} ms (${((1000 * meanMs) / args.ids).toFixed(2)} µs per id)`);
  log(`  ids committed per second     ${fmtInt(ids / (elapsedMs / 1000))} (all connections)`);
  log(
    `  MariaDB CPU per id           ${cpu0 === null || cpu1 === null ? `- (server pid not readable from ${pidFile})` : `${((1e6 * (cpu1 - cpu0)) / ids).toFixed(2)} µs`}`,
  );
  log(`  a recharge-metrics run on this database commits at most the ids per second above, in records/s`);
}

void runBench(main);
