import { partitionStatsKey, type PublishedPartitionFailure } from '../observability/partition-stats.js';
import type { PartitionFailure } from './partition-health.js';

/** Seconds a published partition stat lives in Redis: a stopped worker's stats vanish. */
export const PARTITION_STATS_TTL_SECONDS = 30;

/** The Redis operations the reporter needs (an ioredis client has them). */
export interface StatsRedis {
  pipeline(): { set(key: string, value: string, ex: 'EX', seconds: number): unknown; exec(): Promise<unknown> };
}

/** A partition's records counted since the last report (the reporter resets them). */
export interface RateCounter {
  readonly partition: number;
  /** Records committed since `rateSince`. */
  rateCount: number;
  /** Wall clock, epoch milliseconds. */
  rateSince: number;
}

/**
 * Publishes the owner and records/s of each owned partition to Redis (key
 * `partitionStatsKey`, JSON `{ owner, recordsPerSecond, at, failure? }`, TTL
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
  ) {}

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
    const write = (partition: number, recordsPerSecond: number) => {
      const failure = failures.get(partition);
      const stats = { owner: this.owner, recordsPerSecond, at: nowMs, ...(failure ? { failure } : {}) };
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
      write(state.partition, state.rateCount / seconds);
      seen.add(state.partition);
      state.rateCount = 0;
      state.rateSince = nowMs;
    }
    for (const partition of failures.keys()) if (!seen.has(partition)) write(partition, 0);
    // Stats are best effort: the next report writes them again.
    await pipeline.exec().catch(() => undefined);
  }
}
