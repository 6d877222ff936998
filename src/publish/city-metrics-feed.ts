import { createPubSub, filter, pipe, type PubSub } from '@graphql-yoga/subscription';
import type { Logger } from 'pino';
import { TOPIC_RECHARGE_CITY_METRICS_CHANGED, type BusEvents, type CityDailyStatsPayload } from './event-bus.js';
import { LatestPerKeyThrottle } from './latest-per-key-throttle.js';

const LOCAL_TOPIC = 'CITY_METRICS_UPDATED';

/** Whether city snapshot `a` supersedes `b`: a later date, or the same date with more orders (counts only grow). */
export function isNewerCitySnapshot(a: CityDailyStatsPayload, b: CityDailyStatsPayload): boolean {
  return a.date > b.date || (a.date === b.date && a.orders > b.orders);
}

/**
 * The `cityMetricsUpdated` feed of one API process. Workers publish
 * every change to the bus with absolute values; this process keeps, per city,
 * the newest snapshot (latest date, then most orders) and forwards it to its
 * subscribers at most once per `intervalMs`. Coalescing here, not in the
 * workers, keeps the limit however many workers publish. A snapshot of an
 * earlier date than the one last sent for a city (a late record of
 * yesterday) is not sent: the queries have it.
 */
export class CityMetricsFeed {
  private readonly local: PubSub<{ [LOCAL_TOPIC]: [CityDailyStatsPayload] }> = createPubSub();
  private readonly throttle: LatestPerKeyThrottle<string, CityDailyStatsPayload>;
  private listening = false;
  private iterator: AsyncIterator<unknown> | null = null;

  /**
   * @param bus the cross-process event bus.
   * @param groupId consumer group of the recharge-metrics job whose changes to follow (config `RECHARGE_GROUP`).
   * @param intervalMs least time between two events of one city, MILLISECONDS (config `PUBLISH_INTERVAL_MS`).
   */
  constructor(private readonly bus: PubSub<BusEvents>, private readonly groupId: string, intervalMs: number, private readonly logger?: Logger) {
    this.throttle = new LatestPerKeyThrottle({
      intervalMs,
      isNewer: isNewerCitySnapshot,
      emit: (_city, snapshot) => this.local.publish(LOCAL_TOPIC, snapshot),
    });
  }

  /**
   * The coalesced snapshots of `cityCode` (null: every city), from now on.
   * Listens to the bus from the first call on.
   */
  subscribe(cityCode: string | null): AsyncIterable<CityDailyStatsPayload> {
    this.listen();
    const source = this.local.subscribe(LOCAL_TOPIC);
    return cityCode === null ? source : pipe(source, filter((s: CityDailyStatsPayload) => s.cityCode === cityCode));
  }

  /** Stops listening and drops pending snapshots. */
  async close(): Promise<void> {
    this.throttle.close();
    await this.iterator?.return?.();
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    const iterator = this.bus.subscribe(TOPIC_RECHARGE_CITY_METRICS_CHANGED, this.groupId)[Symbol.asyncIterator]();
    this.iterator = iterator;
    void (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        for (const snapshot of next.value.cities) this.throttle.offer(snapshot.cityCode, snapshot);
      }
    })().catch((err: unknown) => {
      this.listening = false;
      this.logger?.error({ err }, 'city metrics feed stopped');
    });
  }
}
