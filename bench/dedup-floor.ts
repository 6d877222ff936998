// The database's own cost of the recharge-metrics de-duplication rows: the floor under that job's
// end-to-end rate, measured by `npm run bench:dedup-insert` and, beside the job, by `npm run bench:recharge`.
//
// The job keeps one `recharge_order` row per order id for its de-duplication horizon, written in each
// batch transaction by one multi-row INSERT … SELECT FROM JSON_TABLE (the statement of
// `RechargeMetricsStore`). This runs that statement alone, on a fresh database migrated by the
// project's migrations, with new ids only (the common case), each statement in a transaction of its own
// and committed, on several connections at once (the job commits its partitions concurrently).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createConnection } from 'mariadb';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import { createTestDatabase } from '../test/helpers/services.js';
import { cpuSeconds, onCleanup } from './bench-kit.js';

/** Options of {@link dedupFloor}. */
export interface DedupFloorOptions {
  /** Order ids per statement. @default 3300 (a 10,000-record batch over 3 partitions) */
  ids: number;
  /** Measured statements per connection. @default 50 */
  rounds: number;
  /** Unrecorded statements per connection first. @default 10 */
  warmup: number;
  /** Connections inserting at once, each its own ids. @default 3 (the job's partitions) */
  connections: number;
}

/** The defaults of {@link DedupFloorOptions}. */
export const DEDUP_FLOOR_DEFAULTS: DedupFloorOptions = { ids: 3_300, rounds: 50, warmup: 10, connections: 3 };

/** What {@link dedupFloor} measured. */
export interface DedupFloor {
  /** Mean wall time of one statement and its commit, milliseconds. */
  meanMs: number;
  /** New ids committed per second over all connections: the most records per second the job can commit. */
  idsPerSecond: number;
  /** The MariaDB server's CPU per id (utime + stime), microseconds; null when its pid file is not readable here. */
  serverCpuPerIdUs: number | null;
  /** The server's pid file, as it reported it. */
  pidFile: string;
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

/**
 * Runs the de-duplication INSERT alone on a fresh migrated database (dropped when the bench ends), `warmup`
 * unrecorded rounds then `rounds` measured ones on each of `connections` connections at once.
 */
export async function dedupFloor(opts: DedupFloorOptions = DEDUP_FLOOR_DEFAULTS): Promise<DedupFloor> {
  const db = await createTestDatabase();
  // Dropped at the bench's end, also on failure and on Ctrl-C.
  onCleanup(`database ${db.name}`, () => db.drop());
  const conns = await Promise.all(
    Array.from({ length: opts.connections }, () => createConnection({ ...parseDatabaseUrl(db.url) })),
  );
  try {
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
      const rows = rowsOf(opts.ids);
      const t0 = performance.now();
      await conn.beginTransaction();
      await conn.query(INSERT, [rows]);
      await conn.commit();
      return performance.now() - t0;
    };
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < opts.warmup; i++) await round(c);
      }),
    );
    const cpu0 = pid === null ? null : cpuSeconds(pid);
    const t0 = performance.now();
    const walls: number[] = [];
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < opts.rounds; i++) walls.push(await round(c));
      }),
    );
    const elapsedMs = performance.now() - t0;
    const cpu1 = pid === null ? null : cpuSeconds(pid);
    const ids = opts.rounds * opts.ids * opts.connections;
    return {
      meanMs: walls.reduce((a, b) => a + b, 0) / walls.length,
      idsPerSecond: ids / (elapsedMs / 1000),
      serverCpuPerIdUs: cpu0 === null || cpu1 === null ? null : (1e6 * (cpu1 - cpu0)) / ids,
      pidFile,
    };
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
}
