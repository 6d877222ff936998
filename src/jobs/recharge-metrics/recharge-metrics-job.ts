import type { Logger } from 'pino';
import { parseRecharge } from './recharge-format.js';
import { RECHARGE_CHANGE_KIND, type RechargeCityMetricsChangedEvent } from './recharge-events.js';
import type { ChangeLogStore } from '../../store/change-log-store.js';
import { BEYOND_DEDUP_HORIZON } from '../../domain/dedup-horizon.js';
import type { CityDailyStats, MinuteStats, RechargeEvent } from './recharge.js';
import type { RechargeMetricsStore } from './recharge-metrics-store.js';
import type { RechargeServingCache } from './recharge-serving-cache.js';
import type { RechargeServingState, ServingVersion } from './recharge-serving-state.js';
import type { ZonedCalendar } from '../../domain/zoned-calendar.js';
import { AdditiveProcessor, type AdditiveHandler } from '../../engine/additive-processor.js';
import type { JobDefinition } from '../../engine/job.js';
import { guardedEventTime } from '../../engine/job-event-time.js';
import { aggregateRecharges, firstOfEachOrder, localDayOf } from './recharge-aggregation.js';
import { RecentOrderIds } from './recharge-recent-orders.js';

/** The job's name in `JOBS`. */
export const RECHARGE_METRICS_JOB = 'recharge-metrics';

export { BEYOND_DEDUP_HORIZON };

/**
 * Pruning deletes order ids this much older than the horizon, MILLISECONDS
 * (10 minutes): a record accepted just inside the horizon is checked against
 * `recharge_order` within its batch transaction, far shorter than this, so
 * the first copy of its order cannot be pruned in between.
 */
export const PRUNE_MARGIN_MS = 10 * 60_000;

/**
 * Order ids a worker keeps in memory of those it recorded lately (see
 * {@link RecentOrderIds}), about 7 MiB: a re-sent notification among them is
 * looked up in `recharge_order`, every other order is inserted without a
 * lookup first. 100,000 ids are half a minute at 3,000 orders/s, half an
 * hour at 50/s; an older duplicate costs one more statement in its batch,
 * never a wrong count.
 */
export const RECENT_ORDER_IDS = 100_000;

/** Options of {@link createRechargeMetricsJob}. */
export interface RechargeMetricsOptions {
  /** Consumer group. @default "recharge-metrics" (config `RECHARGE_GROUP`) */
  groupId: string;
  /** Source topic (key = orderId). @default "recharge" (config `RECHARGE_TOPIC`) */
  topic: string;
  /** Calendar of the per-day buckets and of the records' local times (config `TIME_ZONE`). */
  calendar: ZonedCalendar;
  /** Grace period of the (informational) watermark, milliseconds. */
  graceMs: number;
  /** Largest lead of an event time over its record's Kafka timestamp, milliseconds (MAX_EVENT_TIME_AHEAD_MS). @default 60000 */
  maxEventTimeAheadMs?: number;
  store: RechargeMetricsStore;
  /** Redis mirror, written after each commit. */
  cache: RechargeServingCache;
  /**
   * The subscriptions' change log: each batch's changed city-days (absolute
   * values) are appended in its transaction. Omitted: no change log
   * (benchmark comparison only, `CHANGE_LOG=off`).
   */
  changeLog?: ChangeLogStore;
  /** Database identity, generation and commit numbers of the Redis values. */
  state: RechargeServingState;
  /** Order ids are kept this long, MILLISECONDS of notify time (config `RECHARGE_DEDUP_HORIZON_DAYS`). */
  dedupHorizonMs: number;
  /** How often the worker prunes the order ids beyond the horizon, MILLISECONDS (config `RECHARGE_DEDUP_PRUNE_INTERVAL_MS`). */
  pruneIntervalMs: number;
  /** Order ids kept in memory to be looked up first (>= 2). @default {@link RECENT_ORDER_IDS} */
  recentOrderIds?: number;
  /** Wall clock, epoch MILLISECONDS. @default Date.now */
  now?: () => number;
  /** Publishes the changed cities' absolute stats (a wake-up for the API processes' change-log tailers); called after commit only. */
  publish: (event: RechargeCityMetricsChangedEvent) => void;
  logger?: Logger;
}

/**
 * Job `recharge-metrics`: reads the
 * `recharge` topic, counts each `reChargeNotifyReq` order once (duplicates of
 * an orderId are dropped across batches, partitions and restarts through
 * `recharge_order`), and adds per city per calendar day (TIME_ZONE) orders,
 * succeeded, failed, amount of successful recharges and summed duration, and
 * per minute of the whole province orders, succeeded and amount, in the batch
 * transaction (additive, emit-changes). After commit the touched buckets'
 * absolute values go to Redis and the changed cities to the bus.
 *
 * The aggregate rows are partition-local (a row per city-day or minute and
 * partition; a transaction adds to those of the lowest partition it
 * carries), so the workers' transactions never write the same aggregate row.
 * Only the tail of each transaction is serial: it takes the group's
 * `recharge_serving_state` row last, then sums the touched buckets, so the
 * totals it publishes are those after its commit, in commit order.
 *
 * The city codes are loaded once at start (`prepare`) and refreshed in the
 * background at each partition assignment: parsing never queries.
 *
 * De-duplication state is bounded: order ids are kept for `dedupHorizonMs`
 * of notify time (pruned by a timer of the worker, off the batch
 * transactions). A record whose notify time is already older than the
 * horizon when it arrives might duplicate an order whose id was pruned, so it
 * is NOT counted in the totals: it goes to the dead-letter topic with reason
 * `beyond-dedup-horizon` (nothing is lost; an operator may replay it) and is
 * counted in the partition's `consumer_offset.beyond_dedup_horizon`.
 *
 * Each batch transaction that changed the aggregates numbers its commit
 * (`recharge_serving_state.seq`); the values written to Redis carry that
 * number, under keys named by the database's identity and the group's
 * generation, so readers can tell whether they reflect this database.
 */
export function createRechargeMetricsJob(opts: RechargeMetricsOptions): JobDefinition {
  let cityCodes: ReadonlySet<string> | null = null;
  let loading: Promise<void> | null = null;
  const loadCities = (): Promise<void> => {
    loading ??= opts.store
      .loadCities()
      .then((cities) => {
        cityCodes = new Set(cities.map((c) => c.code));
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  };
  const isKnownCity = (code: string) => {
    if (!cityCodes) throw new Error('the city codes are not loaded yet');
    return cityCodes.has(code);
  };
  const now = opts.now ?? Date.now;
  /** Order ids this worker recorded lately: looked up first, the others inserted at once. */
  const recent = new RecentOrderIds(opts.recentOrderIds ?? RECENT_ORDER_IDS);
  const isRecent = (orderId: string) => recent.has(orderId);
  /** Highest commit number of this process's batches whose commit finished. */
  let committedSeq = 0;

  let pruneTimer: NodeJS.Timeout | null = null;
  let pruning = false;
  /** Deletes the order ids beyond the horizon (and the margin), in small statements; never two runs at once. */
  const pruneOnce = async (): Promise<void> => {
    if (pruning) return;
    pruning = true;
    try {
      const cutoffMs = now() - opts.dedupHorizonMs - PRUNE_MARGIN_MS;
      const { deleted } = await opts.store.pruneOrders(cutoffMs);
      if (deleted > 0)
        opts.logger?.info(
          { deleted, before: new Date(cutoffMs).toISOString() },
          'pruned order ids beyond the de-duplication horizon',
        );
    } catch (err) {
      opts.logger?.warn({ err }, 'pruning order ids failed: retried at the next interval');
    } finally {
      pruning = false;
    }
  };
  let firstPrune: NodeJS.Timeout | null = null;
  const startPruning = () => {
    if (pruneTimer) return;
    pruneTimer = setInterval(() => void pruneOnce(), opts.pruneIntervalMs);
    pruneTimer.unref();
    // A first run soon after the start, not in the middle of the first assignment.
    firstPrune = setTimeout(() => void pruneOnce(), Math.min(opts.pruneIntervalMs, 30_000)).unref();
  };
  const stopPruning = () => {
    if (pruneTimer) clearInterval(pruneTimer);
    if (firstPrune) clearTimeout(firstPrune);
    pruneTimer = null;
    firstPrune = null;
  };

  const handler: AdditiveHandler<RechargeEvent> = {
    parse: (record) => parseRecharge(record.value, { calendar: opts.calendar, isKnownCity }),
    // Well-formed, but older than the ids kept to de-duplicate it: refused as a value of its own, not as malformed.
    reject: (event) =>
      event.notifyTimeMs < now() - opts.dedupHorizonMs
        ? {
            reason: BEYOND_DEDUP_HORIZON,
            detail: `receiveNotifyTime ${new Date(event.notifyTimeMs).toISOString()} is older than the de-duplication horizon (${opts.dedupHorizonMs / 86_400_000} days): order ${event.orderId} cannot be proven not to be a duplicate`,
          }
        : null,
    eventTimeMs: (e) => e.notifyTimeMs,
    maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
    // The orders of every batch committed in one transaction (of one partition or of several) are
    // de-duplicated, summed and written as one: each table once, in primary-key order, whatever the
    // number of batches and partitions.
    aggregatesAcrossBatches: true,
    aggregate: (parts) => {
      /**
       * The partition of each event when several are aggregated (the change log names, per partition,
       * the city-days its orders changed); with one, every event is that partition's.
       */
      const partitionOf = new Map<RechargeEvent, number>();
      if (parts.length > 1) for (const part of parts) for (const e of part.events) partitionOf.set(e, part.partition);
      const orders = firstOfEachOrder(parts.flatMap((p) => p.events));
      // The rows of the lowest partition carried: its consumer_offset row is locked by this transaction.
      const owner = Math.min(...parts.map((p) => p.partition));
      let changed: {
        daily: CityDailyStats[];
        minutes: MinuteStats[];
        version: ServingVersion;
        wentBack: boolean;
      } | null = null;
      return {
        write: async (tx) => {
          changed = null;
          const floor = committedSeq;
          // Read once per process: no round trip inside the transaction after the first batch.
          const databaseId = await opts.state.databaseId();
          const fresh = await opts.store.keepNewOrders(tx, orders, isRecent);
          // Before the commit: should it fail, these ids are merely looked up first next time.
          for (const e of fresh) recent.add(e.orderId);
          if (fresh.length === 0) return;
          const { daily, minutes } = aggregateRecharges(fresh, opts.calendar);
          await opts.store.addDeltas(tx, owner, daily, minutes);
          // The group's ordering row, taken last: held until the commit, it numbers the commits in
          // their order, and the totals read after it count every earlier commit and no later one.
          await opts.state.bump(tx);
          const values = await opts.store.readBack(tx, daily, minutes, opts.state.groupId);
          if (values.serving === null)
            throw new Error(
              `recharge_serving_state has no row for group ${opts.state.groupId} after numbering the commit`,
            );
          const version: ServingVersion = { databaseId, ...values.serving };
          if (opts.changeLog && values.daily.length > 0) {
            const touched = new Map<number, Set<string>>();
            const dayOf = localDayOf(opts.calendar);
            for (const e of fresh) {
              const partition = partitionOf.get(e) ?? parts[0].partition;
              let keys = touched.get(partition);
              if (!keys) touched.set(partition, (keys = new Set()));
              keys.add(`${dayOf(e.notifyTimeMs)}|${e.cityCode}`);
            }
            // Each partition logs the city-days its orders changed, with their values after this
            // transaction, in primary-key order (day, city): a replayed batch logs the same sequence.
            await opts.changeLog.appendMany(
              tx,
              parts
                .filter((part) => touched.has(part.partition))
                .map((part) => ({
                  batch: {
                    stream: opts.groupId,
                    topic: opts.topic,
                    partition: part.partition,
                    batchOffset: part.nextOffset,
                    batchWatermarkMs: part.watermarkMs,
                  },
                  entries: values.daily
                    .filter((c) => touched.get(part.partition)?.has(`${c.date}|${c.cityCode}`))
                    .map((c) => ({ kind: RECHARGE_CHANGE_KIND.cityDailyChanged, payload: c })),
                })),
            );
          }
          // A number at or below one this process already committed: the database went back (restored backup).
          changed = { daily: values.daily, minutes: values.minutes, version, wentBack: version.seq <= floor };
        },
        afterCommit: async () => {
          if (!changed) return;
          const { daily, minutes, version, wentBack } = changed;
          if (wentBack) {
            opts.logger?.warn(
              { seq: version.seq, committedSeq },
              'the database is behind commits this worker made (restored backup?): abandoning the Redis generation',
            );
            committedSeq = version.seq;
            await opts.state
              .abandonGeneration(version.generation)
              .catch((err: unknown) => opts.logger?.error({ err }, 'could not abandon the Redis generation'));
          } else if (version.seq > committedSeq) {
            committedSeq = version.seq;
          }
          // Redis first: a subscriber that queries on an event then reads the new values.
          await opts.cache.write(daily, minutes, version);
          opts.publish({ cities: daily });
        },
      };
    },
  };

  return {
    name: RECHARGE_METRICS_JOB,
    groupId: opts.groupId,
    topic: opts.topic,
    results: 'additive',
    clearResults: async (tx) => {
      await opts.store.clear(tx);
      recent.clear();
      // Keys written before the rebuild (and post-commit writes still queued) are never read again.
      await opts.state.newGeneration(tx);
    },
    // Frees the memory of the old keys; readers already ignore them.
    afterClear: () => opts.cache.clearAll(),
    prepare: async () => {
      await loadCities();
      await opts.cache
        .distrustIfAhead()
        .catch((err: unknown) => opts.logger?.warn({ err }, 'could not compare Redis with the database at start'));
      startPruning();
    },
    close: () => {
      stopPruning();
      return Promise.resolve();
    },
    // The processors' parse without the de-duplication horizon: that check depends on the wall clock of
    // the processing (a record counted then may be beyond the horizon now), and a record refused by it
    // is too old to be a partition's latest event time anyway.
    eventTime: guardedEventTime(
      {
        parse: (record) => parseRecharge(record.value, { calendar: opts.calendar, isKnownCity }),
        eventTimeMs: (e) => e.notifyTimeMs,
        maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
      },
      opts.graceMs,
      loadCities,
    ),
    createProcessor: ({ partition, nextOffset, watermarkMs }) => {
      if (cityCodes === null)
        throw new Error(
          `${RECHARGE_METRICS_JOB}: the city codes are not loaded (prepare() must run before the consumer starts)`,
        );
      // Picks up cities added to the table since the start, for the next assignment.
      void loadCities().catch((err: unknown) =>
        opts.logger?.warn({ err }, 'reloading the city codes failed: keeping the loaded ones'),
      );
      return new AdditiveProcessor(handler, partition, { nextOffset, watermarkMs }, opts.graceMs);
    },
  };
}
