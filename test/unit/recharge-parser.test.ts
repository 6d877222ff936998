import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';
import { decimalToFen, formatFen } from '../../src/domain/money.js';
import {
  formatLocalTime,
  formatRecharge,
  parseLocalTime,
  parseRecharge,
  parseYuanToFen,
  type RechargeParseContext,
} from '../../src/jobs/recharge-metrics/recharge-format.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
const KNOWN = new Set(['440100', '440300']);
const ctx: RechargeParseContext = { calendar, isKnownCity: (c) => KNOWN.has(c) };

/** A valid notify record in the real log's shape, with fields replaced or removed (undefined). */
function record(overrides: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    bussinessRst: '0000',
    channelCode: '0705',
    chargefee: '100.00',
    clientIp: '222.214.151.245',
    gateway_id: 'CMPAY',
    orderId: '384663617178945213',
    provinceCode: '440000',
    cityCode: '440100',
    receiveNotifyTime: '20260101000030017',
    requestId: '20260101000007090581518228485394',
    serviceName: 'reChargeNotifyReq',
    shouldfee: '99.50',
  };
  for (const [k, v] of Object.entries(overrides)) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a record without that field is the case under test
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return JSON.stringify(base);
}

function reasonOf(value: Buffer | string | null): { reason: string; message: string } {
  try {
    parseRecharge(value, ctx);
  } catch (err) {
    assert.ok(err instanceof MalformedRecordError, `expected MalformedRecordError, got ${String(err)}`);
    assert.equal(err.code, 'MALFORMED_RECORD');
    return { reason: err.reason, message: err.message };
  }
  assert.fail(`expected ${String(value)} to be rejected`);
}

describe('parseRecharge', () => {
  it('should parse a notify record: success, fen, request and notify times in Asia/Shanghai, duration, city', () => {
    const e = parseRecharge(record(), ctx)!;
    assert.equal(e.orderId, '384663617178945213');
    assert.equal(e.succeeded, true);
    assert.equal(e.amountFen, 10_000);
    // 2026-01-01 00:00:30.017 in Shanghai (UTC+8) is 2025-12-31 16:00:30.017 UTC.
    assert.equal(e.notifyTimeMs, Date.UTC(2025, 11, 31, 16, 0, 30, 17));
    assert.equal(e.requestTimeMs, Date.UTC(2025, 11, 31, 16, 0, 7, 90));
    assert.equal(e.durationMs, 22_927);
    assert.equal(e.cityCode, '440100');
    assert.equal(e.provinceCode, '440000');
  });

  it('should accept bytes as well as text, and count any other bussinessRst as a failure', () => {
    const e = parseRecharge(Buffer.from(record({ bussinessRst: '0001' })), ctx)!;
    assert.equal(e.succeeded, false);
    assert.equal(e.amountFen, 10_000);
  });

  it('should skip (return null, not throw) a valid record of another service, whatever its other fields', () => {
    assert.equal(parseRecharge(JSON.stringify({ serviceName: 'sendRechargeReq', orderId: '1' }), ctx), null);
    assert.equal(
      parseRecharge(record({ serviceName: 'payNotifyReq', cityCode: 'nowhere', chargefee: 'x' }), ctx),
      null,
    );
  });

  it('should reject an empty value, bytes that are not UTF-8, and text that is not a JSON object with bad-json', () => {
    assert.equal(reasonOf(null).reason, 'empty-value');
    assert.equal(reasonOf(Buffer.alloc(0)).reason, 'empty-value');
    assert.equal(reasonOf('   ').reason, 'empty-value');
    assert.equal(reasonOf(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])).reason, 'encoding');
    assert.equal(reasonOf('{"orderId": "1", ').reason, 'bad-json');
    assert.equal(reasonOf('[1, 2]').reason, 'bad-json');
    assert.equal(reasonOf('"reChargeNotifyReq"').reason, 'bad-json');
    assert.equal(reasonOf('null').reason, 'bad-json');
  });

  it('should reject each required field when absent, null or empty with missing-field, naming it', () => {
    for (const field of [
      'serviceName',
      'orderId',
      'bussinessRst',
      'chargefee',
      'requestId',
      'receiveNotifyTime',
      'provinceCode',
      'cityCode',
    ]) {
      for (const v of [undefined, null, '']) {
        const { reason, message } = reasonOf(record({ [field]: v }));
        assert.equal(reason, 'missing-field', `${field} = ${String(v)}`);
        assert.match(message, new RegExp(`^${field}:`));
      }
    }
  });

  it('should reject a field that is not a string, or a bad orderId, with bad-field', () => {
    assert.equal(reasonOf(record({ chargefee: 100 })).reason, 'bad-field');
    assert.equal(reasonOf(record({ cityCode: 440100 })).reason, 'bad-field');
    assert.equal(reasonOf(record({ orderId: 'a b' })).reason, 'bad-field');
    assert.equal(reasonOf(record({ orderId: 'x'.repeat(65) })).reason, 'bad-field');
    assert.equal(parseRecharge(record({ orderId: 'x'.repeat(64) }), ctx)!.orderId.length, 64);
  });

  it('should reject a notify time or request time that is not a real yyyyMMddHHmmssSSS time with bad-time', () => {
    for (const t of [
      '2026010100003001',
      '202601010000300170',
      '2026013100003x017',
      '20261301000030017',
      '20260230000030017',
      '20260101240030017',
      '20260101006030017',
      '20260101000060017',
    ]) {
      assert.equal(reasonOf(record({ receiveNotifyTime: t })).reason, 'bad-time', t);
    }
    assert.equal(reasonOf(record({ requestId: '2026010100000' })).reason, 'bad-time');
    assert.equal(reasonOf(record({ requestId: 'abc20260101000007090' })).reason, 'bad-time');
    // 29 February exists in 2028 only.
    assert.equal(
      reasonOf(record({ receiveNotifyTime: '20270229000030017', requestId: '20270228000007090' })).reason,
      'bad-time',
    );
    assert.ok(parseRecharge(record({ receiveNotifyTime: '20280229000030017', requestId: '20280229000007090' }), ctx));
  });

  it('should reject a notify time before the request time with bad-duration, and accept a zero duration', () => {
    assert.equal(reasonOf(record({ requestId: '20260101000031000123' })).reason, 'bad-duration');
    assert.equal(parseRecharge(record({ requestId: '20260101000030017999' }), ctx)!.durationMs, 0);
  });

  it('should reject a negative, exponent, over-precise, too large or non-decimal amount with bad-amount', () => {
    for (const fee of ['-1', '+1', '1e3', '1.005', '1.', '.5', '1,5', ' 1', 'NaN', '123456789', '１０']) {
      assert.equal(reasonOf(record({ chargefee: fee })).reason, 'bad-amount', fee);
    }
  });

  it('should reject a city that is not in the city table with unknown-city', () => {
    const { reason, message } = reasonOf(record({ cityCode: '449999' }));
    assert.equal(reason, 'unknown-city');
    assert.match(message, /cityCode: .*"449999"/);
    // Without a city list, any code passes.
    assert.equal(parseRecharge(record({ cityCode: '449999' }), { calendar })!.cityCode, '449999');
  });
});

describe('yuan and fen', () => {
  it('should convert yuan strings to exact fen from the digits', () => {
    assert.equal(parseYuanToFen('0.1'), 10);
    assert.equal(parseYuanToFen('0.01'), 1);
    assert.equal(parseYuanToFen('1.10'), 110);
    assert.equal(parseYuanToFen('19.99'), 1999);
    assert.equal(parseYuanToFen('100'), 10_000);
    assert.equal(parseYuanToFen('0'), 0);
    assert.equal(parseYuanToFen('007.5'), 750);
    assert.equal(parseYuanToFen('99999999.99'), 9_999_999_999);
    // Where floats go wrong: 1.15 * 100 = 114.99999999999999, 4.35 * 100 = 434.99999999999994.
    assert.equal(parseYuanToFen('1.15'), 115);
    assert.equal(parseYuanToFen('4.35'), 435);
  });

  it('should sum to the cent where floats drift: 0.1 yuan ten thousand times is 1000.00', () => {
    let fen = 0;
    let float = 0;
    for (let i = 0; i < 10_000; i++) {
      fen += parseYuanToFen('0.1');
      float += 0.1;
    }
    assert.equal(formatFen(fen), '1000.00');
    assert.notEqual(float, 1000);
  });

  it('should format fen as yuan with exactly 2 decimals and read MySQL decimals back to fen', () => {
    assert.equal(formatFen(0), '0.00');
    assert.equal(formatFen(5), '0.05');
    assert.equal(formatFen(123_450), '1234.50');
    assert.equal(formatFen(-10), '-0.10');
    assert.equal(formatFen(123_456_789_012_345_678n), '1234567890123456.78');
    assert.equal(decimalToFen('1234.50'), 123_450n);
    assert.equal(decimalToFen('-0.10'), -10n);
    assert.equal(decimalToFen('7'), 700n);
    assert.equal(decimalToFen('0.5'), 50n);
    assert.throws(() => decimalToFen('1.234'), RangeError);
  });
});

describe('local times', () => {
  it('should read the same wall clock as different instants on each side of midnight in Asia/Shanghai', () => {
    const before = parseLocalTime('20251231235959999', calendar)!;
    const after = parseLocalTime('20260101000000000', calendar)!;
    assert.equal(after - before, 1);
    assert.equal(new Date(before).toISOString(), '2025-12-31T15:59:59.999Z');
    assert.equal(calendar.dateOf(before), '2025-12-31');
    assert.equal(calendar.dateOf(after), '2026-01-01');
    // The same instants are one UTC day: the day buckets must follow the zone, not UTC.
    assert.equal(new Date(before).toISOString().slice(0, 10), new Date(after).toISOString().slice(0, 10));
  });

  it('should give a duration across local midnight from times on two dates', () => {
    const e = parseRecharge(
      record({ requestId: '20251231235950000777', receiveNotifyTime: '20260101000010500' }),
      ctx,
    )!;
    assert.equal(e.durationMs, 20_500);
    assert.equal(calendar.dateOf(e.notifyTimeMs), '2026-01-01');
    assert.equal(calendar.dateOf(e.requestTimeMs), '2025-12-31');
  });

  it('should format and parse back every field of a local time, and formatRecharge should round-trip', () => {
    const t = Date.UTC(2026, 1, 28, 16, 59, 58, 7); // 2026-03-01 00:59:58.007 in Shanghai
    assert.equal(formatLocalTime(t, calendar), '20260301005958007');
    assert.equal(parseLocalTime(formatLocalTime(t, calendar), calendar), t);
    const value = formatRecharge(
      {
        orderId: 'o-1',
        chargefee: '49.75',
        bussinessRst: '0034',
        requestTimeMs: t - 1500,
        notifyTimeMs: t,
        cityCode: '440300',
      },
      calendar,
    );
    const e = parseRecharge(value, ctx)!;
    assert.deepEqual(
      { ...e },
      {
        orderId: 'o-1',
        succeeded: false,
        amountFen: 4975,
        requestTimeMs: t - 1500,
        notifyTimeMs: t,
        durationMs: 1500,
        provinceCode: '440000',
        cityCode: '440300',
      },
    );
  });
});
