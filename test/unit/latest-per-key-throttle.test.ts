import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNewerCitySnapshot } from '../../src/publish/city-metrics-feed.js';
import { LatestPerKeyThrottle } from '../../src/publish/latest-per-key-throttle.js';

/** A throttle on a hand-driven clock: `advance(ms)` runs the timers that fall due. */
function harness() {
  let now = 1_000_000;
  const timers: { at: number; fn: () => void; cleared: boolean }[] = [];
  const emitted: [string, { v: number }, number][] = [];
  const throttle = new LatestPerKeyThrottle<string, { v: number }>({
    intervalMs: 1_000,
    isNewer: (a, b) => a.v > b.v,
    emit: (k, value) => emitted.push([k, value, now]),
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => {
      (t as { cleared: boolean }).cleared = true;
    },
  });
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = timers.filter((t) => !t.cleared && t.at <= end).sort((a, b) => a.at - b.at).at(0);
      if (!due) break;
      due.cleared = true;
      now = due.at;
      due.fn();
    }
    now = end;
  };
  return { throttle, emitted, advance };
}

describe('LatestPerKeyThrottle', () => {
  it('should emit the first value at once and then at most one per key per interval, the newest', () => {
    const { throttle, emitted, advance } = harness();
    throttle.offer('440100', { v: 1 });
    advance(100);
    throttle.offer('440100', { v: 2 });
    advance(100);
    throttle.offer('440100', { v: 3 });
    advance(2_000);
    assert.deepEqual(emitted.map(([k, value, at]) => [k, value.v, at - 1_000_000]), [['440100', 1, 0], ['440100', 3, 1_000]]);
  });

  it('should throttle each key on its own', () => {
    const { throttle, emitted, advance } = harness();
    throttle.offer('a', { v: 1 });
    throttle.offer('b', { v: 1 });
    throttle.offer('a', { v: 2 });
    advance(999);
    assert.deepEqual(emitted.map(([k, v]) => `${k}${v.v}`), ['a1', 'b1']);
    advance(1);
    assert.deepEqual(emitted.map(([k, v]) => `${k}${v.v}`), ['a1', 'b1', 'a2']);
  });

  it('should drop values that arrive out of order (not newer than the pending or the last emitted one)', () => {
    const { throttle, emitted, advance } = harness();
    throttle.offer('a', { v: 5 });
    throttle.offer('a', { v: 9 });
    throttle.offer('a', { v: 7 }); // older than the pending 9
    advance(1_000);
    throttle.offer('a', { v: 8 }); // older than the emitted 9
    advance(5_000);
    assert.deepEqual(emitted.map(([, v]) => v.v), [5, 9]);
  });

  it('should emit at once again after a quiet interval', () => {
    const { throttle, emitted, advance } = harness();
    throttle.offer('a', { v: 1 });
    advance(3_000);
    throttle.offer('a', { v: 2 });
    assert.deepEqual(emitted.map(([, v, at]) => [v.v, at - 1_000_000]), [[1, 0], [2, 3_000]]);
  });

  it('should refuse a non-positive interval', () => {
    assert.throws(() => new LatestPerKeyThrottle({ intervalMs: 0, isNewer: () => true, emit: () => undefined }), RangeError);
  });
});

describe('isNewerCitySnapshot', () => {
  const s = (date: string, orders: number) => ({ date, cityCode: '440100', orders, succeeded: 0, failed: 0, amount: '0.00', durationMsSum: 0 });
  it('should prefer a later date, then more orders', () => {
    assert.equal(isNewerCitySnapshot(s('2026-01-02', 1), s('2026-01-01', 900)), true);
    assert.equal(isNewerCitySnapshot(s('2026-01-01', 900), s('2026-01-02', 1)), false);
    assert.equal(isNewerCitySnapshot(s('2026-01-01', 5), s('2026-01-01', 4)), true);
    assert.equal(isNewerCitySnapshot(s('2026-01-01', 4), s('2026-01-01', 4)), false);
  });
});
