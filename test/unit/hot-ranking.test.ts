import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calendarDays, daysInclusive, isCalendarDate } from '../../src/stream/calendar-days.js';
import {
  assignRanks,
  boundariesToEmit,
  floorTo,
  RANKING_REFRESH_MS,
  rankingWindowAt,
} from '../../src/jobs/hot-products/hot-ranking.js';
import { minuteBuckets, minuteRange, minuteStart } from '../../src/stream/minute-buckets.js';

const T = Date.UTC(2026, 0, 1, 12); // a 5-minute boundary
const MIN = 60_000;
const FIVE = 5 * MIN;
const HOUR = 60 * MIN;

describe('rankingWindowAt', () => {
  it('should rank the hour ending at the 5-minute boundary itself when asked exactly at it', () => {
    assert.deepEqual(rankingWindowAt(T), { startMs: T - HOUR, endMs: T });
  });

  it('should rank the hour ending at the last boundary before a time between boundaries', () => {
    assert.deepEqual(rankingWindowAt(T + FIVE - 1), { startMs: T - HOUR, endMs: T });
    assert.deepEqual(rankingWindowAt(T + 1), { startMs: T - HOUR, endMs: T });
  });

  it('should floor below the epoch too', () => {
    assert.equal(floorTo(-1, FIVE), -FIVE);
  });
});

describe('boundariesToEmit', () => {
  it('should emit nothing before the watermark reaches the next boundary', () => {
    assert.deepEqual(boundariesToEmit(T, T + FIVE - 1, 12), []);
  });

  it('should emit a boundary once the watermark reaches it (a watermark at the boundary passes it)', () => {
    assert.deepEqual(boundariesToEmit(T, T + FIVE, 12), [T + FIVE]);
  });

  it('should emit every boundary since the last one, oldest first', () => {
    assert.deepEqual(boundariesToEmit(T, T + 3 * FIVE + 7, 12), [T + FIVE, T + 2 * FIVE, T + 3 * FIVE]);
  });

  it('should emit only the newest boundary when nothing was emitted before', () => {
    assert.deepEqual(boundariesToEmit(null, T + 2 * FIVE + 1, 12), [T + 2 * FIVE]);
  });

  it('should cut a long catch-up to the newest maxCatchUp boundaries', () => {
    assert.deepEqual(boundariesToEmit(T, T + 100 * FIVE, 2), [T + 99 * FIVE, T + 100 * FIVE]);
  });

  it('should never emit a boundary at or before the last one, even if the watermark went back', () => {
    assert.deepEqual(boundariesToEmit(T, T - HOUR, 12), []);
    assert.equal(RANKING_REFRESH_MS, FIVE);
  });
});

describe('assignRanks', () => {
  it('should rank by clicks descending and give equal clicks consecutive ranks by productId', () => {
    const ranked = assignRanks([
      { productId: 'p20', clicks: 5, category: null },
      { productId: 'p3', clicks: 9, category: 'tv' },
      { productId: 'p10', clicks: 5, category: null },
      { productId: 'p2', clicks: 5, category: null },
    ]);
    assert.deepEqual(
      ranked.map((p) => [p.rank, p.productId, p.clicks]),
      [
        [1, 'p3', 9],
        [2, 'p10', 5],
        [3, 'p2', 5],
        [4, 'p20', 5],
      ],
    );
  });

  it('should not mutate its input', () => {
    const rows = [
      { productId: 'b', clicks: 1, category: null },
      { productId: 'a', clicks: 2, category: null },
    ];
    assignRanks(rows);
    assert.equal(rows[0].productId, 'b');
  });
});

describe('minute buckets', () => {
  it('should place a click exactly at a minute boundary in the minute that starts there', () => {
    assert.equal(minuteStart(T + MIN), T + MIN);
    assert.equal(minuteStart(T + MIN - 1), T);
  });

  it('should cover every minute overlapping [from, to), to exclusive', () => {
    assert.deepEqual(minuteRange(T, T + 3 * MIN), { firstMs: T, count: 3 });
    assert.deepEqual(minuteRange(T + 30_000, T + 3 * MIN), { firstMs: T, count: 3 });
    assert.deepEqual(minuteRange(T, T + 3 * MIN + 1), { firstMs: T, count: 4 });
    assert.deepEqual(minuteRange(T, T), { firstMs: T, count: 0 });
  });

  it('should fill empty minutes with zeros and carry the running total from before the range', () => {
    const stored = new Map([
      [T, 2],
      [T + 2 * MIN, 3],
      [T + 9 * MIN, 100],
    ]);
    assert.deepEqual(minuteBuckets(T, T + 3 * MIN, stored, 10), [
      { minuteMs: T, clicks: 2, runningTotal: 12 },
      { minuteMs: T + MIN, clicks: 0, runningTotal: 12 },
      { minuteMs: T + 2 * MIN, clicks: 3, runningTotal: 15 },
    ]);
  });
});

describe('calendar days', () => {
  it('should list every date of [from, to], both inclusive, across a month end', () => {
    assert.deepEqual(calendarDays('2026-01-30', '2026-02-02'), [
      '2026-01-30',
      '2026-01-31',
      '2026-02-01',
      '2026-02-02',
    ]);
    assert.equal(daysInclusive('2026-01-01', '2026-01-01'), 1);
    assert.equal(daysInclusive('2028-01-01', '2028-12-31'), 366);
    assert.equal(daysInclusive('2026-01-02', '2026-01-01'), 0);
  });

  it('should reject what is not a real YYYY-MM-DD date', () => {
    assert.equal(isCalendarDate('2026-02-30'), false);
    assert.equal(isCalendarDate('2026-2-3'), false);
    assert.equal(isCalendarDate('2024-02-29'), true);
    assert.throws(() => calendarDays('2026-13-01', '2026-12-01'), RangeError);
  });
});
