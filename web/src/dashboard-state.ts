import { TOP_CITIES, type AbnormalUser, type CityStats } from './operations';

/** Yuan as an exact decimal string ("1234.5", "20.05") to fen (1/100 yuan), exactly. */
export function yuanToFen(amount: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!m) return 0n;
  const fen = BigInt(m[2]) * 100n + BigInt(((m[3] as string | undefined) ?? '').padEnd(2, '0'));
  return m[1] ? -fen : fen;
}

/** Fen to a yuan decimal string with 2 decimals ("1234.50"). */
export function fenToYuan(fen: bigint): string {
  const sign = fen < 0n ? '-' : '';
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** The province's totals of a day, summed over its cities the way `rechargeSummary` sums them (same fields and units as a city's). */
export type ProvinceTotals = Pick<
  CityStats,
  'orders' | 'succeeded' | 'failed' | 'successRate' | 'amount' | 'avgDurationMs'
>;

export function provinceTotals(cities: Iterable<CityStats>): ProvinceTotals {
  let orders = 0;
  let succeeded = 0;
  let failed = 0;
  let durationMs = 0;
  let fen = 0n;
  for (const c of cities) {
    orders += c.orders;
    succeeded += c.succeeded;
    failed += c.failed;
    durationMs += c.avgDurationMs * c.orders;
    fen += yuanToFen(c.amount);
  }
  return {
    orders,
    succeeded,
    failed,
    successRate: orders === 0 ? 0 : succeeded / orders,
    amount: fenToYuan(fen),
    avgDurationMs: orders === 0 ? 0 : durationMs / orders,
  };
}

/** The `limit` cities with the most orders, ties by cityCode, cities without orders left out: the order of `topCities`. */
export function topCities(cities: Iterable<CityStats>, limit = TOP_CITIES): CityStats[] {
  return [...cities]
    .filter((c) => c.orders > 0)
    .sort((a, b) => b.orders - a.orders || (a.cityCode < b.cityCode ? -1 : a.cityCode > b.cityCode ? 1 : 0))
    .slice(0, limit);
}

/**
 * The day's stats of every city, kept up to date from `cityMetricsUpdated`.
 * Events carry absolute values of one city and day, so applying one twice or
 * out of order between cities changes nothing.
 */
export class CityBoard {
  private day = '';
  private readonly byCode = new Map<string, CityStats>();

  /** Replaces everything with a snapshot (`cityRechargeStats`) of `day`. */
  reset(day: string, cities: readonly CityStats[]): void {
    this.day = day;
    this.byCode.clear();
    for (const c of cities) this.byCode.set(c.cityCode, c);
  }

  get date(): string {
    return this.day;
  }

  /**
   * Applies one event.
   * @returns `applied` when it changed today's board, `stale` for an earlier day
   *   (a late recharge of yesterday: not on the board), `new-day` when it is of
   *   a later day than the board's (midnight passed: the caller reloads).
   */
  apply(stats: CityStats): 'applied' | 'stale' | 'new-day' {
    if (stats.date < this.day) return 'stale';
    if (stats.date > this.day) return 'new-day';
    // A city's day only grows (each orderId counts once, outcomes are final): fewer orders is an older state,
    // e.g. an event that overtook the snapshot it is older than.
    const current = this.byCode.get(stats.cityCode);
    if (current && stats.orders < current.orders) return 'stale';
    this.byCode.set(stats.cityCode, stats);
    return 'applied';
  }

  cities(): CityStats[] {
    return [...this.byCode.values()].sort((a, b) => (a.cityCode < b.cityCode ? -1 : 1));
  }
}

/** Most rows the abnormal-order feed keeps. */
export const FEED_MAX_ROWS = 100;

/**
 * The abnormal-order feed: one row per user, the newest detection first. A
 * user detected again (the next hopping window) moves to the top with the new
 * window and count and keeps the status already read.
 */
export class AbnormalFeed {
  private rows: AbnormalUser[] = [];

  reset(users: readonly AbnormalUser[]): void {
    this.rows = [...users].sort(newestFirst).slice(0, FEED_MAX_ROWS);
  }

  /** Adds or moves up a detection; returns whether the user's callback status is still unknown. */
  detect(d: Omit<AbnormalUser, 'callbackStatus'>): boolean {
    const known = this.rows.find((r) => r.uid === d.uid);
    if (known && known.windowEnd > d.windowEnd) return false; // an older window, delivered late: the row is newer already
    const row: AbnormalUser = { ...d, callbackStatus: known?.callbackStatus ?? null };
    this.rows = [row, ...this.rows.filter((r) => r.uid !== d.uid)].sort(newestFirst).slice(0, FEED_MAX_ROWS);
    return row.callbackStatus === null;
  }

  /** Sets what the service says of a user (its status), if the user is on the feed. */
  update(user: AbnormalUser): void {
    const i = this.rows.findIndex((r) => r.uid === user.uid);
    if (i >= 0) this.rows[i] = { ...this.rows[i], callbackStatus: user.callbackStatus };
  }

  list(): readonly AbnormalUser[] {
    return this.rows;
  }
}

function newestFirst(a: AbnormalUser, b: AbnormalUser): number {
  return a.windowEnd < b.windowEnd ? 1 : a.windowEnd > b.windowEnd ? -1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

/** The last hour of minutes for `rechargePerMinute`: 60 buckets, the current minute last. */
export function lastHour(nowMs: number): { from: string; to: string } {
  const minute = 60_000;
  const end = Math.floor(nowMs / minute) * minute + minute;
  return { from: new Date(end - 60 * minute).toISOString(), to: new Date(end).toISOString() };
}

/**
 * Calls `fn` at most once per `intervalMs` (milliseconds), trailing: a burst
 * of events becomes one call at the end of the interval, never a lost one.
 * This is how subscription events trigger the reads that have no
 * subscription of their own; it is not a timer that polls.
 */
export function throttle(fn: () => void, intervalMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + intervalMs - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, wait);
  };
}
