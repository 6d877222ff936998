import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProductClick, type ProductClickEvent } from '../../src/jobs/hot-products/product-click-format.js';
import { generateProductClicks } from '../../src/jobs/hot-products/product-click-generator.js';
import { mulberry32 } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import type {
  ClickBatch,
  MinuteActions,
  MinuteClicks,
  TotalClicks,
} from '../../src/jobs/hot-products/hot-product-store.js';
import { aggregateDailyUsers, memoizedDateOf } from '../../src/jobs/daily-active-users/daily-active-users-job.js';
import { aggregateClicks } from '../../src/jobs/hot-products/hot-products-job.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';

const T = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;
const click = (
  productId: string,
  atMs: number,
  category: string | null = null,
  action = 'click',
): ProductClickEvent => ({ eventTimeMs: atMs, productId, action, userId: 'u_1', category });

describe('aggregateClicks', () => {
  it('should count clicks per product per 1-minute tumbling window, start inclusive, end exclusive', () => {
    const b = aggregateClicks([
      click('p1', T),
      click('p1', T + MIN - 1),
      click('p1', T + MIN),
      click('p2', T + 30_000),
    ]);
    assert.deepEqual(b.minutes, [
      { productId: 'p1', minuteMs: T, clicks: 2 },
      { productId: 'p1', minuteMs: T + MIN, clicks: 1 },
      { productId: 'p2', minuteMs: T, clicks: 1 },
    ]);
    assert.deepEqual(
      b.totals.map((t) => [t.productId, t.clicks, t.lastClickMs]),
      [
        ['p1', 3, T + MIN],
        ['p2', 1, T + 30_000],
      ],
    );
  });

  it('should count other actions apart, per product, minute and action, and never as clicks', () => {
    const b = aggregateClicks([
      click('p1', T, null, 'view'),
      click('p1', T + 1, null, 'view'),
      click('p1', T, null, 'cart'),
      click('p2', T),
    ]);
    assert.deepEqual(b.actions, [
      { productId: 'p1', minuteMs: T, action: 'cart', events: 1 },
      { productId: 'p1', minuteMs: T, action: 'view', events: 2 },
    ]);
    assert.deepEqual(
      b.totals.map((t) => t.productId),
      ['p2'],
    );
  });

  it('should take the category of the latest click that has one, whatever the record order', () => {
    const events = [click('p1', T + 5, 'tv'), click('p1', T + 9), click('p1', T + 1, 'phone')];
    for (const order of [events, [...events].reverse()]) {
      const [total] = aggregateClicks(order).totals;
      assert.equal(total.category, 'tv');
      assert.equal(total.categoryAtMs, T + 5);
      assert.equal(total.lastClickMs, T + 9);
    }
  });

  it('should break a category tie at one millisecond by the greatest name, whatever the record order', () => {
    const events = [click('p1', T, 'audio'), click('p1', T, 'tv')];
    assert.equal(aggregateClicks(events).totals[0].category, 'tv');
    assert.equal(aggregateClicks([...events].reverse()).totals[0].category, 'tv');
  });

  it('should sort rows by primary key (the store lock order), ids by code unit', () => {
    const b = aggregateClicks([click('p2', T + MIN), click('P9', T), click('p10', T), click('p2', T)]);
    assert.deepEqual(
      b.minutes.map((m) => `${m.productId}@${(m.minuteMs - T) / MIN}`),
      ['P9@0', 'p10@0', 'p2@0', 'p2@1'],
    );
  });
});

/** The rows of `aggregateClicks`, counted the plain way: one map per kind of row, keyed by its primary key. */
function referenceAggregate(events: readonly ProductClickEvent[]): ClickBatch {
  const minutes = new Map<string, MinuteClicks>();
  const actions = new Map<string, MinuteActions>();
  const totals = new Map<string, TotalClicks>();
  for (const e of events) {
    const minuteMs = Math.floor(e.eventTimeMs / MIN) * MIN;
    if (e.action !== 'click') {
      const key = JSON.stringify([e.productId, minuteMs, e.action]);
      const row = actions.get(key) ?? { productId: e.productId, minuteMs, action: e.action, events: 0 };
      row.events++;
      actions.set(key, row);
      continue;
    }
    const key = JSON.stringify([e.productId, minuteMs]);
    const row = minutes.get(key) ?? { productId: e.productId, minuteMs, clicks: 0 };
    row.clicks++;
    minutes.set(key, row);
    const total = totals.get(e.productId) ?? {
      productId: e.productId,
      clicks: 0,
      lastClickMs: e.eventTimeMs,
      category: null,
      categoryAtMs: null,
    };
    total.clicks++;
    total.lastClickMs = Math.max(total.lastClickMs, e.eventTimeMs);
    if (
      e.category !== null &&
      (total.categoryAtMs === null ||
        e.eventTimeMs > total.categoryAtMs ||
        (e.eventTimeMs === total.categoryAtMs && total.category !== null && e.category > total.category))
    ) {
      total.category = e.category;
      total.categoryAtMs = e.eventTimeMs;
    }
    totals.set(e.productId, total);
  }
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    minutes: [...minutes.values()].sort((a, b) => byId(a.productId, b.productId) || a.minuteMs - b.minuteMs),
    actions: [...actions.values()].sort(
      (a, b) => byId(a.productId, b.productId) || a.minuteMs - b.minuteMs || byId(a.action, b.action),
    ),
    totals: [...totals.values()].sort((a, b) => byId(a.productId, b.productId)),
  };
}

describe('aggregateClicks against a plain reference count', () => {
  it('should give the reference rows for generated streams in event-time order, shuffled and with late records', () => {
    const r = mulberry32(5);
    const streams = [
      { seed: 1, products: 50, lateShare: 0.01 },
      { seed: 2, products: 3, lateShare: 0.3, maxLatenessMs: 600_000 },
      { seed: 3, products: 2_000, lateShare: 0, uncategorizedShare: 0.5 },
    ].map((o) =>
      [...generateProductClicks({ ...o, count: 20_000, malformedShare: 0, eventsPerSecond: 50 })].map((g) =>
        parseProductClick(g.value),
      ),
    );
    const shuffled = [...streams[0]];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    for (const events of [...streams, shuffled, streams[0].slice(0, 1), []]) {
      assert.deepEqual(aggregateClicks(events), referenceAggregate(events));
    }
    // The streams do cover several minutes per product and several actions per minute.
    assert.ok(aggregateClicks(streams[1]).minutes.length > 3 * 5);
    assert.ok(aggregateClicks(streams[1]).actions.length > aggregateClicks(streams[1]).minutes.length);
  });
});

describe('aggregateDailyUsers', () => {
  const shanghai = new ZonedCalendar('Asia/Shanghai');
  const dateOf = memoizedDateOf(shanghai);
  // Midnight in Shanghai is 16:00 UTC of the day before.
  const midnight = Date.UTC(2026, 0, 1, 16);

  it('should de-duplicate users per local day and split days at local midnight', () => {
    const { days } = aggregateDailyUsers(
      [
        { uid: 'b', eventTimeMs: midnight - 1 },
        { uid: 'a', eventTimeMs: midnight - 1_000 },
        { uid: 'a', eventTimeMs: midnight - 2_000 },
        { uid: 'a', eventTimeMs: midnight },
      ],
      dateOf,
    );
    assert.deepEqual(days, [
      { day: '2026-01-01', uids: ['a', 'b'] },
      { day: '2026-01-02', uids: ['a'] },
    ]);
  });

  it("should give each user the batch's earliest day, sorted by uid", () => {
    const { firstDays } = aggregateDailyUsers(
      [
        { uid: 'z', eventTimeMs: midnight },
        { uid: 'a', eventTimeMs: midnight },
        { uid: 'a', eventTimeMs: midnight - 1 },
      ],
      dateOf,
    );
    assert.deepEqual(firstDays, [
      { uid: 'a', day: '2026-01-01' },
      { uid: 'z', day: '2026-01-02' },
    ]);
  });

  it('should memoise dates per quarter hour and still agree with the calendar at a non-hour offset', () => {
    const kathmandu = new ZonedCalendar('Asia/Kathmandu'); // UTC+5:45
    const memo = memoizedDateOf(kathmandu);
    const localMidnight = Date.UTC(2026, 0, 1, 18, 15);
    for (const t of [localMidnight - 1, localMidnight, localMidnight + 1, localMidnight + 899_999])
      assert.equal(memo(t), kathmandu.dateOf(t));
  });
});
