import type { Logger } from 'pino';
import { HOT_PRODUCTS_CHANGE_KIND, type HotProductsUpdatedEvent } from './hot-products-events.js';
import { assignRanks, boundariesToEmit, RANKING_SPAN_MS } from './hot-ranking.js';
import type { ChangeLogStore } from '../../store/change-log-store.js';
import type { HotProductStore } from './hot-product-store.js';

/** Wait before checking again after a failed check (database or Kafka unreachable), milliseconds. */
const RETRY_AFTER_FAILURE_MS = 5_000;

/** Options of {@link HotProductsEmitter}. */
export interface HotProductsEmitterOptions {
  store: HotProductStore;
  /** Consumer group and topic of the hot-products job whose watermark decides. */
  groupId: string;
  topic: string;
  /** Partitions of the topic (a row per partition must exist before anything is emitted). */
  partitionCount: () => Promise<number>;
  /**
   * The subscriptions' change log: each claimed boundary's ranking is appended
   * (job-wide, positioned at the boundary) in the claim's transaction.
   * Omitted: no change log.
   */
  changeLog?: ChangeLogStore;
  /** Publishes one ranking (after its claim committed). */
  publish: (event: HotProductsUpdatedEvent) => Promise<void> | void;
  logger: Logger;
  /** This worker, as recorded in `hot_products_emission.claimed_by` (`host:pid`). */
  claimedBy: string;
  /**
   * Least time between two checks of the job's watermark, milliseconds: a busy
   * job commits many batches a second, and each asks for a check.
   * @default 1000 // 1 second
   */
  minCheckIntervalMs?: number;
  /** Products in each published ranking. @default 100 */
  publishLimit?: number;
  /**
   * Most boundaries published in one catch-up (after downtime, or while a
   * backlog is replayed); older ones are skipped. @default 12 // one hour
   */
  maxCatchUp?: number;
}

/**
 * Publishes `hotProductsUpdated`: the ranking of the hour ending
 * at each 5-minute boundary of event time, once the JOB's watermark has
 * passed it, once per boundary across every worker of the group.
 *
 * The job's watermark is the minimum over its partitions'
 * `consumer_offset.watermark_ms`, committed with every batch. It counts only
 * when every partition of the topic has a row with a watermark: a partition
 * that never saw a record holds the boundary back until its idle advance
 * gives it one (`AdditiveProcessor` with `idleTimeoutMs`), so a partition
 * whose first batch is still on its way cannot be overtaken.
 *
 * `poke()` after every commit asks for a check: at most one small query per
 * `minCheckIntervalMs`, never concurrent, and a poke during a check or within
 * the interval leads to one more check after it (nothing is missed). A due
 * boundary is claimed by inserting its `hot_products_emission` row in a
 * short transaction that also reads the ranking; only the worker whose insert
 * succeeds publishes. Delivery is at most once per boundary: a worker that
 * dies between that commit and the publish loses that one event (the
 * ranking itself stays available through `hotProducts(at:)`).
 */
export class HotProductsEmitter {
  private readonly minIntervalMs: number;
  private readonly publishLimit: number;
  private readonly maxCatchUp: number;
  private lastCheckAt = 0;
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: HotProductsEmitterOptions) {
    this.minIntervalMs = opts.minCheckIntervalMs ?? 1_000;
    this.publishLimit = opts.publishLimit ?? 100;
    this.maxCatchUp = opts.maxCatchUp ?? 12;
    if (!(this.minIntervalMs >= 0))
      throw new RangeError(`minCheckIntervalMs must be >= 0 milliseconds, got ${opts.minCheckIntervalMs}`);
    if (!(this.publishLimit >= 1)) throw new RangeError(`publishLimit must be >= 1, got ${opts.publishLimit}`);
  }

  /** Asks for a check of the job's watermark soon (cheap; call after every commit). */
  poke(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastCheckAt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, wait);
    this.timer.unref();
  }

  /**
   * Checks now: publishes every due boundary this worker wins.
   * @returns the boundaries (epoch ms) this worker published.
   */
  async check(): Promise<number[]> {
    const { store, groupId, topic } = this.opts;
    const [partitions, wm] = await Promise.all([this.opts.partitionCount(), store.jobWatermark(groupId, topic)]);
    if (
      partitions === 0 ||
      wm.partitions < partitions ||
      wm.withWatermark < wm.partitions ||
      wm.minWatermarkMs === null
    )
      return [];
    const published: number[] = [];
    for (const windowEndMs of boundariesToEmit(wm.lastEmittedMs, wm.minWatermarkMs, this.maxCatchUp)) {
      const toEvent = (ranking: Parameters<typeof assignRanks>[0]): HotProductsUpdatedEvent => ({
        windowStart: new Date(windowEndMs - RANKING_SPAN_MS).toISOString(),
        windowEnd: new Date(windowEndMs).toISOString(),
        products: assignRanks(ranking).map((p) => ({
          productId: p.productId,
          clicks: p.clicks,
          rank: p.rank,
          category: p.category,
        })),
      });
      const { changeLog } = this.opts;
      const ranking = await store.claimEmission(
        groupId,
        windowEndMs,
        RANKING_SPAN_MS,
        this.publishLimit,
        this.opts.claimedBy,
        changeLog
          ? (tx, r) =>
              changeLog.appendJobWide(tx, groupId, windowEndMs, {
                kind: HOT_PRODUCTS_CHANGE_KIND.hotProductsRanking,
                payload: toEvent(r),
              })
          : undefined,
      );
      if (!ranking) continue;
      await this.opts.publish(toEvent(ranking));
      published.push(windowEndMs);
      this.opts.logger.info(
        { windowEnd: new Date(windowEndMs).toISOString(), products: ranking.length },
        'hot-products ranking published',
      );
    }
    return published;
  }

  private async run(): Promise<void> {
    this.running = true;
    this.lastCheckAt = Date.now();
    try {
      await this.check();
    } catch (err) {
      // The boundary stays due until a claim commits: try again a little later even if
      // no commit pokes (a quiet stream), without a warning every second while down.
      setTimeout(() => this.poke(), RETRY_AFTER_FAILURE_MS).unref();
      this.opts.logger.warn({ err }, 'hot-products: checking the watermark for a ranking boundary failed');
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    }
  }
}
