import type { Logger } from 'pino';
import { parseRecharge, type RechargeEvent } from '../ingest/formats/recharge.js';
import type { RechargeCityMetricsChangedEvent } from '../publish/event-bus.js';
import { CHANGE_KIND, type ChangeLogStore } from '../store/change-log-store.js';
import type { CityDailyStats, MinuteStats, RechargeMetricsStore } from '../store/recharge-metrics-store.js';
import type { RechargeServingCache } from '../store/recharge-serving-cache.js';
import type { ZonedCalendar } from '../stream/zoned-calendar.js';
import { AdditiveProcessor, type AdditiveHandler } from './additive-processor.js';
import type { JobDefinition } from './job.js';
import { aggregateRecharges, firstOfEachOrder } from './recharge-aggregation.js';

/** The job's name in `JOBS`. */
export const RECHARGE_METRICS_JOB = 'recharge-metrics';

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
  store: RechargeMetricsStore;
  /** Redis mirror, written after each commit. */
  cache: RechargeServingCache;
  /**
   * The subscriptions' change log: each batch's changed city-days (absolute
   * values) are appended in its transaction. Omitted: no change log
   * (benchmark comparison only, `CHANGE_LOG=off`).
   */
  changeLog?: ChangeLogStore;
  /** Publishes the changed cities' absolute stats (a wake-up for the API processes' change-log tailers); called after commit only. */
  publish: (event: RechargeCityMetricsChangedEvent) => void;
  logger?: Logger;
}

/**
 * Job `recharge-metrics` (issue 3; ARCHITECTURE.md "Jobs"): reads the
 * `recharge` topic, counts each `reChargeNotifyReq` order once (duplicates of
 * an orderId are dropped across batches, partitions and restarts through
 * `recharge_order`), and adds per city per calendar day (TIME_ZONE) orders,
 * succeeded, failed, amount of successful recharges and summed duration, and
 * per minute of the whole province orders, succeeded and amount, in the batch
 * transaction (additive, emit-changes). After commit the touched buckets'
 * absolute values go to Redis and the changed cities to the bus.
 *
 * The city codes are loaded once at start (`prepare`) and refreshed in the
 * background at each partition assignment: parsing never queries.
 */
export function createRechargeMetricsJob(opts: RechargeMetricsOptions): JobDefinition {
  let cityCodes: ReadonlySet<string> | null = null;
  let loading: Promise<void> | null = null;
  const loadCities = (): Promise<void> => {
    loading ??= opts.store.loadCities().then((cities) => {
      cityCodes = new Set(cities.map((c) => c.code));
    }).finally(() => {
      loading = null;
    });
    return loading;
  };
  const isKnownCity = (code: string) => cityCodes!.has(code);

  const handler: AdditiveHandler<RechargeEvent> = {
    parse: (record) => parseRecharge(record.value, { calendar: opts.calendar, isKnownCity }),
    eventTimeMs: (e) => e.notifyTimeMs,
    aggregate: (events, { partition, watermarkMs, nextOffset }) => {
      const orders = firstOfEachOrder(events);
      let changed: { daily: CityDailyStats[]; minutes: MinuteStats[] } | null = null;
      return {
        write: async (tx) => {
          changed = null;
          const fresh = await opts.store.keepNewOrders(tx, orders);
          if (fresh.length === 0) return;
          const { daily, minutes } = aggregateRecharges(fresh, opts.calendar);
          await opts.store.addDeltas(tx, daily, minutes);
          changed = await opts.store.readBack(tx, daily, minutes);
          if (opts.changeLog && changed.daily.length > 0) {
            // Read back in primary-key order (day, city): a replayed batch logs the same sequence.
            const cities = [...changed.daily].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.cityCode < b.cityCode ? -1 : a.cityCode > b.cityCode ? 1 : 0));
            await opts.changeLog.append(
              tx,
              { stream: opts.groupId, topic: opts.topic, partition, batchOffset: nextOffset, batchWatermarkMs: watermarkMs },
              cities.map((c) => ({ kind: CHANGE_KIND.cityDailyChanged, payload: c })),
            );
          }
        },
        afterCommit: async () => {
          if (!changed) return;
          const { daily, minutes } = changed;
          // Redis first: a subscriber that queries on an event then reads the new values.
          await opts.cache.write(daily, minutes);
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
    clearResults: (tx) => opts.store.clear(tx),
    afterClear: async () => {
      await opts.cache.clearAll();
      // Post-commit writes of batches committed before the rebuild may still be queued
      // (and an API refill may have read MySQL before it): sweep once more when they are done.
      setTimeout(() => void opts.cache.clearAll().catch(() => {}), 10_000).unref();
    },
    prepare: loadCities,
    createProcessor: ({ partition, nextOffset, watermarkMs }) => {
      if (cityCodes === null) throw new Error(`${RECHARGE_METRICS_JOB}: the city codes are not loaded (prepare() must run before the consumer starts)`);
      // Picks up cities added to the table since the start, for the next assignment.
      void loadCities().catch((err) => opts.logger?.warn({ err }, 'reloading the city codes failed: keeping the loaded ones'));
      return new AdditiveProcessor(handler, partition, { nextOffset, watermarkMs }, opts.graceMs);
    },
  };
}
