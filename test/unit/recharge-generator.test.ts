import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';
import { parseRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import { GUANGDONG_CITIES } from '../../src/jobs/recharge-metrics/guangdong-cities.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
const codes = new Set(GUANGDONG_CITIES.map((c) => c.code));
const ctx = { calendar, isKnownCity: (c: string) => codes.has(c) };

describe('generateRecharges', () => {
  const records = [...generateRecharges({ seed: 7, count: 20_000 })];

  it('should give the same records for the same seed, and others for another seed', () => {
    assert.deepEqual([...generateRecharges({ seed: 7, count: 500 })], records.slice(0, 500));
    assert.notDeepEqual(
      [...generateRecharges({ seed: 8, count: 500 })].map((r) => r.value),
      records.slice(0, 500).map((r) => r.value),
    );
  });

  it('should produce orders that parse, keyed by orderId, about 95% successful, 1-60 s long, common amounts, all cities', () => {
    const orders = records.filter((r) => r.kind === 'order').map((r) => ({ r, e: parseRecharge(r.value, ctx)! }));
    assert.ok(orders.length > 18_000);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the `!` above only types the later lines; this checks that every order parsed
    assert.ok(orders.every(({ r, e }) => e !== null && r.key === e.orderId && r.eventTimeMs === e.notifyTimeMs));
    assert.equal(new Set(orders.map(({ e }) => e.orderId)).size, orders.length);
    const success = orders.filter(({ e }) => e.succeeded).length / orders.length;
    assert.ok(success > 0.94 && success < 0.96, `success share ${success}`);
    assert.ok(orders.every(({ e }) => e.durationMs >= 1_000 && e.durationMs < 60_000));
    const yuan = new Set(
      orders
        .map(({ e }) => e.amountFen)
        .filter((f) => f % 100 === 0)
        .map((f) => f / 100),
    );
    assert.deepEqual(
      [...yuan].sort((a, b) => a - b),
      [10, 20, 30, 50, 100, 200, 300, 500],
    );
    assert.ok(
      orders.some(({ e }) => e.amountFen % 100 !== 0),
      'no amount with fen',
    );
    assert.equal(new Set(orders.map(({ e }) => e.cityCode)).size, 21);
  });

  it('should repeat earlier notify records as duplicates, and mix in skipped and malformed records with their reasons', () => {
    const seen = new Set<string>();
    let duplicates = 0;
    for (const r of records) {
      if (r.kind === 'order') seen.add(r.value);
      if (r.kind === 'duplicate') {
        duplicates++;
        assert.ok(seen.has(r.value), 'a duplicate of a record never sent');
      }
      if (r.kind === 'other-service') assert.equal(parseRecharge(r.value, ctx), null);
      if (r.kind === 'malformed') {
        assert.throws(
          () => parseRecharge(r.value, ctx),
          (err: unknown) => err instanceof MalformedRecordError && err.reason === r.malformed,
        );
      }
    }
    assert.ok(duplicates > 100, `${duplicates} duplicates`);
    assert.ok(records.filter((r) => r.kind === 'other-service').length > 500);
    assert.equal(new Set(records.filter((r) => r.kind === 'malformed').map((r) => r.malformed)).size, 5);
  });

  it('should follow the event clock: eventsPerSecond records per second from startTimeMs', () => {
    const start = Date.UTC(2026, 0, 1);
    const r = [
      ...generateRecharges({
        seed: 1,
        count: 201,
        startTimeMs: start,
        eventsPerSecond: 100,
        duplicateShare: 0,
        malformedShare: 0,
        otherServiceShare: 0,
      }),
    ];
    assert.equal(r[0].eventTimeMs, start);
    assert.equal(r[200].eventTimeMs, start + 2_000);
  });
});
