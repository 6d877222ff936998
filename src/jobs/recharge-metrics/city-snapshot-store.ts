import type { ChangeLogStore } from '../../store/change-log-store.js';
import type { Db } from '../../store/prisma-client.js';
import type { CityDailyStats } from './recharge.js';

interface Row {
  day: string;
  city_code: string;
  orders: number | bigint;
  succeeded: number | bigint;
  failed: number | bigint;
  amount: string;
  duration_ms_sum: number | bigint;
}

/**
 * The current recharge stats of one calendar day together with the change
 * log heads they correspond to, read in ONE consistent-snapshot transaction
 * (REPEATABLE READ: both reads see the same commits), so that a subscription
 * starting from those heads neither misses nor repeats a change. The
 * database, not the Redis mirror, answers: only it is consistent with the log.
 */
export class CitySnapshotStore {
  constructor(
    private readonly db: Db,
    private readonly changeLog: ChangeLogStore,
  ) {}

  /**
   * @param stream the recharge-metrics consumer group (the log's stream).
   * @param date calendar date in TIME_ZONE, `YYYY-MM-DD`.
   * @returns the heads (per partition) and the day's city rows (cities without orders have none), by city code.
   */
  async read(stream: string, date: string): Promise<{ heads: Map<number, string>; cities: CityDailyStats[] }> {
    return this.db.$transaction(
      async (tx) => {
        const heads = await this.changeLog.heads(stream, tx);
        // DECIMAL would come back as a float: text keeps it exact.
        const rows = await tx.$queryRaw<
          Row[]
        >`SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, city_code, CAST(SUM(orders) AS SIGNED) AS orders,
          CAST(SUM(succeeded) AS SIGNED) AS succeeded, CAST(SUM(failed) AS SIGNED) AS failed,
          CAST(SUM(amount) AS CHAR) AS amount, CAST(SUM(duration_ms_sum) AS SIGNED) AS duration_ms_sum
        FROM recharge_city_daily WHERE day = ${date} GROUP BY day, city_code ORDER BY city_code`;
        return {
          heads,
          cities: rows.map((r) => ({
            date: r.day,
            cityCode: r.city_code,
            orders: Number(r.orders),
            succeeded: Number(r.succeeded),
            failed: Number(r.failed),
            amount: r.amount,
            durationMsSum: Number(r.duration_ms_sum),
          })),
        };
      },
      { isolationLevel: 'RepeatableRead' },
    );
  }
}
