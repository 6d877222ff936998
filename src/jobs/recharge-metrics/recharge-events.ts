import type { CityDailyStats } from './recharge.js';

/**
 * One city's recharge stats of one calendar day as absolute values (a lost or repeated event does no harm),
 * as the store reads them back after the commit.
 */
export type CityDailyStatsPayload = CityDailyStats;

/**
 * Published by a recharge-metrics worker after each commit that changed
 * cities' daily stats: every changed (date, city), absolute values. API
 * processes take it as a wake-up of their change-log tailer: the events of
 * `cityMetricsUpdated` are read from the change log.
 */
export interface RechargeCityMetricsChangedEvent {
  cities: CityDailyStatsPayload[];
}

/** Worker -> API processes: absolute stats of the cities a recharge-metrics commit changed (coalesced before `cityMetricsUpdated`). */
export const TOPIC_RECHARGE_CITY_METRICS_CHANGED = 'RECHARGE_CITY_METRICS_CHANGED' as const;

/** Kinds of the change-log entries of the recharge-metrics stream. */
export const RECHARGE_CHANGE_KIND = {
  cityDailyChanged: 'city-daily-changed',
} as const;
