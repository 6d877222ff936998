import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFen } from '../../src/domain/money.js';
import type { RechargeEvent } from '../../src/jobs/recharge-metrics/recharge.js';
import {
  aggregateRecharges,
  firstOfEachOrder,
  minuteStartOf,
} from '../../src/jobs/recharge-metrics/recharge-aggregation.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
/** Local midnight starting 2026-01-01 in Shanghai: 2025-12-31T16:00:00Z. */
const MIDNIGHT = Date.UTC(2025, 11, 31, 16);

function order(orderId: string, notifyTimeMs: number, o: Partial<RechargeEvent> = {}): RechargeEvent {
  const durationMs = o.durationMs ?? 10_000;
  return {
    orderId,
    succeeded: true,
    amountFen: 5_000,
    requestTimeMs: notifyTimeMs - durationMs,
    notifyTimeMs,
    durationMs,
    provinceCode: '440000',
    cityCode: '440100',
    ...o,
  };
}

describe('firstOfEachOrder', () => {
  it('should keep each orderId once, at its first occurrence, in batch order', () => {
    const a1 = order('a', 1);
    const b = order('b', 2);
    const a2 = order('a', 3, { succeeded: false });
    const c = order('c', 4);
    assert.deepEqual(firstOfEachOrder([a1, b, a2, c, b]), [a1, b, c]);
  });
});

describe('aggregateRecharges', () => {
  it('should split days at local midnight in Asia/Shanghai and minutes at UTC minute starts', () => {
    const { daily, minutes } = aggregateRecharges(
      [
        order('1', MIDNIGHT - 1, { amountFen: 1_000 }), // 2025-12-31 23:59:59.999 local
        order('2', MIDNIGHT, { amountFen: 2_000 }), // 2026-01-01 00:00:00.000 local
        order('3', MIDNIGHT + 59_999, { amountFen: 3_000 }),
        order('4', MIDNIGHT + 60_000, { amountFen: 4_000 }),
      ],
      calendar,
    );
    assert.deepEqual(
      daily.map((d) => [d.day, d.orders, formatFen(d.amountFen)]),
      [
        ['2025-12-31', 1, '10.00'],
        ['2026-01-01', 3, '90.00'],
      ],
    );
    assert.deepEqual(
      minutes.map((m) => [new Date(m.minuteStartMs).toISOString(), m.orders, formatFen(m.amountFen)]),
      [
        ['2025-12-31T15:59:00.000Z', 1, '10.00'],
        ['2025-12-31T16:00:00.000Z', 2, '50.00'],
        ['2025-12-31T16:01:00.000Z', 1, '40.00'],
      ],
    );
  });

  it('should count failures in orders, failed and durations but never in the amount', () => {
    const { daily, minutes } = aggregateRecharges(
      [
        order('1', MIDNIGHT + 1_000, { amountFen: 10_000, durationMs: 1_000 }),
        order('2', MIDNIGHT + 2_000, { amountFen: 20_000, durationMs: 60_000, succeeded: false }),
        order('3', MIDNIGHT + 3_000, { amountFen: 4_975, durationMs: 30_500 }),
      ],
      calendar,
    );
    assert.deepEqual(daily, [
      {
        day: '2026-01-01',
        cityCode: '440100',
        orders: 3,
        succeeded: 2,
        failed: 1,
        amountFen: 14_975,
        durationMsSum: 91_500,
      },
    ]);
    assert.deepEqual(minutes, [{ minuteStartMs: MIDNIGHT, orders: 3, succeeded: 2, amountFen: 14_975 }]);
  });

  it('should sort rows by primary key so that concurrent batches lock them in one order', () => {
    const { daily, minutes } = aggregateRecharges(
      [
        order('1', MIDNIGHT + 120_000, { cityCode: '445300' }),
        order('2', MIDNIGHT - 5, { cityCode: '441900' }),
        order('3', MIDNIGHT + 5, { cityCode: '440300' }),
        order('4', MIDNIGHT + 6, { cityCode: '440100' }),
      ],
      calendar,
    );
    assert.deepEqual(
      daily.map((d) => `${d.day}/${d.cityCode}`),
      ['2025-12-31/441900', '2026-01-01/440100', '2026-01-01/440300', '2026-01-01/445300'],
    );
    assert.deepEqual(
      minutes.map((m) => m.minuteStartMs - MIDNIGHT),
      [-60_000, 0, 120_000],
    );
  });

  it('should floor minute starts for instants before 1970 too', () => {
    assert.equal(minuteStartOf(-1), -60_000);
    assert.equal(minuteStartOf(59_999), 0);
  });
});
