import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CityDailyStats, MinuteStats } from '../domain/recharge.js';

/**
 * The Redis serving store of job `recharge-metrics` (issue 3): hot values for
 * the GraphQL API. The database stays the source of truth; these keys are a
 * mirror written after each commit with ABSOLUTE values, so writing one twice
 * changes nothing.
 *
 * | key                                           | type | field                                            | value (JSON)                                                                        |
 * |-----------------------------------------------|------|--------------------------------------------------|-------------------------------------------------------------------------------------|
 * | `rt:recharge:<group>:city-daily:<YYYY-MM-DD>` | hash | city code, e.g. `440100`                         | `{"orders":12,"succeeded":11,"failed":1,"amount":"1100.00","durationMsSum":360000}` |
 * | `rt:recharge:<group>:minute:<YYYY-MM-DD>`     | hash | minute start, ISO UTC `2026-01-01T00:01:00.000Z` | `{"orders":3,"succeeded":3,"amount":"150.00"}`                                      |
 *
 * `<group>` is the job's consumer group (config `RECHARGE_GROUP`, default
 * `recharge-metrics`), so deployments and tests sharing one Redis stay apart;
 * `<YYYY-MM-DD>` is the calendar date in TIME_ZONE (of the minute start for
 * minute keys). Amounts are yuan as exact decimal strings. Every key also has
 * the field `_complete` once it was filled from MySQL: only then may a reader
 * trust a missing field to mean zero (a key written only by workers since
 * Redis came back empty holds just the buckets changed since). Keys expire
 * {@link SERVING_TTL_SECONDS} after their last write.
 *
 * Writers from several workers may arrive out of order: a field is replaced
 * only by a value whose `orders` is at least the stored one (counts only grow),
 * checked and written atomically by {@link GUARDED_WRITE_LUA}.
 */
export const RECHARGE_KEY_PREFIX = 'rt:recharge:';

/** Field marking a key filled from MySQL (complete). */
export const COMPLETE_FIELD = '_complete';

/** TTL of every key, refreshed on each write: 3 days, in SECONDS. */
export const SERVING_TTL_SECONDS = 3 * 86_400;

/** Key of the per-city stats of a calendar date (`YYYY-MM-DD`) for the job's consumer group. */
export function cityDailyKey(group: string, date: string): string {
  return `${RECHARGE_KEY_PREFIX}${group}:city-daily:${date}`;
}

/** Key of the per-minute stats of a calendar date (`YYYY-MM-DD`, local date of the minute start) for the job's consumer group. */
export function minuteKey(group: string, date: string): string {
  return `${RECHARGE_KEY_PREFIX}${group}:minute:${date}`;
}

/**
 * KEYS[1] = a hash of buckets; ARGV[1] = TTL in seconds (0: none); ARGV[2] =
 * "1" to mark the key complete; then triples (field, orders, value JSON).
 * Returns the number of fields written.
 */
export const GUARDED_WRITE_LUA = `
local written = 0
for i = 3, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if (not current) or tonumber(ARGV[i + 1]) >= tonumber(cjson.decode(current)['orders']) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    written = written + 1
  end
end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], '${COMPLETE_FIELD}', '1') end
local ttl = tonumber(ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return written
`;

const COMMAND = 'rtRechargeGuardedWrite';

type GuardedRedis = Redis & { [COMMAND](key: string, ...args: Array<string | number>): Promise<number> };

/** One bucket as written: a hash field and its value. */
interface Bucket {
  key: string;
  field: string;
  orders: number;
  value: string;
}

/** A minute's date key needs the calendar: given by the caller. */
export type DateOf = (epochMs: number) => string;

function dailyBucket(group: string, s: CityDailyStats): Bucket {
  return {
    key: cityDailyKey(group, s.date),
    field: s.cityCode,
    orders: s.orders,
    value: JSON.stringify({ orders: s.orders, succeeded: s.succeeded, failed: s.failed, amount: s.amount, durationMsSum: s.durationMsSum }),
  };
}

function minuteBucket(group: string, s: MinuteStats, dateOf: DateOf): Bucket {
  return {
    key: minuteKey(group, dateOf(s.minuteStartMs)),
    field: new Date(s.minuteStartMs).toISOString(),
    orders: s.orders,
    value: JSON.stringify({ orders: s.orders, succeeded: s.succeeded, amount: s.amount }),
  };
}

/** Options of {@link RechargeServingCache}. */
export interface RechargeServingCacheOptions {
  redis: Redis;
  /** The job's consumer group: the `<group>` of the keys. */
  namespace: string;
  /** Local calendar date (TIME_ZONE) of an instant: names the minute keys. */
  dateOf: DateOf;
  logger?: Logger;
  /** @default SERVING_TTL_SECONDS (3 days) */
  ttlSeconds?: number;
  /**
   * Buckets kept for a retry after a failed write. Beyond it the oldest are
   * dropped and their keys lose `_complete`, so readers refill them from MySQL.
   * @default 10000
   */
  maxDirty?: number;
  /** Dirty buckets are also retried this often without commits, MILLISECONDS. @default 5000 // 5 seconds */
  retryIntervalMs?: number;
}

/**
 * Reads and writes the keys above. Writes never throw: Redis is a mirror, a
 * failed write is logged and its buckets are retried with the next write (and
 * every `retryIntervalMs`) until Redis answers again.
 */
export class RechargeServingCache {
  private readonly redis: GuardedRedis;
  private readonly ttlSeconds: number;
  private readonly maxDirty: number;
  private readonly retryIntervalMs: number;
  /** Buckets not yet in Redis, newest value per key+field, oldest first. */
  private readonly dirty = new Map<string, Bucket>();
  /** Keys that lost buckets beyond `maxDirty`: their `_complete` must go. */
  private readonly invalid = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private failing = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: RechargeServingCacheOptions) {
    this.redis = opts.redis as GuardedRedis;
    if (typeof this.redis[COMMAND] !== 'function') this.redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: GUARDED_WRITE_LUA });
    this.ttlSeconds = opts.ttlSeconds ?? SERVING_TTL_SECONDS;
    this.maxDirty = opts.maxDirty ?? 10_000;
    this.retryIntervalMs = opts.retryIntervalMs ?? 5_000;
  }

  /** Buckets waiting for Redis (tests, metrics). */
  get pending(): number {
    return this.dirty.size;
  }

  /**
   * Mirrors committed absolute values (worker, after commit). Resolves once
   * Redis took them, or once the failure is recorded for a retry; never rejects.
   */
  write(daily: readonly CityDailyStats[], minutes: readonly MinuteStats[]): Promise<void> {
    for (const s of daily) this.markDirty(dailyBucket(this.opts.namespace, s));
    for (const s of minutes) this.markDirty(minuteBucket(this.opts.namespace, s, this.opts.dateOf));
    return this.flush();
  }

  /**
   * The per-city stats of `date`, or null when Redis cannot vouch for them:
   * the key is missing or not complete, or Redis does not answer.
   */
  async readCityDaily(date: string): Promise<Map<string, CityDailyStats> | null> {
    const hash = await this.readComplete(cityDailyKey(this.opts.namespace, date));
    if (!hash) return null;
    const out = new Map<string, CityDailyStats>();
    for (const [cityCode, json] of Object.entries(hash)) {
      const v = JSON.parse(json) as Omit<CityDailyStats, 'date' | 'cityCode'>;
      out.set(cityCode, { date, cityCode, orders: v.orders, succeeded: v.succeeded, failed: v.failed, amount: v.amount, durationMsSum: v.durationMsSum });
    }
    return out;
  }

  /** The per-minute stats of the minutes of `date`, keyed by minute start (epoch ms), or null (see {@link readCityDaily}). */
  async readMinutes(date: string): Promise<Map<number, MinuteStats> | null> {
    const hash = await this.readComplete(minuteKey(this.opts.namespace, date));
    if (!hash) return null;
    const out = new Map<number, MinuteStats>();
    for (const [iso, json] of Object.entries(hash)) {
      const v = JSON.parse(json) as Omit<MinuteStats, 'minuteStartMs'>;
      const minuteStartMs = Date.parse(iso);
      out.set(minuteStartMs, { minuteStartMs, orders: v.orders, succeeded: v.succeeded, amount: v.amount });
    }
    return out;
  }

  /**
   * Fills the key of `date` from MySQL rows (every row of that date) and marks
   * it complete; values newer in Redis are kept (same guard). Best effort:
   * returns false when Redis did not take it.
   */
  async refillCityDaily(date: string, rows: readonly CityDailyStats[]): Promise<boolean> {
    return this.writeKey(cityDailyKey(this.opts.namespace, date), rows.map((r) => dailyBucket(this.opts.namespace, r)), true).then(() => true, () => false);
  }

  /** As {@link refillCityDaily} for the minute key of `date` (rows: every minute of that date). */
  async refillMinutes(date: string, rows: readonly MinuteStats[]): Promise<boolean> {
    return this.writeKey(minuteKey(this.opts.namespace, date), rows.map((r) => minuteBucket(this.opts.namespace, r, this.opts.dateOf)), true).then(() => true, () => false);
  }

  /** Deletes every key of this job's group (after a rebuild emptied the tables) and forgets pending writes. */
  async clearAll(): Promise<void> {
    this.dirty.clear();
    this.invalid.clear();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${RECHARGE_KEY_PREFIX}${this.opts.namespace.replace(/[*?[\]\\]/g, '\\$&')}:*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** Stops the retry timer (the process is stopping). */
  close(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }

  private async readComplete(key: string): Promise<Record<string, string> | null> {
    let hash: Record<string, string>;
    try {
      hash = await this.redis.hgetall(key);
    } catch {
      return null;
    }
    if (hash[COMPLETE_FIELD] === undefined) return null;
    delete hash[COMPLETE_FIELD];
    return hash;
  }

  private markDirty(b: Bucket): void {
    const id = `${b.key}\u0000${b.field}`;
    const current = this.dirty.get(id);
    if (current && current.orders > b.orders) return;
    // Re-inserted so the Map's order stays oldest first.
    this.dirty.delete(id);
    this.dirty.set(id, b);
    while (this.dirty.size > this.maxDirty) {
      const [oldest, bucket] = this.dirty.entries().next().value as [string, Bucket];
      this.dirty.delete(oldest);
      this.invalid.add(bucket.key);
    }
  }

  private flush(): Promise<void> {
    this.chain = this.chain.then(() => this.flushNow()).catch((err) => {
      this.opts.logger?.error({ err }, 'redis mirror flush failed');
    });
    return this.chain;
  }

  private async flushNow(): Promise<void> {
    if (this.dirty.size === 0 && this.invalid.size === 0) return;
    const batch = new Map(this.dirty);
    const byKey = new Map<string, Bucket[]>();
    for (const b of batch.values()) (byKey.get(b.key) ?? byKey.set(b.key, []).get(b.key)!).push(b);
    const invalid = [...this.invalid];
    try {
      await Promise.all([
        ...[...byKey].map(([key, buckets]) => this.writeKey(key, buckets, false)),
        ...invalid.map((key) => this.redis.hdel(key, COMPLETE_FIELD)),
      ]);
    } catch (err) {
      if (!this.failing) {
        this.opts.logger?.warn({ err, buckets: this.dirty.size }, 'redis write failed: the buckets are kept and retried with the next commit (MySQL stays the source of truth)');
      }
      this.failing = true;
      this.startRetry();
      return;
    }
    // Only what was sent: a newer value marked meanwhile stays dirty.
    for (const [id, b] of batch) if (this.dirty.get(id) === b) this.dirty.delete(id);
    for (const key of invalid) this.invalid.delete(key);
    if (this.failing) {
      this.failing = false;
      this.opts.logger?.info('redis writes succeed again: the serving keys are up to date');
    }
    if (this.dirty.size === 0 && this.invalid.size === 0) this.close();
  }

  private startRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setInterval(() => void this.flush(), this.retryIntervalMs);
    this.retryTimer.unref();
  }

  private async writeKey(key: string, buckets: readonly Bucket[], complete: boolean): Promise<void> {
    const args: Array<string | number> = [this.ttlSeconds, complete ? '1' : '0'];
    for (const b of buckets) args.push(b.field, b.orders, b.value);
    await this.redis[COMMAND](key, ...args);
  }
}
