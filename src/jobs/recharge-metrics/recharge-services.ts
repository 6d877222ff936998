import type { Config } from '../../config/config.js';
import type { RechargeMetricsSettings } from './recharge-metrics-settings.js';
import { ZonedCalendar } from '../../domain/zoned-calendar.js';
import type { ApiDeps } from '../../engine/job-module.js';
import { serviceKey } from '../../engine/service-registry.js';
import { CitySnapshotStore } from './city-snapshot-store.js';
import { RechargeMetricsReader } from './recharge-metrics-reader.js';
import { RechargeMetricsStore } from './recharge-metrics-store.js';
import { RechargeServingCache } from './recharge-serving-cache.js';
import { RechargeServingState } from './recharge-serving-state.js';

/**
 * What the recharge-metrics resolvers use: serving reads (Redis first, MySQL
 * fallback), the consistent snapshots of `cityMetricsUpdated(snapshot: true)`,
 * its coalescing interval (PUBLISH_INTERVAL_MS, milliseconds), TIME_ZONE's calendar.
 */
export interface RechargeServices {
  reader: RechargeMetricsReader;
  snapshots: CitySnapshotStore;
  publishIntervalMs: number;
  calendar: ZonedCalendar;
}

export const RECHARGE_SERVICES = serviceKey<RechargeServices>('recharge-metrics');

export function createRechargeServices(config: Config & RechargeMetricsSettings, deps: ApiDeps): RechargeServices {
  const calendar = new ZonedCalendar(config.TIME_ZONE);
  const store = new RechargeMetricsStore(deps.db);
  return {
    reader: new RechargeMetricsReader(
      store,
      new RechargeServingCache({
        redis: deps.redis,
        namespace: config.RECHARGE_GROUP,
        state: new RechargeServingState(deps.db, config.RECHARGE_GROUP),
        dateOf: (ms) => calendar.dateOf(ms),
      }),
      calendar,
    ),
    snapshots: new CitySnapshotStore(deps.db, deps.changeLog, store),
    publishIntervalMs: config.PUBLISH_INTERVAL_MS,
    calendar,
  };
}
