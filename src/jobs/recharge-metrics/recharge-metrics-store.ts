import { Prisma } from '../../generated/prisma/client.js';
import { formatFen } from '../../domain/money.js';
import type { CityDailyStats, CityDayDelta, CityRow, MinuteDelta, MinuteStats, RechargeEvent } from './recharge.js';
import type { Db, Tx } from '../../store/prisma-client.js';

/**
 * Order ids per statement on `recharge_order`. Each statement carries them as
 * ONE JSON parameter unpacked by JSON_TABLE (MySQL 8 / MariaDB 10.6+): binding
 * thousands of placeholders one by one made the batch transaction about 4x
 * slower (measured: 390 ms against 90 ms for 3,333 orders). 5,000 rows are
 * about 350 KiB, far below max_allowed_packet.
 */
const ORDER_CHUNK = 5_000;
/** Rows per multi-row upsert of the (small) aggregate tables. */
const INSERT_CHUNK = 2_000;

/** The last minute {@link sqlDateTime} formatted, epoch MINUTES, and its `YYYY-MM-DD HH:MM:` prefix. */
let prefixMinute = Number.NaN;
let minutePrefix = '';

/**
 * `YYYY-MM-DD HH:MM:SS.mmm` (UTC) of epoch MILLISECONDS `ms` (years 1970 to
 * 9999), the literal JSON_TABLE converts to DATETIME(3). The date and time up
 * to the minute are formatted once per minute: the orders of one batch share
 * a few minutes, and `toISOString` per order was a tenth of the job's CPU.
 */
export function sqlDateTime(ms: number): string {
  const minute = Math.floor(ms / 60_000);
  if (minute !== prefixMinute) {
    const iso = new Date(minute * 60_000).toISOString();
    minutePrefix = `${iso.slice(0, 10)} ${iso.slice(11, 17)}`;
    prefixMinute = minute;
  }
  const rest = ms - minute * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${minutePrefix}${seconds < 10 ? '0' : ''}${seconds}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`;
}

/**
 * Whether `err` is MySQL's duplicate-key error (1062, ER_DUP_ENTRY) as Prisma's
 * mariadb driver adapter reports it for a raw statement. InnoDB then rolls
 * back that statement only (none of its rows stays), and the transaction goes on.
 */
function isDuplicateKey(err: unknown): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  const cause = (
    err.meta as { driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } } | undefined
  )?.driverAdapterError?.cause;
  return cause?.originalCode === '1062' || cause?.kind === 'UniqueConstraintViolation';
}

interface ServingRow {
  generation: number;
  seq: number;
}

/**
 * A row of {@link RechargeMetricsStore.readBack}'s UNION ALL: `k` 0 a city-day
 * (`n` = duration sum), 1 a minute (`n` = its start in epoch MICROSECONDS),
 * 2 the serving state (`orders` = generation, `n` = seq).
 */
interface ReadBackRow {
  k: number | bigint;
  day: string | null;
  city_code: string | null;
  orders: number | bigint;
  succeeded: number | bigint;
  failed: number | bigint;
  amount: string | null;
  n: number | bigint;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface DailyRow {
  day: string;
  city_code: string;
  orders: number | bigint;
  succeeded: number | bigint;
  failed: number | bigint;
  amount: string;
  duration_ms_sum: number | bigint;
}

interface MinuteRow {
  minute_start: Date;
  orders: number | bigint;
  succeeded: number | bigint;
  amount: string;
}

// A key's partition-local rows summed (GROUP BY the key). DECIMAL comes back from the driver as a
// float: CAST to text keeps it exact.
const DAILY_SUMS = Prisma.sql`CAST(SUM(orders) AS SIGNED) AS orders, CAST(SUM(succeeded) AS SIGNED) AS succeeded,
  CAST(SUM(failed) AS SIGNED) AS failed, CAST(SUM(amount) AS CHAR) AS amount`;
const DAILY_COLUMNS = Prisma.sql`DATE_FORMAT(day, '%Y-%m-%d') AS day, city_code, ${DAILY_SUMS}, CAST(SUM(duration_ms_sum) AS SIGNED) AS duration_ms_sum`;
const MINUTE_SUMS = Prisma.sql`CAST(SUM(orders) AS SIGNED) AS orders, CAST(SUM(succeeded) AS SIGNED) AS succeeded, CAST(SUM(amount) AS CHAR) AS amount`;

function toDaily(r: DailyRow): CityDailyStats {
  return {
    date: r.day,
    cityCode: r.city_code,
    orders: Number(r.orders),
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
    amount: r.amount,
    durationMsSum: Number(r.duration_ms_sum),
  };
}

function toMinute(r: MinuteRow): MinuteStats {
  return {
    minuteStartMs: r.minute_start.getTime(),
    orders: Number(r.orders),
    succeeded: Number(r.succeeded),
    amount: r.amount,
  };
}

/**
 * The MySQL side of job `recharge-metrics`: the seen order ids, the
 * additive aggregates written inside the batch transaction (multi-row
 * statements, never per event), and the reads the API falls back to when
 * Redis has nothing.
 */
export class RechargeMetricsStore {
  constructor(private readonly db: Db) {}

  /** Every city of the `city` table, by code. */
  async loadCities(): Promise<CityRow[]> {
    const rows = await this.db.city.findMany({ orderBy: { code: 'asc' } });
    return rows.map((r) => ({
      code: r.code,
      name: r.name,
      nameEn: r.nameEn,
      longitude: Number(r.longitude),
      latitude: Number(r.latitude),
      provinceCode: r.provinceCode,
    }));
  }

  /**
   * Inside the batch transaction: the orders never counted before, recorded
   * now in `recharge_order` (by an earlier batch, another partition, or a run
   * before a restart). Mostly ONE statement per 5,000 orders:
   *
   * 1. the orders `maybeSeen` picks (ids this worker recorded lately: the
   *    likely duplicates) are looked up with ONE `SELECT ... WHERE order_id IN
   *    (...)`; those found are dropped;
   * 2. the others are recorded with ONE multi-row plain INSERT per chunk. A
   *    duplicate-key error (the database knew an id after all: recorded before
   *    a restart, by another worker, or forgotten by `maybeSeen`) rolls back
   *    that statement only; the chunk then takes the full way: ONE select of
   *    its ids, ONE plain INSERT of the unseen ones.
   *
   * The database decides every time; `maybeSeen` only spares the lookup of
   * ids that are almost surely new. Plain INSERT, not INSERT IGNORE: when
   * another partition's transaction inserts the same id concurrently, this
   * insert waits for it; once it commits, the insert fails, and the full
   * way's select (READ COMMITTED: a fresh read) sees the id. Should the other
   * commit only after that select, the full way's insert fails again, the
   * error fails this transaction, and its replay sees the id as seen. Exact
   * on MySQL 8 and MariaDB. The ids of an insert are in id order, so two
   * transactions inserting the same ids wait in one order, never in a cycle.
   * Ids are kept only for the de-duplication horizon ({@link pruneOrders}):
   * the job dead-letters records older than it before they reach here.
   *
   * @param events orders of one batch, each `orderId` at most once.
   * @param maybeSeen true for ids to look up first; omitted: every id is looked up first.
   * @returns the events whose order id was not seen, in batch order.
   * @throws the database's errors, a duplicate key on the full way included.
   */
  async keepNewOrders(
    tx: Tx,
    events: readonly RechargeEvent[],
    maybeSeen: (orderId: string) => boolean = () => true,
  ): Promise<RechargeEvent[]> {
    if (events.length === 0) return [];
    const suspects = events.filter((e) => maybeSeen(e.orderId));
    const seen = await this.seenAmong(tx, suspects);
    const fresh: RechargeEvent[] = [];
    for (const e of events) if (!seen.has(e.orderId)) fresh.push(e);
    // Suspects not seen were looked up already: a duplicate-key error can only come from the others.
    const looked = new Set<string>(suspects.map((e) => e.orderId));
    const out: RechargeEvent[] = [];
    for (let i = 0; i < fresh.length; i += ORDER_CHUNK) {
      const chunk = fresh.slice(i, i + ORDER_CHUNK);
      try {
        await this.insertOrders(tx, chunk);
        out.push(...chunk);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const again = await this.seenAmong(
          tx,
          chunk.filter((e) => !looked.has(e.orderId)),
        );
        const unseen = chunk.filter((e) => !again.has(e.orderId));
        await this.insertOrders(tx, unseen);
        out.push(...unseen);
      }
    }
    // Back in batch order (the chunks are in order; only the full way drops some).
    return out;
  }

  /** The ids of `events` already in `recharge_order`, ONE select per 5,000. */
  private async seenAmong(tx: Tx, events: readonly RechargeEvent[]): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < events.length; i += ORDER_CHUNK) {
      const ids = JSON.stringify(events.slice(i, i + ORDER_CHUNK).map((e) => e.orderId));
      // The column's character set and collation, declared: compared byte for byte like the
      // column (and through its primary key), whatever the database's default character set.
      const rows = await tx.$queryRaw<{ order_id: string }[]>`SELECT order_id FROM recharge_order
        WHERE order_id IN (SELECT j.id FROM JSON_TABLE(${ids}, '$[*]' COLUMNS (id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) AS j)`;
      for (const r of rows) seen.add(r.order_id);
    }
    return seen;
  }

  /**
   * ONE multi-row plain INSERT of `events` (at most {@link ORDER_CHUNK}) into
   * `recharge_order`, in order id order (one lock order for every
   * transaction; JSON_TABLE yields rows in array order).
   */
  private async insertOrders(tx: Tx, events: readonly RechargeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const sorted = [...events].sort((a, b) => compareText(a.orderId, b.orderId));
    // Built by hand: an array per order for JSON.stringify was most of this method's time and garbage.
    let rows = '[';
    for (let i = 0; i < sorted.length; i++) {
      const e = sorted[i];
      rows += `${i === 0 ? '' : ','}[${JSON.stringify(e.orderId)},"${sqlDateTime(e.notifyTimeMs)}",${JSON.stringify(e.cityCode)}]`;
    }
    rows += ']';
    await tx.$executeRaw`INSERT INTO recharge_order (order_id, notify_time, city_code)
      SELECT j.id, j.notify_time, j.city_code
      FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', notify_time DATETIME(3) PATH '$[1]',
        city_code VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci PATH '$[2]')) AS j`;
  }

  /**
   * Inside the batch transaction: adds the deltas to the rows of partition
   * `owner` with ONE multi-row `INSERT ... SELECT ... ON DUPLICATE KEY UPDATE
   * x = x + VALUES(x)` per table (per {@link INSERT_CHUNK} rows; the rows as
   * one JSON parameter unpacked by JSON_TABLE, amounts as exact decimal
   * strings), rows in primary-key order (as {@link aggregateRecharges} sorts
   * them; JSON_TABLE yields them in array order).
   *
   * Partition-local rows: a city-day and a minute have a row per Kafka
   * partition, and only a transaction holding `owner`'s `consumer_offset`
   * row writes that partition's rows, so two transactions never write the
   * same row; every read sums a key's rows.
   * @param owner a partition this transaction carries (its `consumer_offset` row locked).
   */
  async addDeltas(
    tx: Tx,
    owner: number,
    daily: readonly CityDayDelta[],
    minutes: readonly MinuteDelta[],
  ): Promise<void> {
    for (let i = 0; i < daily.length; i += INSERT_CHUNK) {
      const rows = JSON.stringify(
        daily
          .slice(i, i + INSERT_CHUNK)
          .map((d) => [d.day, d.cityCode, d.orders, d.succeeded, d.failed, formatFen(d.amountFen), d.durationMsSum]),
      );
      await tx.$executeRaw`INSERT INTO recharge_city_daily (day, city_code, \`partition\`, orders, succeeded, failed, amount, duration_ms_sum)
        SELECT j.day, j.city_code, ${owner}, j.orders, j.succeeded, j.failed, j.amount, j.duration_ms_sum
        FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (day DATE PATH '$[0]',
          city_code VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci PATH '$[1]', orders INT PATH '$[2]',
          succeeded INT PATH '$[3]', failed INT PATH '$[4]', amount DECIMAL(18, 2) PATH '$[5]', duration_ms_sum BIGINT PATH '$[6]')) AS j
        ON DUPLICATE KEY UPDATE orders = recharge_city_daily.orders + VALUES(orders),
          succeeded = recharge_city_daily.succeeded + VALUES(succeeded), failed = recharge_city_daily.failed + VALUES(failed),
          amount = recharge_city_daily.amount + VALUES(amount), duration_ms_sum = recharge_city_daily.duration_ms_sum + VALUES(duration_ms_sum)`;
    }
    for (let i = 0; i < minutes.length; i += INSERT_CHUNK) {
      const rows = JSON.stringify(
        minutes
          .slice(i, i + INSERT_CHUNK)
          .map((m) => [sqlDateTime(m.minuteStartMs), m.orders, m.succeeded, formatFen(m.amountFen)]),
      );
      await tx.$executeRaw`INSERT INTO recharge_minute (minute_start, \`partition\`, orders, succeeded, amount)
        SELECT j.minute_start, ${owner}, j.orders, j.succeeded, j.amount
        FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (minute_start DATETIME(3) PATH '$[0]', orders INT PATH '$[1]',
          succeeded INT PATH '$[2]', amount DECIMAL(18, 2) PATH '$[3]')) AS j
        ON DUPLICATE KEY UPDATE orders = recharge_minute.orders + VALUES(orders),
          succeeded = recharge_minute.succeeded + VALUES(succeeded), amount = recharge_minute.amount + VALUES(amount)`;
    }
  }

  /**
   * Inside the batch transaction, after {@link addDeltas} and after the
   * serving state's bump (`RechargeServingState.bump`, the group's ordering
   * row): the totals of the buckets the batch touched (each bucket's
   * partition-local rows summed) and the group's serving state, in ONE
   * select (a `UNION ALL` of the three tables: each round trip here is spent
   * holding the ordering row every transaction of the group waits for). In a
   * READ COMMITTED transaction, after the ordering row, these are exactly the
   * totals its commit leaves: every earlier commit is in them, and no other
   * transaction of the group commits before this one.
   * @param servingGroupId the recharge-metrics consumer group whose
   *   `recharge_serving_state` row is read too; omitted: `serving` is null.
   * @returns `serving` null also when the group has no state row.
   */
  async readBack(
    tx: Tx,
    daily: readonly CityDayDelta[],
    minutes: readonly MinuteDelta[],
    servingGroupId?: string,
  ): Promise<{
    daily: CityDailyStats[];
    minutes: MinuteStats[];
    serving: { generation: number; seq: number } | null;
  }> {
    const parts: Prisma.Sql[] = [];
    const touched = new Set(daily.map((d) => `${d.day}|${d.cityCode}`));
    if (daily.length > 0) {
      const days = [...new Set(daily.map((d) => d.day))];
      const cities = [...new Set(daily.map((d) => d.cityCode))];
      parts.push(Prisma.sql`SELECT 0 AS k, DATE_FORMAT(day, '%Y-%m-%d') AS day, city_code, ${DAILY_SUMS},
          CAST(SUM(duration_ms_sum) AS SIGNED) AS n
        FROM recharge_city_daily WHERE day IN (${Prisma.join(days)}) AND city_code IN (${Prisma.join(cities)})
        GROUP BY day, city_code`);
    }
    if (minutes.length > 0) {
      // Microseconds since the epoch by DATETIME arithmetic: independent of the session's time zone.
      parts.push(Prisma.sql`SELECT 1 AS k, NULL AS day, NULL AS city_code, CAST(SUM(orders) AS SIGNED) AS orders,
          CAST(SUM(succeeded) AS SIGNED) AS succeeded, 0 AS failed, CAST(SUM(amount) AS CHAR) AS amount,
          TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', minute_start) AS n
        FROM recharge_minute WHERE minute_start IN (${Prisma.join(minutes.map((m) => sqlDateTime(m.minuteStartMs)))})
        GROUP BY minute_start`);
    }
    if (servingGroupId !== undefined) {
      parts.push(Prisma.sql`SELECT 2 AS k, NULL AS day, NULL AS city_code, generation AS orders, 0 AS succeeded,
          0 AS failed, NULL AS amount, seq AS n
        FROM recharge_serving_state WHERE group_id = ${servingGroupId}`);
    }
    const out = { daily: [] as CityDailyStats[], minutes: [] as MinuteStats[], serving: null as ServingRow | null };
    if (parts.length === 0) return out;
    const rows = await tx.$queryRaw<ReadBackRow[]>`${Prisma.join(parts, ' UNION ALL ')}`;
    for (const r of rows) {
      const kind = Number(r.k);
      if (kind === 0) {
        const day = r.day ?? '';
        const cityCode = r.city_code ?? '';
        if (!touched.has(`${day}|${cityCode}`)) continue;
        out.daily.push({
          date: day,
          cityCode,
          orders: Number(r.orders),
          succeeded: Number(r.succeeded),
          failed: Number(r.failed),
          amount: r.amount ?? '0.00',
          durationMsSum: Number(r.n),
        });
      } else if (kind === 1) {
        out.minutes.push({
          minuteStartMs: Math.floor(Number(r.n) / 1000),
          orders: Number(r.orders),
          succeeded: Number(r.succeeded),
          amount: r.amount ?? '0.00',
        });
      } else {
        out.serving = { generation: Number(r.orders), seq: Number(r.n) };
      }
    }
    // Primary-key order, as the separate selects gave them (a UNION ALL promises no order).
    out.daily.sort((x, y) => compareText(x.date, y.date) || compareText(x.cityCode, y.cityCode));
    out.minutes.sort((x, y) => x.minuteStartMs - y.minuteStartMs);
    return out;
  }

  /**
   * Every city of one calendar date (`YYYY-MM-DD`), its rows summed; cities without orders have none.
   * @param client where to read: a transaction (a consistent snapshot with other reads), else the pool.
   */
  async dailyOf(date: string, client: Db | Tx = this.db): Promise<CityDailyStats[]> {
    const rows = await client.$queryRaw<
      DailyRow[]
    >`SELECT ${DAILY_COLUMNS} FROM recharge_city_daily WHERE day = ${date} GROUP BY day, city_code ORDER BY city_code`;
    return rows.map(toDaily);
  }

  /** Minutes with `fromMs <= minute start < toMs` (epoch MILLISECONDS), each its rows summed, by minute. */
  async minutesBetween(fromMs: number, toMs: number): Promise<MinuteStats[]> {
    const rows = await this.db.$queryRaw<MinuteRow[]>`SELECT minute_start, ${MINUTE_SUMS} FROM recharge_minute
      WHERE minute_start >= ${new Date(fromMs)} AND minute_start < ${new Date(toMs)}
      GROUP BY minute_start ORDER BY minute_start`;
    return rows.map(toMinute);
  }

  /**
   * Deletes the seen order ids whose notify time is before `cutoffMs` (epoch
   * MILLISECONDS), at most `batchSize` rows per statement (through the index
   * on `notify_time`, oldest first), each statement its own short
   * transaction, with `pauseMs` MILLISECONDS between statements so batch
   * transactions are not held up. Runs off the hot path (a worker's timer).
   * @param opts.shouldStop checked between statements: true ends the run early.
   * @returns the rows deleted and the statements run.
   */
  async pruneOrders(
    cutoffMs: number,
    opts: { batchSize?: number; pauseMs?: number; shouldStop?: () => boolean } = {},
  ): Promise<{ deleted: number; statements: number }> {
    const batchSize = opts.batchSize ?? 1_000;
    const pauseMs = opts.pauseMs ?? 100;
    const cutoff = new Date(cutoffMs);
    let deleted = 0;
    let statements = 0;
    for (;;) {
      const n = await this.db
        .$executeRaw`DELETE FROM recharge_order WHERE notify_time < ${cutoff} ORDER BY notify_time LIMIT ${batchSize}`;
      deleted += n;
      statements++;
      if (n < batchSize || opts.shouldStop?.()) break;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    return { deleted, statements };
  }

  /** Inside a rebuild transaction: forgets every result, the seen order ids included. The cities stay. */
  async clear(tx: Tx): Promise<void> {
    await tx.$executeRaw`DELETE FROM recharge_order`;
    await tx.$executeRaw`DELETE FROM recharge_city_daily`;
    await tx.$executeRaw`DELETE FROM recharge_minute`;
  }
}
