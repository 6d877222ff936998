import type { ChangeLogStore } from '../../store/change-log-store.js';
import type { Db } from '../../store/prisma-client.js';
import type { CityDailyStats } from './recharge.js';
import type { RechargeMetricsStore } from './recharge-metrics-store.js';

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
    /** The day's city rows, summed over their partitions as every read of them is. */
    private readonly store: RechargeMetricsStore,
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
        return { heads, cities: await this.store.dailyOf(date, tx) };
      },
      { isolationLevel: 'RepeatableRead' },
    );
  }
}
