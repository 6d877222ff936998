/** Options of {@link LatestPerKeyThrottle}. */
export interface LatestPerKeyThrottleOptions<K, V> {
  /** Least time between two emissions of one key, MILLISECONDS (> 0). */
  intervalMs: number;
  /**
   * Whether `a` supersedes `b`. Values that do not supersede the pending or
   * the last emitted value of their key are dropped (out-of-order arrivals
   * from several producers).
   */
  isNewer(a: V, b: V): boolean;
  emit(key: K, value: V): void;
  /** Clock, epoch MILLISECONDS. @default Date.now */
  now?: () => number;
  /** @default setTimeout (timers are unref'd when they can be) */
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** @default clearTimeout */
  clearTimer?: (timer: unknown) => void;
}

interface KeyState<V> {
  lastEmitMs: number;
  lastEmitted: V | null;
  pending: V | null;
  timer: unknown;
}

/**
 * Coalesces a stream of values per key: at most one emission per key per
 * `intervalMs`, always the newest value (per `isNewer`). The first value of a
 * quiet key is emitted at once; later ones within the interval wait for its
 * end, and only the newest of them is emitted. Pure apart from the injected
 * clock and timers. Keeps one small state per key ever seen: meant for a
 * bounded key set (the cities of `cityMetricsUpdated`).
 */
export class LatestPerKeyThrottle<K, V> {
  private readonly states = new Map<K, KeyState<V>>();
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  /** @throws {RangeError} when `intervalMs` is not a positive number. */
  constructor(private readonly opts: LatestPerKeyThrottleOptions<K, V>) {
    if (!(opts.intervalMs > 0)) throw new RangeError(`intervalMs must be greater than 0 (milliseconds), got ${opts.intervalMs}`);
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => {
      const t = setTimeout(fn, ms);
      t.unref();
      return t;
    });
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  offer(key: K, value: V): void {
    let s = this.states.get(key);
    if (!s) {
      s = { lastEmitMs: Number.NEGATIVE_INFINITY, lastEmitted: null, pending: null, timer: null };
      this.states.set(key, s);
    }
    if (s.lastEmitted !== null && !this.opts.isNewer(value, s.lastEmitted)) return;
    if (s.pending !== null && !this.opts.isNewer(value, s.pending)) return;
    s.pending = value;
    if (s.timer !== null) return;
    const waitMs = s.lastEmitMs + this.opts.intervalMs - this.now();
    if (waitMs <= 0) {
      this.flush(key, s);
    } else {
      s.timer = this.setTimer(() => this.flush(key, s), waitMs);
    }
  }

  /** Drops pending values and timers. */
  close(): void {
    for (const s of this.states.values()) {
      if (s.timer !== null) this.clearTimer(s.timer);
      s.timer = null;
      s.pending = null;
    }
  }

  private flush(key: K, s: KeyState<V>): void {
    s.timer = null;
    const value = s.pending;
    if (value === null) return;
    s.pending = null;
    s.lastEmitted = value;
    s.lastEmitMs = this.now();
    this.opts.emit(key, value);
  }
}
