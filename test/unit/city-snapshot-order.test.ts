import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNewerCitySnapshot } from '../../src/jobs/recharge-metrics/city-snapshot-order.js';

describe('isNewerCitySnapshot', () => {
  const s = (date: string, orders: number) => ({
    date,
    cityCode: '440100',
    orders,
    succeeded: 0,
    failed: 0,
    amount: '0.00',
    durationMsSum: 0,
  });
  it('should prefer a later date, then more orders', () => {
    assert.equal(isNewerCitySnapshot(s('2026-01-02', 1), s('2026-01-01', 900)), true);
    assert.equal(isNewerCitySnapshot(s('2026-01-01', 900), s('2026-01-02', 1)), false);
    assert.equal(isNewerCitySnapshot(s('2026-01-01', 5), s('2026-01-01', 4)), true);
    assert.equal(isNewerCitySnapshot(s('2026-01-01', 4), s('2026-01-01', 4)), false);
  });
});
