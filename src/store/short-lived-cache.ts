import { LRUCache } from 'lru-cache';

/** Options of {@link ShortLivedCache}. */
export interface ShortLivedCacheOptions<K, V> {
  /** How long a value is served after its read started, MILLISECONDS: the staleness bound. */
  ttlMs: number;
  /**
   * Refresh-ahead point, MILLISECONDS after a value's read started: a get
   * after it still answers the cached value (within its bound) and starts the
   * key's next read in the background, so that a key read often is replaced
   * before its bound and no request waits for its read. A value equal to or
   * above `ttlMs` turns refresh-ahead off. The staleness bound is unchanged:
   * a value is never served past `ttlMs`. Caffeine's `refreshAfterWrite`,
   * without its serving of stale values.
   * @default ttlMs / 2
   */
  refreshAheadMs?: number;
  /** Most keys kept (least recently used dropped first). */
  max: number;
  /** Reads the value of `key` from the source of truth (or its trusted mirror). */
  load: (key: K) => Promise<V>;
  /** Clock of the bound (tests), MILLISECONDS. @default performance.now */
  now?: () => number;
}

/** A cached value and the instants (clock of `now`, MILLISECONDS) it is refreshed from and stops being served. */
interface Entry<V> {
  value: V;
  refreshAt: number;
  expiresAt: number;
}

/**
 * A per-process read-through cache of a few hot answers (lru-cache): a value
 * is served for at most `ttlMs` MILLISECONDS after the read that produced it
 * started, never longer (no stale serving), so an answer is at most that much
 * older than the database. Concurrent gets of a key while its read is in
 * flight share that one read (coalescing), so a burst of requests costs one
 * read. A key still asked for in the second part of its value's life (see
 * `refreshAheadMs`) is read again in the background, so under steady traffic
 * requests are answered from memory and never queue behind a read. A failed
 * read is not cached: the error goes to every waiter and the next get reads
 * again; a failed background read leaves the value served until its bound.
 */
export class ShortLivedCache<K extends string | number, V extends object> {
  private readonly cache: LRUCache<K, Entry<V>>;
  private readonly inFlight = new Map<K, Promise<V>>();
  private readonly now: () => number;
  private readonly refreshAheadMs: number;
  private generation = 0;

  constructor(private readonly opts: ShortLivedCacheOptions<K, V>) {
    this.cache = new LRUCache<K, Entry<V>>({ max: opts.max });
    this.now = opts.now ?? (() => performance.now());
    this.refreshAheadMs = opts.refreshAheadMs ?? opts.ttlMs / 2;
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
      const now = this.now();
      if (now < hit.expiresAt) {
        if (now >= hit.refreshAt && !this.inFlight.has(key)) {
          this.read(key).catch(() => {
            // The value in hand stays served until its bound; no further refresh of it (no retry at request rate).
            hit.refreshAt = Infinity;
          });
        }
        return Promise.resolve(hit.value);
      }
      this.cache.delete(key);
    }
    return this.inFlight.get(key) ?? this.read(key);
  }

  /** Forgets every value and every read in flight (after a write of this process that changes them). */
  clear(): void {
    this.generation++;
    this.cache.clear();
    this.inFlight.clear();
  }

  /** Starts a read of `key`, shared by every get until it settles; its value is kept for its bound, counted from now. */
  private read(key: K): Promise<V> {
    const generation = this.generation;
    const startedAt = this.now();
    const entryOf = (value: V): Entry<V> => ({
      value,
      refreshAt: this.refreshAheadMs < this.opts.ttlMs ? startedAt + this.refreshAheadMs : Infinity,
      expiresAt: startedAt + this.opts.ttlMs,
    });
    const read = this.opts
      .load(key)
      .then((value) => {
        // A value read before an invalidation may predate the change that caused it: not kept.
        const entry = entryOf(value);
        if (generation === this.generation && this.now() < entry.expiresAt) this.cache.set(key, entry);
        return value;
      })
      .finally(() => {
        if (this.inFlight.get(key) === read) this.inFlight.delete(key);
      });
    this.inFlight.set(key, read);
    return read;
  }
}
