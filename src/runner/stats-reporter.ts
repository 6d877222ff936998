import {
  partitionStatsKey,
  sumEventTimeCounts,
  type EventTimeCounts,
  type PublishedPartitionFailure,
} from '../observability/partition-stats.js';
import type { PartitionFailure } from './partition-health.js';

/** Seconds a published partition stat lives in Redis: a stopped worker's stats vanish. */
export const PARTITION_STATS_TTL_SECONDS = 30;

/** What `lastMinute` covers, milliseconds of wall clock. */
const MINUTE_MS = 60_000;

/** The Redis operations the reporter needs (an ioredis client has them). */
export interface StatsRedis {
  pipeline(): { set(key: string, value: string, ex: 'EX', seconds: number): unknown; exec(): Promise<unknown> };
}

/** A partition's records counted since the last report (the reporter resets them). */
export interface RateCounter {
  readonly partition: number;
  /** Records committed since `rateSince`. */
  rateCount: number;
  /** Of them, dead-lettered as `late`. */
  lateCount: number;
  /** Of them, dead-lettered as `event-time-ahead`. */
  aheadCount: number;
  /** Wall clock, epoch milliseconds. */
  rateSince: number;
}

/**
 * Publishes the owner and records/s of each owned partition to Redis (key
 * `partitionStatsKey`, JSON `{ owner, recordsPerSecond, at, failure?, lastMinute }`, TTL
 * {@link PARTITION_STATS_TTL_SECONDS} seconds) for the `jobs` query, with the
 * partition's failure while it is FAILING (also for an assigned partition
 * whose claim keeps failing, which is not owned). Redis, not the database,
 * carries the failing state: the database may be what fails. Best effort: a
 * failed write is dropped, the next period writes again.
 */
export class StatsReporter {
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param owned the partitions owned now, read at every report.
   * @param owner `host:pid`, or null when unknown.
   * @param intervalMs report period, milliseconds (PARTITION_STATS_INTERVAL_MS).
   */
  constructor(
    private readonly redis: StatsRedis,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly owner: string | null,
    private readonly owned: () => Iterable<RateCounter>,
    private readonly intervalMs: number,
    private readonly failing: () => Iterable<PartitionFailure> = () => [],
    /** Called after each report with the last minute of every partition owned, summed (the job's warnings on this worker). */
    private readonly onLastMinute?: (counts: EventTimeCounts) => void,
  ) {}

  /** Each owned partition's reports over the last minute, oldest first. */
  private readonly history = new Map<number, ({ atMs: number } & EventTimeCounts)[]>();

  /** Starts periodic reports (the timer does not keep the process alive). */
  start(): void {
    this.timer = setInterval(() => void this.report(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reports now (also called at once when partitions are claimed). Never rejects. */
  async report(nowMs = Date.now()): Promise<void> {
    const pipeline = this.redis.pipeline();
    const failures = new Map<number, PublishedPartitionFailure>();
    for (const f of this.failing()) {
      failures.set(f.partition, { code: f.code, message: f.message, sinceMs: f.sinceMs, attempts: f.attempts });
    }
    const lastMinute = new Map<number, EventTimeCounts>();
    const write = (partition: number, recordsPerSecond: number) => {
      const failure = failures.get(partition);
      const minute = lastMinute.get(partition);
      const stats = {
        owner: this.owner,
        recordsPerSecond,
        at: nowMs,
        ...(failure ? { failure } : {}),
        ...(minute ? { lastMinute: minute } : {}),
      };
      pipeline.set(
        partitionStatsKey(this.groupId, this.topic, partition),
        JSON.stringify(stats),
        'EX',
        PARTITION_STATS_TTL_SECONDS,
      );
    };
    const seen = new Set<number>();
    for (const state of this.owned()) {
      const seconds = Math.max(0.001, (nowMs - state.rateSince) / 1000);
      const periods = (this.history.get(state.partition) ?? []).filter((h) => h.atMs > nowMs - MINUTE_MS);
      periods.push({ atMs: nowMs, records: state.rateCount, late: state.lateCount, ahead: state.aheadCount });
      this.history.set(state.partition, periods);
      lastMinute.set(state.partition, sumEventTimeCounts(periods));
      write(state.partition, state.rateCount / seconds);
      seen.add(state.partition);
      state.rateCount = 0;
      state.lateCount = 0;
      state.aheadCount = 0;
      state.rateSince = nowMs;
    }
    for (const p of [...this.history.keys()]) if (!seen.has(p)) this.history.delete(p);
    for (const partition of failures.keys()) if (!seen.has(partition)) write(partition, 0);
    this.onLastMinute?.(sumEventTimeCounts(lastMinute.values()));
    // Stats are best effort: the next report writes them again.
    await pipeline.exec().catch(() => undefined);
  }
}
