import type { CityDailyStats, CityRow, MinuteStats } from '../domain/recharge.js';
import { MINUTE_MS } from '../domain/time-units.js';
import type { ZonedCalendar } from '../domain/zoned-calendar.js';
import type { RechargeMetricsStore } from './recharge-metrics-store.js';
import type { RechargeServingCache } from './recharge-serving-cache.js';

/**
 * The serving reads of job `recharge-metrics` for the GraphQL API: Redis
 * first, when it provably reflects this database (see
 * {@link RechargeServingCache.readCityDaily}); when a key is missing, not
 * complete, not provably this database's, or Redis is down, MySQL (the source
 * of truth), then Redis is refilled in the background (best effort, with the
 * same guard as the workers' writes, so a refill never overwrites a newer
 * value).
 */
export class RechargeMetricsReader {
  private cityList: Promise<CityRow[]> | null = null;

  constructor(
    private readonly store: RechargeMetricsStore,
    private readonly cache: RechargeServingCache,
    private readonly calendar: ZonedCalendar,
  ) {}

  /** The seeded cities, by code; read once per process (reference data), again after a failed read. */
  cities(): Promise<CityRow[]> {
    this.cityList ??= this.store.loadCities().catch((err: unknown) => {
      this.cityList = null;
      throw err;
    });
    return this.cityList;
  }

  /**
   * Every city's stats of the calendar date `date` (`YYYY-MM-DD` in TIME_ZONE),
   * by city code; a city without orders has zeros.
   */
  async cityDaily(date: string): Promise<CityDailyStats[]> {
    const [cities, cached] = await Promise.all([this.cities(), this.cache.readCityDaily(date)]);
    let byCity = cached;
    if (!byCity) {
      // The version first: the rows read after it are at least as new.
      const version = await this.cache.versionForFill();
      const rows = await this.store.dailyOf(date);
      byCity = new Map(rows.map((r) => [r.cityCode, r]));
      void this.cache.refillCityDaily(version, date, rows);
    }
    return cities.map((c) => byCity.get(c.code) ?? { date, cityCode: c.code, orders: 0, succeeded: 0, failed: 0, amount: '0.00', durationMsSum: 0 });
  }

  /**
   * One bucket per minute start m with `fromMs <= m < toMs` (epoch
   * MILLISECONDS; `fromMs` must be a minute start), empty minutes as zeros.
   * The caller bounds the count.
   */
  async minutes(fromMs: number, toMs: number): Promise<MinuteStats[]> {
    const byMinute = new Map<number, MinuteStats>();
    for (const date of this.datesBetween(fromMs, toMs)) {
      let day = await this.cache.readMinutes(date);
      if (!day) {
        const version = await this.cache.versionForFill();
        const rows = await this.store.minutesBetween(this.calendar.startOfDay(date), this.calendar.endOfDay(date));
        day = new Map(rows.map((r) => [r.minuteStartMs, r]));
        void this.cache.refillMinutes(version, date, rows);
      }
      for (const [m, s] of day) byMinute.set(m, s);
    }
    const out: MinuteStats[] = [];
    for (let m = fromMs; m < toMs; m += MINUTE_MS) {
      out.push(byMinute.get(m) ?? { minuteStartMs: m, orders: 0, succeeded: 0, amount: '0.00' });
    }
    return out;
  }

  /** The calendar dates (TIME_ZONE) holding [fromMs, toMs), in order. */
  private datesBetween(fromMs: number, toMs: number): string[] {
    const dates: string[] = [];
    for (let t = fromMs; t < toMs;) {
      const date = this.calendar.dateOf(t);
      dates.push(date);
      t = this.calendar.endOfDay(date);
    }
    return dates;
  }
}
