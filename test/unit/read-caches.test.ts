import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HotProductStore, RANKING_TTL_MS } from '../../src/jobs/hot-products/hot-product-store.js';
import { CITY_DAILY_TTL_MS, RechargeMetricsReader } from '../../src/jobs/recharge-metrics/recharge-metrics-reader.js';
import { ShortLivedCache } from '../../src/store/short-lived-cache.js';
import { TOTAL_COUNT_TTL_MS, UnpaidUserStore } from '../../src/jobs/abnormal-orders/unpaid-user-store.js';
import { CallbackStatusUpdater } from '../../src/jobs/abnormal-orders/callback-status-updater.js';

/** A hand-driven clock, MILLISECONDS. */
function clock() {
  let t = 1_000;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/**
 * A 1,000 ms cache on the clock `c` whose reads answer `{ n }`, n counting the reads, or fail with
 * "down" while `state.fail` is set; `opts` overrides the other options.
 */
function countingCache(
  c: ReturnType<typeof clock>,
  opts: { fail?: boolean; refreshAheadMs?: number } = {},
): { cache: ShortLivedCache<string, { n: number }>; state: { reads: number; fail: boolean } } {
  const state = { reads: 0, fail: opts.fail ?? false };
  const cache = new ShortLivedCache<string, { n: number }>({
    ttlMs: 1_000,
    refreshAheadMs: opts.refreshAheadMs,
    max: 4,
    now: c.now,
    load: async () => {
      state.reads++;
      if (state.fail) throw new Error('down');
      return { n: state.reads };
    },
  });
  return { cache, state };
}

/** As {@link countingCache}, but each read ends only when `release()` is called (the newest read). */
function heldCache(c: ReturnType<typeof clock>): {
  cache: ShortLivedCache<string, { n: number }>;
  reads: () => number;
  release: () => void;
} {
  let reads = 0;
  let resolveNewest: (() => void) | null = null;
  const cache = new ShortLivedCache<string, { n: number }>({
    ttlMs: 1_000,
    max: 4,
    now: c.now,
    load: () =>
      new Promise((resolve) => {
        const n = ++reads;
        resolveNewest = () => resolve({ n });
      }),
  });
  return {
    cache,
    reads: () => reads,
    release: () => {
      assert.ok(resolveNewest, 'a read to release');
      resolveNewest();
    },
  };
}

describe('ShortLivedCache', () => {
  it('should serve a value until its bound, then read again', async () => {
    const c = clock();
    const { cache } = countingCache(c);
    assert.equal((await cache.get('a')).n, 1);
    c.advance(999);
    assert.equal((await cache.get('a')).n, 1, 'within the bound: the cached value');
    c.advance(1);
    assert.equal((await cache.get('a')).n, 2, 'at the bound: read again');
    assert.equal((await cache.get('b')).n, 3, 'another key: its own read');
  });

  it("should share one read among concurrent gets, and count the bound from the read's start", async () => {
    const c = clock();
    const { cache, reads, release } = heldCache(c);
    const a = cache.get('k');
    const b = cache.get('k');
    c.advance(600);
    release();
    assert.deepEqual([(await a).n, (await b).n], [1, 1]);
    assert.equal(reads(), 1);
    c.advance(400);
    const d = cache.get('k');
    release();
    assert.equal((await d).n, 2, '1,000 ms after the read started: read again although it ended 400 ms ago');
  });

  it('should not keep a failed read, nor a value read before clear()', async () => {
    const c = clock();
    const { cache, state } = countingCache(c, { fail: true });
    await assert.rejects(cache.get('k'), /down/);
    state.fail = false;
    assert.equal((await cache.get('k')).n, 2);
    cache.clear();
    assert.equal((await cache.get('k')).n, 3, 'cleared: read again');
  });

  it('should refresh a key asked for after refreshAheadMs in the background, serving the value in hand meanwhile', async () => {
    const c = clock();
    const { cache, reads, release } = heldCache(c);
    const first = cache.get('k');
    release();
    assert.equal((await first).n, 1);
    c.advance(499);
    assert.equal((await cache.get('k')).n, 1);
    assert.equal(reads(), 1, 'before the refresh-ahead point (ttl / 2 by default): no read');
    c.advance(1);
    assert.equal((await cache.get('k')).n, 1, 'at the refresh-ahead point: the value in hand, at once');
    assert.equal(reads(), 2, 'and one read in the background');
    assert.equal((await cache.get('k')).n, 1);
    assert.equal(reads(), 2, 'a refresh in flight is not started twice');
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await cache.get('k')).n, 2, 'the refreshed value once its read ended');
    // The refreshed value's bound counts from its read's start (t = 1,500): served until 2,500, never later.
    c.advance(999);
    const atBound = cache.get('k');
    assert.equal(reads(), 3, 'refreshed again in its second half');
    c.advance(1);
    const past = cache.get('k');
    release();
    assert.equal((await atBound).n, 2);
    assert.equal((await past).n, 3, 'past the bound: waits for the read rather than serving the old value');
  });

  it('should serve the value in hand to its bound when a background refresh fails, without retrying it per get', async () => {
    const c = clock();
    const { cache, state } = countingCache(c);
    assert.equal((await cache.get('k')).n, 1);
    state.fail = true;
    c.advance(600);
    assert.equal((await cache.get('k')).n, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await cache.get('k')).n, 1, 'the failed refresh left the value in hand');
    assert.equal(state.reads, 2, 'one failed refresh, not one per get');
    c.advance(400);
    await assert.rejects(cache.get('k'), /down/, 'past the bound the failure reaches the caller');
  });

  it('should not refresh ahead when refreshAheadMs is not below ttlMs', async () => {
    const c = clock();
    const { cache, state } = countingCache(c, { refreshAheadMs: 1_000 });
    await cache.get('k');
    c.advance(999);
    assert.equal((await cache.get('k')).n, 1);
    assert.equal(state.reads, 1);
  });
});

const ALL = { status: null, redetectedAfter: null };

/** A Db stand-in answering `$queryRaw` from a function of the SQL text. */
function fakeDb(answer: (sql: string) => unknown[]) {
  const seen: string[] = [];
  const db = {
    $queryRaw: async (strings: TemplateStringsArray | { sql: string }, ..._values: unknown[]) => {
      const text = 'sql' in strings ? strings.sql : strings.join('?');
      seen.push(text);
      return answer(text);
    },
  };
  return { db: db as never, seen };
}

describe('read caches of the stores', () => {
  it('should bound totalCount by TOTAL_COUNT_TTL_MS and clear it on a callback-status change of this process', async () => {
    const c = clock();
    let count = 5;
    const { db, seen } = fakeDb((sql) => (sql.includes('COUNT(*)') ? [{ n: BigInt(count) }] : []));
    const store = new UnpaidUserStore(db, { now: c.now });
    assert.equal((await store.page(20, null, ALL)).totalCount, 5);
    count = 6;
    c.advance(TOTAL_COUNT_TTL_MS - 1);
    assert.equal((await store.page(20, null, ALL)).totalCount, 5);
    assert.equal(
      (await store.page(20, null, { status: 'CONTACTED', redetectedAfter: null })).totalCount,
      6,
      'each status filter has its own count',
    );
    c.advance(1);
    assert.equal((await store.page(20, null, ALL)).totalCount, 6);
    assert.equal(seen.filter((s) => s.includes('COUNT(*)')).length, 3);
    // A status change of this process clears the counts even when it changes nothing (here: no such uid).
    count = 7;
    (db as unknown as { $transaction: (fn: (tx: unknown) => Promise<unknown>) => Promise<unknown> }).$transaction = (
      fn,
    ) => fn({ $queryRaw: async () => [] });
    const updater = new CallbackStatusUpdater(db, {
      users: store,
      changeLog: {} as never,
      mutations: {} as never,
      stream: 'abnormal-orders',
    });
    const result = await updater.apply(
      [{ uid: 'nobody', status: 'CONTACTED', note: null, expectedStatus: null }],
      { role: 'crm', keyId: 'k' },
      null,
    );
    assert.equal(result.outcomes[0].error?.code, 'UNPAID_USER_NOT_FOUND');
    assert.equal((await store.page(20, null, ALL)).totalCount, 7);
  });

  it('should bound a served ranking by RANKING_TTL_MS, per hour and limit', async () => {
    const c = clock();
    let clicks = 3;
    const { db, seen } = fakeDb(() => [{ productId: 'p1', clicks: BigInt(clicks), category: null }]);
    const store = new HotProductStore(db, { now: c.now });
    assert.equal((await store.servedRanking(0, 3_600_000, 10))[0].clicks, 3);
    clicks = 4;
    c.advance(RANKING_TTL_MS - 1);
    assert.equal((await store.servedRanking(0, 3_600_000, 10))[0].clicks, 3);
    assert.equal((await store.servedRanking(0, 3_600_000, 5))[0].clicks, 4, 'another limit: its own read');
    c.advance(1);
    assert.equal((await store.servedRanking(0, 3_600_000, 10))[0].clicks, 4);
    assert.equal(seen.length, 3);
    assert.ok(seen[0].includes('window_start >= ?'));
  });

  it('should share one city-stats read of a date among the dashboard fields for CITY_DAILY_TTL_MS, through the trusted Redis read', async () => {
    const c = clock();
    let reads = 0;
    const cities = [
      { code: '440100', name: 'Guangzhou', nameEn: 'Guangzhou', longitude: 0, latitude: 0, provinceCode: '440000' },
    ];
    const store = { loadCities: async () => cities } as never;
    const cache = {
      readCityDaily: async (date: string) => {
        reads++;
        return new Map([
          [
            '440100',
            { date, cityCode: '440100', orders: reads, succeeded: reads, failed: 0, amount: '1.00', durationMsSum: 0 },
          ],
        ]);
      },
    } as never;
    const reader = new RechargeMetricsReader(store, cache, {} as never, { now: c.now });
    const three = await Promise.all([
      reader.cityDaily('2026-12-01'),
      reader.cityDaily('2026-12-01'),
      reader.cityDaily('2026-12-01'),
    ]);
    assert.deepEqual(
      three.map((s) => s[0].orders),
      [1, 1, 1],
    );
    assert.equal(reads, 1, 'one read for the three fields');
    assert.ok(
      three[0] === three[1] && three[1] === three[2],
      'one answer array for every request served from one read',
    );
    c.advance(CITY_DAILY_TTL_MS - 1);
    assert.equal((await reader.cityDaily('2026-12-01'))[0].orders, 1);
    c.advance(1);
    const next = await reader.cityDaily('2026-12-01');
    assert.equal(next[0].orders, 2);
    assert.notEqual(next, three[0], 'a new read: a new answer array');
    reader.forgetCityDaily();
    assert.equal((await reader.cityDaily('2026-12-01'))[0].orders, 3, 'forgotten after a rebuild: read again');
  });
});
