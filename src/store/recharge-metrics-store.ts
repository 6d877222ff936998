import { Prisma } from '../generated/prisma/client.js';
import { formatFen } from '../domain/money.js';
import type {
  CityDailyStats,
  CityDayDelta,
  CityRow,
  MinuteDelta,
  MinuteStats,
  RechargeEvent,
} from '../domain/recharge.js';
import type { Db, Tx } from './prisma-client.js';

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

/** `YYYY-MM-DD HH:MM:SS.mmm` (UTC), the literal JSON_TABLE converts to DATETIME(3). */
function sqlDateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
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

// DECIMAL comes back from the driver as a float: CAST to text keeps it exact.
const DAILY_COLUMNS = Prisma.sql`DATE_FORMAT(day, '%Y-%m-%d') AS day, city_code, orders, succeeded, failed, CAST(amount AS CHAR) AS amount, duration_ms_sum`;
const MINUTE_COLUMNS = Prisma.sql`minute_start, orders, succeeded, CAST(amount AS CHAR) AS amount`;

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
   * now. One `SELECT ... WHERE order_id IN (...)` over the batch's ids (up to
   * 5,000 per statement) finds those already seen
   * (by an earlier batch, another partition, or a run before a restart), then
   * ONE multi-row plain INSERT records the new ones. Plain, not INSERT IGNORE:
   * when another partition's transaction inserts the same id concurrently,
   * the duplicate-key error fails this transaction, the consumer replays the
   * batch, and the replay sees the id as seen. Exact on MySQL 8 and MariaDB.
   * Ids are kept only for the de-duplication horizon ({@link pruneOrders}):
   * the job dead-letters records older than it before they reach here.
   *
   * @param events orders of one batch, each `orderId` at most once.
   * @returns the events whose order id was not seen, in batch order.
   */
  async keepNewOrders(tx: Tx, events: readonly RechargeEvent[]): Promise<RechargeEvent[]> {
    if (events.length === 0) return [];
    const seen = new Set<string>();
    for (let i = 0; i < events.length; i += ORDER_CHUNK) {
      const ids = JSON.stringify(events.slice(i, i + ORDER_CHUNK).map((e) => e.orderId));
      // The column's character set and collation, declared: compared byte for byte like the
      // column (and through its primary key), whatever the database's default character set.
      const rows = await tx.$queryRaw<{ order_id: string }[]>`SELECT order_id FROM recharge_order
        WHERE order_id IN (SELECT j.id FROM JSON_TABLE(${ids}, '$[*]' COLUMNS (id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) AS j)`;
      for (const r of rows) seen.add(r.order_id);
    }
    const fresh = seen.size === 0 ? [...events] : events.filter((e) => !seen.has(e.orderId));
    for (let i = 0; i < fresh.length; i += ORDER_CHUNK) {
      const rows = JSON.stringify(
        fresh.slice(i, i + ORDER_CHUNK).map((e) => [e.orderId, sqlDateTime(e.notifyTimeMs), e.cityCode]),
      );
      await tx.$executeRaw`INSERT INTO recharge_order (order_id, notify_time, city_code)
        SELECT j.id, j.notify_time, j.city_code
        FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', notify_time DATETIME(3) PATH '$[1]',
          city_code VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci PATH '$[2]')) AS j`;
    }
    return fresh;
  }

  /**
   * Inside the batch transaction: adds the deltas with multi-row
   * `INSERT ... ON DUPLICATE KEY UPDATE x = x + VALUES(x)`, rows in primary-key
   * order (as {@link aggregateRecharges} sorts them) so concurrent partitions
   * lock rows in one order.
   */
  async addDeltas(tx: Tx, daily: readonly CityDayDelta[], minutes: readonly MinuteDelta[]): Promise<void> {
    for (let i = 0; i < daily.length; i += INSERT_CHUNK) {
      const values = Prisma.join(
        daily
          .slice(i, i + INSERT_CHUNK)
          .map(
            (d) =>
              Prisma.sql`(${d.day}, ${d.cityCode}, ${d.orders}, ${d.succeeded}, ${d.failed}, ${formatFen(d.amountFen)}, ${d.durationMsSum})`,
          ),
      );
      await tx.$executeRaw`INSERT INTO recharge_city_daily (day, city_code, orders, succeeded, failed, amount, duration_ms_sum)
        VALUES ${values}
        ON DUPLICATE KEY UPDATE orders = orders + VALUES(orders), succeeded = succeeded + VALUES(succeeded),
          failed = failed + VALUES(failed), amount = amount + VALUES(amount), duration_ms_sum = duration_ms_sum + VALUES(duration_ms_sum)`;
    }
    for (let i = 0; i < minutes.length; i += INSERT_CHUNK) {
      const values = Prisma.join(
        minutes
          .slice(i, i + INSERT_CHUNK)
          .map(
            (m) => Prisma.sql`(${new Date(m.minuteStartMs)}, ${m.orders}, ${m.succeeded}, ${formatFen(m.amountFen)})`,
          ),
      );
      await tx.$executeRaw`INSERT INTO recharge_minute (minute_start, orders, succeeded, amount)
        VALUES ${values}
        ON DUPLICATE KEY UPDATE orders = orders + VALUES(orders), succeeded = succeeded + VALUES(succeeded), amount = amount + VALUES(amount)`;
    }
  }

  /**
   * Inside the batch transaction, after {@link addDeltas}: the absolute values
   * of the buckets the batch touched, ONE select per table. The rows are
   * locked by this transaction, so these are exactly the values it commits.
   */
  async readBack(
    tx: Tx,
    daily: readonly CityDayDelta[],
    minutes: readonly MinuteDelta[],
  ): Promise<{ daily: CityDailyStats[]; minutes: MinuteStats[] }> {
    let dailyStats: CityDailyStats[] = [];
    if (daily.length > 0) {
      const days = [...new Set(daily.map((d) => d.day))];
      const cities = [...new Set(daily.map((d) => d.cityCode))];
      const touched = new Set(daily.map((d) => `${d.day}|${d.cityCode}`));
      const rows = await tx.$queryRaw<DailyRow[]>`SELECT ${DAILY_COLUMNS} FROM recharge_city_daily
        WHERE day IN (${Prisma.join(days)}) AND city_code IN (${Prisma.join(cities)})`;
      dailyStats = rows.filter((r) => touched.has(`${r.day}|${r.city_code}`)).map(toDaily);
    }
    let minuteStats: MinuteStats[] = [];
    if (minutes.length > 0) {
      const rows = await tx.$queryRaw<MinuteRow[]>`SELECT ${MINUTE_COLUMNS} FROM recharge_minute
        WHERE minute_start IN (${Prisma.join(minutes.map((m) => new Date(m.minuteStartMs)))})`;
      minuteStats = rows.map(toMinute);
    }
    return { daily: dailyStats, minutes: minuteStats };
  }

  /** Every city row of one calendar date (`YYYY-MM-DD`); cities without orders have none. */
  async dailyOf(date: string): Promise<CityDailyStats[]> {
    const rows = await this.db.$queryRaw<
      DailyRow[]
    >`SELECT ${DAILY_COLUMNS} FROM recharge_city_daily WHERE day = ${date} ORDER BY city_code`;
    return rows.map(toDaily);
  }

  /** Minute rows with `fromMs <= minute start < toMs` (epoch MILLISECONDS), by minute. */
  async minutesBetween(fromMs: number, toMs: number): Promise<MinuteStats[]> {
    const rows = await this.db.$queryRaw<MinuteRow[]>`SELECT ${MINUTE_COLUMNS} FROM recharge_minute
      WHERE minute_start >= ${new Date(fromMs)} AND minute_start < ${new Date(toMs)} ORDER BY minute_start`;
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

  /**
   * Inside the batch transaction (the partition's `consumer_offset` row is
   * locked by it): adds `count` records that arrived beyond the
   * de-duplication horizon to the partition's `beyond_dedup_horizon`.
   */
  async countBeyondHorizon(
    tx: Tx,
    position: { groupId: string; topic: string; partition: number },
    count: number,
  ): Promise<void> {
    if (count === 0) return;
    await tx.$executeRaw`UPDATE consumer_offset SET beyond_dedup_horizon = beyond_dedup_horizon + ${count}
      WHERE group_id = ${position.groupId} AND topic = ${position.topic} AND \`partition\` = ${position.partition}`;
  }

  /** Inside a rebuild transaction: forgets every result, the seen order ids included. The cities stay. */
  async clear(tx: Tx): Promise<void> {
    await tx.$executeRaw`DELETE FROM recharge_order`;
    await tx.$executeRaw`DELETE FROM recharge_city_daily`;
    await tx.$executeRaw`DELETE FROM recharge_minute`;
  }
}
