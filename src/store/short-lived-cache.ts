import { LRUCache } from 'lru-cache';

/** Options of {@link ShortLivedCache}. */
export interface ShortLivedCacheOptions<K, V> {
  /** How long a value is served after its read started, MILLISECONDS: the staleness bound. */
  ttlMs: number;
  /** Most keys kept (least recently used dropped first). */
  max: number;
  /** Reads the value of `key` from the source of truth (or its trusted mirror). */
  load: (key: K) => Promise<V>;
  /** Clock of the bound (tests), MILLISECONDS. @default performance.now */
  now?: () => number;
}

/**
 * A per-process read-through cache of a few hot answers (lru-cache): a value
 * is served for at most `ttlMs` MILLISECONDS after the read that produced it
 * started, never longer (no stale serving), so an answer is at most that much
 * older than the database. Concurrent gets of a key while its read is in
 * flight share that one read (coalescing), so a burst of requests costs one
 * read. A failed read is not cached: the error goes to every waiter and the
 * next get reads again.
 */
export class ShortLivedCache<K extends string | number, V extends object> {
  /** Values with the instant (clock of `now`, MILLISECONDS) they stop being served. */
  private readonly cache: LRUCache<K, { value: V; expiresAt: number }>;
  private readonly inFlight = new Map<K, Promise<V>>();
  private readonly now: () => number;
  private generation = 0;

  constructor(private readonly opts: ShortLivedCacheOptions<K, V>) {
    this.cache = new LRUCache<K, { value: V; expiresAt: number }>({ max: opts.max });
    this.now = opts.now ?? (() => performance.now());
  }

  /** The bound this cache serves values for, MILLISECONDS. */
  get ttlMs(): number {
    return this.opts.ttlMs;
  }

  /**
   * The value of `key`: cached when its read started less than `ttlMs` ago, else read now (one read for all concurrent callers).
   * @throws whatever `load` throws.
   */
  get(key: K): Promise<V> {
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      if (this.now() < hit.expiresAt) return Promise.resolve(hit.value);
      this.cache.delete(key);
    }
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const expiresAt = this.now() + this.opts.ttlMs;
    const read = this.opts
      .load(key)
      .then((value) => {
        // A value read before an invalidation may predate the change that caused it: not kept.
        if (generation === this.generation && this.now() < expiresAt) this.cache.set(key, { value, expiresAt });
        return value;
      })
      .finally(() => {
        if (this.inFlight.get(key) === read) this.inFlight.delete(key);
      });
    this.inFlight.set(key, read);
    return read;
  }

  /** Forgets every value and every read in flight (after a write of this process that changes them). */
  clear(): void {
    this.generation++;
    this.cache.clear();
    this.inFlight.clear();
  }
}
