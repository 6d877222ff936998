import type { Db, Tx } from '../../store/prisma-client.js';

/** The distinct users of one batch on one calendar day. */
export interface DayUsers {
  /** Local calendar date (TIME_ZONE), `YYYY-MM-DD`. */
  day: string;
  /** Distinct uids, sorted (lock order). */
  uids: readonly string[];
}

/** One user's earliest day in a batch. */
export interface FirstDay {
  uid: string;
  /** `YYYY-MM-DD`. */
  day: string;
}

/** One day of `dailyActiveUsers`. */
export interface DailyActiveUsersRow {
  /** `YYYY-MM-DD`. */
  date: string;
  /** Distinct users with any event that day. */
  activeUsers: number;
  /** Users whose first day ever seen is that day. */
  newUsers: number;
}

/**
 * Rows per statement, carried as ONE JSON parameter unpacked by JSON_TABLE
 * (MySQL 8 / MariaDB 10.6+): far cheaper for Prisma than one placeholder per value.
 */
const CHUNK = 5_000;

/**
 * The tables of the daily-active-users job: `user_daily_active`
 * (one row per day and user, INSERT IGNORE), `user_daily_count` (distinct
 * users per day, in rows per Kafka partition: a day's count is the sum of its
 * rows) and `user_first_seen` (LEAST of the days seen). Every write is
 * idempotent: replaying records changes nothing.
 *
 * No row is written by two transactions at once. A transaction adds the
 * users it inserted to the count rows of ONE partition it carries (the
 * caller's `owner`), whose `consumer_offset` row it holds locked: no other
 * transaction writes them meanwhile. The producers key `user-behavior` by
 * uid, so a user's rows are written by the one partition that holds the
 * user; row locks are taken in one order all the same (days ascending, uids
 * sorted; then the count rows; then the first-seen rows by uid).
 */
export class DailyActiveUserStore {
  constructor(private readonly db: Db) {}

  /**
   * Records the batches of one transaction, inside it: per day ONE `INSERT
   * IGNORE` of the users (its affected rows are the users new on that day,
   * added to the day's row of partition `owner`), then ONE upsert of the first
   * days (per {@link CHUNK} rows). `days` ascending, uids sorted and distinct
   * within a day; `firstDays` sorted by uid, one per uid.
   * @param owner a partition this transaction carries (its `consumer_offset` row locked): the count rows it adds to.
   */
  async addBatch(tx: Tx, owner: number, days: readonly DayUsers[], firstDays: readonly FirstDay[]): Promise<void> {
    for (const { day, uids } of days) {
      let added = 0;
      for (let i = 0; i < uids.length; i += CHUNK) {
        const rows = JSON.stringify(uids.slice(i, i + CHUNK));
        // Affected rows of INSERT IGNORE = rows really inserted: users new on that day.
        added += await tx.$executeRaw`INSERT IGNORE INTO user_daily_active (day, uid)
          SELECT ${day}, j.uid FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (uid VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) AS j`;
      }
      if (added > 0) {
        await tx.$executeRaw`INSERT INTO user_daily_count (day, \`partition\`, active_users) VALUES (${day}, ${owner}, ${added})
          ON DUPLICATE KEY UPDATE active_users = active_users + VALUES(active_users)`;
      }
    }
    for (let i = 0; i < firstDays.length; i += CHUNK) {
      const rows = JSON.stringify(firstDays.slice(i, i + CHUNK).map((f) => [f.uid, f.day]));
      await tx.$executeRaw`INSERT INTO user_first_seen (uid, first_day)
        SELECT j.uid, j.first_day FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (uid VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', first_day DATE PATH '$[1]')) AS j
        ON DUPLICATE KEY UPDATE first_day = LEAST(user_first_seen.first_day, VALUES(first_day))`;
    }
  }

  /**
   * Active and new users of each date in [from, to] that has any, `YYYY-MM-DD`
   * both inclusive (the caller fills the empty dates). Two indexed range reads:
   * the daily counters (summed over their partitions) and `user_first_seen`
   * by `first_day`.
   */
  async range(from: string, to: string): Promise<Map<string, { activeUsers: number; newUsers: number }>> {
    const [active, fresh] = await Promise.all([
      this.db.$queryRaw<
        { day: string; n: number | bigint }[]
      >`SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, CAST(SUM(active_users) AS SIGNED) AS n
        FROM user_daily_count WHERE day BETWEEN ${from} AND ${to} GROUP BY day`,
      this.db.$queryRaw<
        { day: string; n: number | bigint }[]
      >`SELECT DATE_FORMAT(first_day, '%Y-%m-%d') AS day, COUNT(*) AS n
        FROM user_first_seen WHERE first_day BETWEEN ${from} AND ${to} GROUP BY first_day`,
    ]);
    const out = new Map<string, { activeUsers: number; newUsers: number }>();
    const at = (day: string) => {
      let v = out.get(day);
      if (!v) out.set(day, (v = { activeUsers: 0, newUsers: 0 }));
      return v;
    };
    for (const r of active) at(r.day).activeUsers = Number(r.n);
    for (const r of fresh) at(r.day).newUsers = Number(r.n);
    return out;
  }

  /** Empties every table of the job (a rebuild), inside the rebuild transaction. */
  async clear(tx: Tx): Promise<void> {
    await tx.$executeRaw`DELETE FROM user_daily_active`;
    await tx.$executeRaw`DELETE FROM user_daily_count`;
    await tx.$executeRaw`DELETE FROM user_first_seen`;
  }
}
