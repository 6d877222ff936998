import type { CityDailyStats, CityRow, MinuteStats } from './recharge.js';
import { MINUTE_MS } from '../../domain/time-units.js';
import type { ZonedCalendar } from '../../domain/zoned-calendar.js';
import type { RechargeMetricsStore } from './recharge-metrics-store.js';
import type { RechargeServingCache } from './recharge-serving-cache.js';
import { ShortLivedCache } from '../../store/short-lived-cache.js';

/**
 * How long one date's city stats are served from this process's memory,
 * MILLISECONDS: the dashboard's three fields and every request within the
 * bound share one read (Redis, or MySQL when Redis cannot vouch).
 */
export const CITY_DAILY_TTL_MS = 250;

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
  /**
   * Per date, the outcome of the trusted read below, for at most
   * {@link CITY_DAILY_TTL_MS} (250) MILLISECONDS after that read started;
   * concurrent requests share the read in flight. Each read still applies
   * every trust rule of {@link RechargeServingCache.readCityDaily} (database
   * identity, generation, commit number), so an answer is at most the bound
   * older than a direct read.
   */
  private readonly daily: ShortLivedCache<string, Map<string, CityDailyStats>>;
  /**
   * The answer of {@link cityDaily} per value of {@link daily} (and the city list it was made with): every
   * request within the bound gets the same array instead of building one per request.
   */
  private readonly dailyLists = new WeakMap<
    Map<string, CityDailyStats>,
    { cities: CityRow[]; list: readonly CityDailyStats[] }
  >();

  constructor(
    private readonly store: RechargeMetricsStore,
    private readonly cache: RechargeServingCache,
    private readonly calendar: ZonedCalendar,
    opts: { cityDailyTtlMs?: number; now?: () => number } = {},
  ) {
    this.daily = new ShortLivedCache({
      ttlMs: opts.cityDailyTtlMs ?? CITY_DAILY_TTL_MS,
      max: 8,
      now: opts.now,
      load: (date) => this.readCityDaily(date),
    });
  }

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
   * by city code; a city without orders has zeros. The array and its objects
   * are shared by every caller served from the same read: not to be modified.
   */
  async cityDaily(date: string): Promise<readonly CityDailyStats[]> {
    const [cities, byCity] = await Promise.all([this.cities(), this.daily.get(date)]);
    const made = this.dailyLists.get(byCity);
    if (made?.cities === cities) return made.list;
    const list = cities.map(
      (c) =>
        byCity.get(c.code) ?? {
          date,
          cityCode: c.code,
          orders: 0,
          succeeded: 0,
          failed: 0,
          amount: '0.00',
          durationMsSum: 0,
        },
    );
    this.dailyLists.set(byCity, { cities, list });
    return list;
  }

  /** Forgets the in-memory city stats (after this process rebuilt or reset the job). */
  forgetCityDaily(): void {
    this.daily.clear();
  }

  /** Redis when it can vouch for `date`'s stats, else MySQL (then Redis is refilled in the background). */
  private async readCityDaily(date: string): Promise<Map<string, CityDailyStats>> {
    const cached = await this.cache.readCityDaily(date);
    if (cached) return cached;
    // The version first: the rows read after it are at least as new.
    const version = await this.cache.versionForFill();
    const rows = await this.store.dailyOf(date);
    void this.cache.refillCityDaily(version, date, rows);
    return new Map(rows.map((r) => [r.cityCode, r]));
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
