import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentOrderIds } from '../../src/jobs/recharge-metrics/recharge-recent-orders.js';

describe('RecentOrderIds', () => {
  it('should keep the last ids added, drop the oldest generation whole, and never exceed the capacity', () => {
    const ids = new RecentOrderIds(10);
    for (let i = 0; i < 12; i++) ids.add(`o${i}`);
    // Generations of 5: o0-o4 dropped when o10 opened a third one; o5-o11 kept.
    assert.deepEqual(
      Array.from({ length: 12 }, (_, i) => ids.has(`o${i}`)),
      [false, false, false, false, false, true, true, true, true, true, true, true],
    );
    assert.ok(ids.size <= 10);
    for (let i = 0; i < 1_000; i++) ids.add(`p${i}`);
    assert.ok(ids.size <= 10);
    assert.equal(ids.has('p999'), true);
    assert.equal(ids.has('o11'), false);
  });

  it('should forget everything on clear, and refuse a capacity below 2', () => {
    const ids = new RecentOrderIds(4);
    ids.add('a');
    ids.clear();
    assert.equal(ids.has('a'), false);
    assert.equal(ids.size, 0);
    assert.throws(() => new RecentOrderIds(1), RangeError);
    assert.throws(() => new RecentOrderIds(2.5), RangeError);
  });
});
