// Everything a job wrote that a run with faults must reproduce exactly, read
// back as text (BIGINT and DECIMAL exact, DATETIME as ISO UTC), so that two
// runs compare with one deepEqual. Each snapshot holds the job's result tables
// and its consumer group's `consumer_offset` rows (positions, watermarks, late
// and dead-lettered counters); the tables of one job are only written by that
// job, so several jobs may share a database.
import { offsetRows, rowsAsText } from './job-runs.js';
import { sql } from './services.js';

/** Snapshot of `abnormal-orders` (table `unpayment_record`) and the offsets of `group`. */
export async function abnormalOrdersSnapshot(dbUrl: string, group: string) {
  return {
    rows: rowsAsText(
      await sql(
        dbUrl,
        'SELECT uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end FROM unpayment_record ORDER BY uid',
      ),
    ),
    offsets: await offsetRows(dbUrl, group),
  };
}

/** Snapshot of `daily-active-users` (per-day users, counts, first days) and the offsets of `group`. */
export async function dailyActiveUsersSnapshot(dbUrl: string, group: string) {
  return {
    active: rowsAsText(
      await sql(
        dbUrl,
        "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, COUNT(*) AS users, SUM(CRC32(uid)) AS checksum FROM user_daily_active GROUP BY day ORDER BY day",
      ),
    ),
    counts: rowsAsText(
      await sql(dbUrl, "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, active_users FROM user_daily_count ORDER BY day"),
    ),
    firstSeen: rowsAsText(
      await sql(
        dbUrl,
        "SELECT DATE_FORMAT(first_day, '%Y-%m-%d') AS day, COUNT(*) AS users, SUM(CRC32(uid)) AS checksum FROM user_first_seen GROUP BY first_day ORDER BY first_day",
      ),
    ),
    offsets: await offsetRows(dbUrl, group),
  };
}

/** Snapshot of `recharge-metrics` (both aggregate tables, the seen orders) and the offsets of `group`. */
export async function rechargeMetricsSnapshot(dbUrl: string, group: string) {
  return {
    daily: rowsAsText(
      await sql(
        dbUrl,
        "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, city_code, orders, succeeded, failed, CAST(amount AS CHAR) AS amount, duration_ms_sum FROM recharge_city_daily ORDER BY day, city_code",
      ),
    ),
    minutes: rowsAsText(
      await sql(
        dbUrl,
        'SELECT minute_start, orders, succeeded, CAST(amount AS CHAR) AS amount FROM recharge_minute ORDER BY minute_start',
      ),
    ),
    orders: rowsAsText(await sql(dbUrl, 'SELECT COUNT(*) AS n, SUM(CRC32(order_id)) AS checksum FROM recharge_order')),
    offsets: await offsetRows(dbUrl, group),
  };
}

/** Snapshot of `hot-products` (click minutes, other actions, running totals) and the offsets of `group`. */
export async function hotProductsSnapshot(dbUrl: string, group: string) {
  return {
    minutes: rowsAsText(
      await sql(
        dbUrl,
        'SELECT product_id, window_start, window_end, clicks FROM product_click_minute ORDER BY product_id, window_start',
      ),
    ),
    actions: rowsAsText(
      await sql(
        dbUrl,
        'SELECT product_id, window_start, action, window_end, events FROM product_action_minute ORDER BY product_id, window_start, action',
      ),
    ),
    totals: rowsAsText(
      await sql(
        dbUrl,
        'SELECT product_id, clicks, category, category_at, last_click_at FROM product_click_total ORDER BY product_id',
      ),
    ),
    offsets: await offsetRows(dbUrl, group),
  };
}

/**
 * A snapshot of several jobs (job name -> its snapshot, as `JobSet.snapshot` reads it) without each job's
 * `offsets`: the result tables alone, for runs over different topics (or a
 * topic with other records in front) whose positions cannot match.
 */
export function withoutOffsets(snapshot: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([job, s]) => {
      const { offsets: _offsets, ...rest } = s as Record<string, unknown>;
      return [job, rest];
    }),
  );
}

/**
 * Per job of a several-job snapshot (job name -> its snapshot, as `JobSet.snapshot` reads it), the sum of
 * one `consumer_offset` counter column (e.g. `dead_lettered`) over the job's partitions.
 */
export function sumOffsetColumn(snapshot: Record<string, unknown>, column: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([job, s]) => [
      job,
      (s as { offsets: Record<string, string | null>[] }).offsets.reduce((n, r) => n + Number(r[column] ?? 0), 0),
    ]),
  );
}
