import type { CityDailyStatsPayload } from './recharge-events.js';

/**
 * Whether city snapshot `a` supersedes `b`: a later date, or the same date
 * with more orders (counts only grow). `cityMetricsUpdated` coalesces per
 * city with it and drops a value older than the last one sent.
 */
export function isNewerCitySnapshot(a: CityDailyStatsPayload, b: CityDailyStatsPayload): boolean {
  return a.date > b.date || (a.date === b.date && a.orders > b.orders);
}
