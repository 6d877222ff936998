import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CityDailyStats, MinuteStats } from './recharge.js';
import type { RechargeServingState, ServingVersion } from './recharge-serving-state.js';

/**
 * The Redis serving store of job `recharge-metrics`: hot values for the
 * GraphQL API. The database is the source of truth; these keys are a mirror
 * written after each commit with ABSOLUTE values, so writing one twice
 * changes nothing, and a value is used only when it provably reflects THIS
 * database (see {@link RechargeServingCache.readCityDaily}).
 *
 * | key                                                   | type   | field                                            | value (JSON)                                                                              |
 * |-------------------------------------------------------|--------|--------------------------------------------------|-------------------------------------------------------------------------------------------|
 * | `rt:recharge:<group>:<db>:<gen>:city-daily:<YYYY-MM-DD>` | hash | city code, e.g. `440100`                         | `{"orders":12,"succeeded":11,"failed":1,"amount":"1100.00","durationMsSum":360000,"v":42}` |
 * | `rt:recharge:<group>:<db>:<gen>:minute:<YYYY-MM-DD>`  | hash   | minute start, ISO UTC `2026-01-01T00:01:00.000Z` | `{"orders":3,"succeeded":3,"amount":"150.00","v":42}`                                     |
 * | `rt:recharge:<group>:<db>:<gen>:seq`                  | string |                                                  | the highest `v` written under this namespace                                              |
 *
 * `<group>` is the job's consumer group (config `RECHARGE_GROUP`), so
 * deployments sharing one Redis stay apart; `<db>` the UUID of the database's
 * `database_identity` row (a re-created database has another one), `<gen>`
 * the group's generation in `recharge_serving_state` (bumped by a rebuild and
 * when Redis is found ahead of the database); `<YYYY-MM-DD>` the calendar
 * date in TIME_ZONE (of the minute start for minute keys). Amounts are yuan as
 * exact decimal strings. `v` is the commit sequence number (`seq`) of the
 * database state the value was read from. Every key also has the field
 * `_complete` (value: the `seq` read before the fill) once it was filled from
 * MySQL: only then may a reader trust a missing field to mean zero. Keys
 * expire {@link SERVING_TTL_SECONDS} after their last write.
 *
 * Writers from several workers may arrive out of order: a field is replaced
 * only by a value whose `v` is at least the stored one (commits are numbered
 * in commit order), checked and written atomically by {@link GUARDED_WRITE_LUA}.
 */
export const RECHARGE_KEY_PREFIX = 'rt:recharge:';

/** Field marking a key filled from MySQL (complete); its value is the fill's `seq`. */
export const COMPLETE_FIELD = '_complete';

/** TTL of every key, refreshed on each write: 3 days, in SECONDS. */
export const SERVING_TTL_SECONDS = 3 * 86_400;

/** The part of {@link ServingVersion} that names keys: database identity and generation. */
export type KeySpace = Pick<ServingVersion, 'databaseId' | 'generation'>;

function prefix(group: string, space: KeySpace): string {
  return `${RECHARGE_KEY_PREFIX}${group}:${space.databaseId}:${space.generation}:`;
}

/** Key of the per-city stats of a calendar date (`YYYY-MM-DD`) for the job's consumer group, database and generation. */
export function cityDailyKey(group: string, space: KeySpace, date: string): string {
  return `${prefix(group, space)}city-daily:${date}`;
}

/** Key of the per-minute stats of a calendar date (`YYYY-MM-DD`, local date of the minute start). */
export function minuteKey(group: string, space: KeySpace, date: string): string {
  return `${prefix(group, space)}minute:${date}`;
}

/** Key of the highest commit sequence number written under a namespace. */
export function seqKey(group: string, space: KeySpace): string {
  return `${prefix(group, space)}seq`;
}

/**
 * KEYS[1] = a hash of buckets, KEYS[2] = its namespace's `seq` key; ARGV[1] =
 * TTL in seconds (0: none); ARGV[2] = the `seq` of a fill from MySQL that
 * marks the key complete ("" for a worker's write); then triples (field,
 * seq, value JSON). A field is replaced only by a value of at least its `v`;
 * the `seq` key keeps the highest sequence number seen.
 * Returns the number of fields written.
 */
export const GUARDED_WRITE_LUA = `
local written = 0
local top = 0
for i = 3, #ARGV, 3 do
  local seq = tonumber(ARGV[i + 1])
  if seq > top then top = seq end
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local old = -1
  if current then
    local ok, decoded = pcall(cjson.decode, current)
    if ok and type(decoded) == 'table' and tonumber(decoded['v']) then old = tonumber(decoded['v']) end
  end
  if seq >= old then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    written = written + 1
  end
end
if ARGV[2] ~= '' then
  local fill = tonumber(ARGV[2])
  if fill > top then top = fill end
  local previous = tonumber(redis.call('HGET', KEYS[1], '${COMPLETE_FIELD}') or '-1') or -1
  if fill > previous then redis.call('HSET', KEYS[1], '${COMPLETE_FIELD}', ARGV[2]) end
end
local highest = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if top > highest then redis.call('SET', KEYS[2], top) end
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return written
`;

const COMMAND = 'rtRechargeGuardedWriteV2';

type GuardedRedis = Redis & { [COMMAND](key: string, seq: string, ...args: (string | number)[]): Promise<number> };

/** One bucket as written: a hash field and its value. */
interface Bucket {
  key: string;
  seqKey: string;
  field: string;
  seq: number;
  value: string;
}

/** A minute's date key needs the calendar: given by the caller. */
export type DateOf = (epochMs: number) => string;

function dailyBucket(group: string, v: ServingVersion, s: CityDailyStats): Bucket {
  return {
    key: cityDailyKey(group, v, s.date),
    seqKey: seqKey(group, v),
    field: s.cityCode,
    seq: v.seq,
    value: JSON.stringify({
      orders: s.orders,
      succeeded: s.succeeded,
      failed: s.failed,
      amount: s.amount,
      durationMsSum: s.durationMsSum,
      v: v.seq,
    }),
  };
}

function minuteBucket(group: string, v: ServingVersion, s: MinuteStats, dateOf: DateOf): Bucket {
  return {
    key: minuteKey(group, v, dateOf(s.minuteStartMs)),
    seqKey: seqKey(group, v),
    field: new Date(s.minuteStartMs).toISOString(),
    seq: v.seq,
    value: JSON.stringify({ orders: s.orders, succeeded: s.succeeded, amount: s.amount, v: v.seq }),
  };
}

/** Options of {@link RechargeServingCache}. */
export interface RechargeServingCacheOptions {
  redis: Redis;
  /** The job's consumer group: the `<group>` of the keys. */
  namespace: string;
  /** This database's identity, the group's generation and last commit: which keys to read and whether to trust them. */
  state: RechargeServingState;
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

/** What a trusted read of one key gives. */
interface TrustedHash {
  fields: Record<string, unknown>;
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
    if (typeof this.redis[COMMAND] !== 'function')
      this.redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: GUARDED_WRITE_LUA });
    this.ttlSeconds = opts.ttlSeconds ?? SERVING_TTL_SECONDS;
    this.maxDirty = opts.maxDirty ?? 10_000;
    this.retryIntervalMs = opts.retryIntervalMs ?? 5_000;
  }

  /** Buckets waiting for Redis (tests, metrics). */
  get pending(): number {
    return this.dirty.size;
  }

  /**
   * Mirrors committed absolute values (worker, after commit); `version` is
   * the one the batch transaction returned from {@link RechargeServingState.advance}.
   * Resolves once Redis took them, or once the failure is recorded for a
   * retry; never rejects.
   */
  write(daily: readonly CityDailyStats[], minutes: readonly MinuteStats[], version: ServingVersion): Promise<void> {
    for (const s of daily) this.markDirty(dailyBucket(this.opts.namespace, version, s));
    for (const s of minutes) this.markDirty(minuteBucket(this.opts.namespace, version, s, this.opts.dateOf));
    return this.flush();
  }

  /**
   * The per-city stats of `date`, or null when Redis cannot vouch for them.
   * A key is used only when all of these hold: it is under this database's
   * identity and the group's current generation; it is complete (filled from
   * MySQL once); and no value under its namespace carries a commit number
   * (`v`) above the database's last commit (`recharge_serving_state.seq`,
   * read again from MySQL when the one in memory, at most 1 s old, is below).
   * Redis ahead of the database means the database went back in time (a
   * restored backup): the generation is abandoned, so its keys are never
   * read again, and null is returned. Null too when Redis does not answer.
   */
  async readCityDaily(date: string): Promise<Map<string, CityDailyStats> | null> {
    const hash = await this.readTrusted((v) => cityDailyKey(this.opts.namespace, v, date));
    if (!hash) return null;
    const out = new Map<string, CityDailyStats>();
    for (const [cityCode, v] of Object.entries(hash.fields) as [string, Omit<CityDailyStats, 'date' | 'cityCode'>][]) {
      out.set(cityCode, {
        date,
        cityCode,
        orders: v.orders,
        succeeded: v.succeeded,
        failed: v.failed,
        amount: v.amount,
        durationMsSum: v.durationMsSum,
      });
    }
    return out;
  }

  /** The per-minute stats of the minutes of `date`, keyed by minute start (epoch ms), or null (see {@link readCityDaily}). */
  async readMinutes(date: string): Promise<Map<number, MinuteStats> | null> {
    const hash = await this.readTrusted((v) => minuteKey(this.opts.namespace, v, date));
    if (!hash) return null;
    const out = new Map<number, MinuteStats>();
    for (const [iso, v] of Object.entries(hash.fields) as [string, Omit<MinuteStats, 'minuteStartMs'>][]) {
      const minuteStartMs = Date.parse(iso);
      out.set(minuteStartMs, { minuteStartMs, orders: v.orders, succeeded: v.succeeded, amount: v.amount });
    }
    return out;
  }

  /**
   * Fills the key of `date` from MySQL rows (every row of that date) and marks
   * it complete; `version` must have been read (fresh) BEFORE the rows, so the
   * rows are at least as new as it says. Values newer in Redis are kept (same
   * guard). Best effort: returns false when Redis did not take it.
   */
  async refillCityDaily(version: ServingVersion, date: string, rows: readonly CityDailyStats[]): Promise<boolean> {
    return this.writeKey(
      cityDailyKey(this.opts.namespace, version, date),
      seqKey(this.opts.namespace, version),
      rows.map((r) => dailyBucket(this.opts.namespace, version, r)),
      String(version.seq),
    ).then(
      () => true,
      () => false,
    );
  }

  /** As {@link refillCityDaily} for the minute key of `date` (rows: every minute of that date). */
  async refillMinutes(version: ServingVersion, date: string, rows: readonly MinuteStats[]): Promise<boolean> {
    return this.writeKey(
      minuteKey(this.opts.namespace, version, date),
      seqKey(this.opts.namespace, version),
      rows.map((r) => minuteBucket(this.opts.namespace, version, r, this.opts.dateOf)),
      String(version.seq),
    ).then(
      () => true,
      () => false,
    );
  }

  /** The database's version now (read from MySQL): take it BEFORE reading the rows of a fill. */
  versionForFill(): Promise<ServingVersion> {
    return this.opts.state.current(true);
  }

  /**
   * A worker's start: when Redis holds a commit number under the current
   * namespace above the database's (a restored backup), abandons that
   * generation. Best effort (Redis down: nothing to distrust yet).
   * @returns true when the generation was abandoned.
   */
  async distrustIfAhead(): Promise<boolean> {
    const cached = await this.opts.state.current();
    let highest: number;
    try {
      highest = Number((await this.redis.get(seqKey(this.opts.namespace, cached))) ?? 0);
    } catch {
      return false;
    }
    return this.checkAhead(cached, highest);
  }

  /** Deletes every key of this job's group, all databases and generations, and forgets pending writes. */
  async clearAll(): Promise<void> {
    this.dirty.clear();
    this.invalid.clear();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${RECHARGE_KEY_PREFIX}${this.opts.namespace.replace(/[*?[\]\\]/g, '\\$&')}:*`,
        'COUNT',
        500,
      );
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** Stops the retry timer (the process is stopping). */
  close(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }

  /**
   * Redis (read after `version`) holds `highest` under `version`'s namespace.
   * @returns true when that is above the database even on a fresh read: the
   *   generation is then abandoned.
   */
  private async checkAhead(version: ServingVersion, highest: number): Promise<boolean> {
    if (highest <= version.seq) return false;
    const fresh = await this.opts.state.current(true);
    if (fresh.databaseId !== version.databaseId || fresh.generation !== version.generation) return true;
    if (highest <= fresh.seq) return false;
    this.opts.logger?.warn(
      { group: this.opts.namespace, generation: fresh.generation, redisSeq: highest, databaseSeq: fresh.seq },
      'redis holds recharge values newer than the database (restored backup?): abandoning their generation, answers come from MySQL',
    );
    await this.opts.state.abandonGeneration(fresh.generation);
    return true;
  }

  private async readTrusted(keyOf: (space: KeySpace) => string): Promise<TrustedHash | null> {
    const version = await this.opts.state.current();
    const key = keyOf(version);
    let hash: Record<string, string>;
    let highest: number;
    try {
      const replies = await this.redis.multi().hgetall(key).get(seqKey(this.opts.namespace, version)).exec();
      if (!replies || replies.some(([err]) => err)) return null;
      hash = replies[0][1] as Record<string, string>;
      highest = Number(replies[1][1] ?? 0);
    } catch {
      return null;
    }
    const complete = hash[COMPLETE_FIELD] as string | undefined;
    if (complete === undefined) return null;
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a constant field name on this call's own copy of the Redis hash
    delete hash[COMPLETE_FIELD];
    const fields: Record<string, unknown> = {};
    highest = Math.max(highest, Number(complete) || 0);
    for (const [field, json] of Object.entries(hash)) {
      const value = JSON.parse(json) as { v?: number };
      if (typeof value.v === 'number' && value.v > highest) highest = value.v;
      fields[field] = value;
    }
    if (await this.checkAhead(version, highest)) return null;
    return { fields };
  }

  private markDirty(b: Bucket): void {
    const id = `${b.key}\u0000${b.field}`;
    const current = this.dirty.get(id);
    if (current && current.seq > b.seq) return;
    // Re-inserted so the Map's order stays oldest first.
    this.dirty.delete(id);
    this.dirty.set(id, b);
    while (this.dirty.size > this.maxDirty) {
      const first = this.dirty.entries().next();
      if (first.done) break;
      const [oldest, bucket] = first.value;
      this.dirty.delete(oldest);
      this.invalid.add(bucket.key);
    }
  }

  private flush(): Promise<void> {
    this.chain = this.chain
      .then(() => this.flushNow())
      .catch((err: unknown) => {
        this.opts.logger?.error({ err }, 'redis mirror flush failed');
      });
    return this.chain;
  }

  private async flushNow(): Promise<void> {
    if (this.dirty.size === 0 && this.invalid.size === 0) return;
    const batch = new Map(this.dirty);
    const byKey = new Map<string, Bucket[]>();
    for (const b of batch.values()) {
      let list = byKey.get(b.key);
      if (!list) byKey.set(b.key, (list = []));
      list.push(b);
    }
    const invalid = [...this.invalid];
    try {
      await Promise.all([
        ...[...byKey].map(([key, buckets]) => this.writeKey(key, buckets[0].seqKey, buckets, '')),
        ...invalid.map((key) => this.redis.hdel(key, COMPLETE_FIELD)),
      ]);
    } catch (err) {
      if (!this.failing) {
        this.opts.logger?.warn(
          { err, buckets: this.dirty.size },
          'redis write failed: the buckets are kept and retried with the next commit (MySQL stays the source of truth)',
        );
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

  private async writeKey(
    key: string,
    namespaceSeqKey: string,
    buckets: readonly Bucket[],
    completeSeq: string,
  ): Promise<void> {
    const args: (string | number)[] = [this.ttlSeconds, completeSeq];
    for (const b of buckets) args.push(b.field, b.seq, b.value);
    await this.redis[COMMAND](key, namespaceSeqKey, ...args);
  }
}
