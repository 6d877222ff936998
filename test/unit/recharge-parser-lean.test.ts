import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseFull,
  parseLean,
  parseRecharge,
  type RechargeParseContext,
} from '../../src/jobs/recharge-metrics/recharge-format.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import { mulberry32 } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { GUANGDONG_CITIES } from '../../src/jobs/recharge-metrics/guangdong-cities.js';
import { assertSameParse, mutateRecord, timeParsers } from '../helpers/lean-parser-agreement.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
const KNOWN = new Set(GUANGDONG_CITIES.map((c) => c.code));
const ctx: RechargeParseContext = { calendar, isKnownCity: (c) => KNOWN.has(c) };

const lean = (value: Buffer) => parseRecharge(value, ctx);
const reference = (value: Buffer) => parseFull(value, ctx);

/** parseRecharge (lean path first) against the reference JSON.parse path, on the same bytes. */
const assertSame = (value: Buffer): void => assertSameParse(lean, reference, value);

/** Bytes worth putting anywhere: JSON structure, escapes, digits, non-ASCII, controls. */
const NASTY = [
  0x22, 0x5c, 0x3a, 0x2c, 0x7b, 0x7d, 0x20, 0x0a, 0x2e, 0x30, 0x39, 0x2d, 0x7f, 0xc3, 0xa9, 0xff, 0x00, 0x41,
];

const mutate = (value: Buffer, r: () => number): Buffer => mutateRecord(value, r, NASTY);

describe('parseRecharge lean path', () => {
  const generated = [...generateRecharges({ seed: 99, count: 5_000 })].map((g) => Buffer.from(g.value));

  it('should give exactly what the JSON.parse path gives for generated records of every kind', () => {
    for (const value of generated) assertSame(value);
    // The lean path did take the valid ones: the same event objects come back.
    const first = parseRecharge(generated[0], ctx);
    assert.ok(first === null || typeof first.orderId === 'string');
  });

  it('should give the same event or the same error (reason and message) for 30,000 mutated records', () => {
    const r = mulberry32(61024);
    for (let i = 0; i < 30_000; i++) assertSame(mutate(generated[i % generated.length], r));
  });

  it('should agree on the edge cases of the shapes it takes and declines', () => {
    const base = {
      orderId: '384663617178945213',
      serviceName: 'reChargeNotifyReq',
      bussinessRst: '0000',
      chargefee: '100.00',
      requestId: '20260101000007090581518228485394',
      receiveNotifyTime: '20260101000030017',
      provinceCode: '440000',
      cityCode: '440100',
    };
    const cases: string[] = [
      JSON.stringify(base),
      JSON.stringify(base, null, 1), // whitespace: declined, same answer
      JSON.stringify({ ...base, chargefee: '007' }),
      JSON.stringify({ ...base, chargefee: '0.5' }),
      JSON.stringify({ ...base, chargefee: '00.05' }),
      JSON.stringify({ ...base, chargefee: '99999999.99' }),
      JSON.stringify({ ...base, chargefee: '123456789' }),
      JSON.stringify({ ...base, chargefee: '1.' }),
      JSON.stringify({ ...base, chargefee: '.5' }),
      JSON.stringify({ ...base, chargefee: '1.234' }),
      JSON.stringify({ ...base, bussinessRst: '0001' }),
      JSON.stringify({ ...base, serviceName: 'sendRechargeReq', orderId: '' }),
      JSON.stringify({ ...base, serviceName: '' }),
      JSON.stringify({ ...base, orderId: 'A'.repeat(64) }),
      JSON.stringify({ ...base, orderId: 'A'.repeat(65) }),
      JSON.stringify({ ...base, orderId: 'a b' }),
      JSON.stringify({ ...base, orderId: 'x_.:-Z9' }),
      JSON.stringify({ ...base, cityCode: '449999' }),
      JSON.stringify({ ...base, receiveNotifyTime: '20260101000007090' }), // same as the request time: duration 0
      JSON.stringify({ ...base, receiveNotifyTime: '20260101000006999' }), // before the request
      JSON.stringify({ ...base, receiveNotifyTime: '20260230000000000' }),
      JSON.stringify({ ...base, receiveNotifyTime: '2026010100003001' }),
      JSON.stringify({ ...base, requestId: '2026010100000709' }),
      JSON.stringify({ ...base, provinceCode: undefined }),
      JSON.stringify({ ...base, extra: 'é' }),
      JSON.stringify({ ...base, orderId: 'a"b' }),
      `${JSON.stringify(base).slice(0, -1)},"orderId":"second"}`, // a key twice: the last counts
      `${JSON.stringify(base).slice(0, -1)},"chargefee":7}`, // a number value: declined
      `${JSON.stringify(base).slice(0, -1)},}`,
      '{}',
      '[]',
      '{"serviceName":"reChargeNotifyReq"',
    ];
    for (const c of cases) assertSame(Buffer.from(c));
    const twice = parseRecharge(Buffer.from(cases[26]), ctx);
    assert.equal(twice?.orderId, 'second');
  });

  it('should take every valid generated record on the lean path, and time both paths (timing printed, not asserted)', () => {
    const valid = generated.filter((v) => {
      try {
        parseFull(v, ctx);
        return true;
      } catch {
        return false;
      }
    });
    // Valid means what the reference accepts: an event, or null for another service's record.
    const taken = valid.filter((v) => parseLean(v, ctx) !== undefined).length;
    assert.ok(valid.length > 4_000, `most generated records are valid (${valid.length})`);
    assert.equal(
      taken,
      valid.length,
      `the lean path declined ${valid.length - taken} of ${valid.length} valid records`,
    );
    const events = valid.filter((v) => parseFull(v, ctx) !== null);
    const { leanMicros, referenceMicros } = timeParsers(lean, reference, events);
    console.log(
      `parseRecharge: lean ${leanMicros.toFixed(2)} µs, JSON.parse path ${referenceMicros.toFixed(2)} µs per record`,
    );
  });
});
