import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAdClick, parseAdClick, wrongUnitOf } from '../../src/jobs/ad-clicks/ad-click-format.js';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';

const T = Date.UTC(2026, 0, 1, 12);
const valid = { event_time: T + 123, ad_id: 'ad17', user_id: 'u_42', ip: '203.0.113.7' };

function reasonOf(value: Buffer | string | null): string {
  try {
    parseAdClick(value);
  } catch (err) {
    assert.ok(err instanceof MalformedRecordError, String(err));
    return err.reason;
  }
  assert.fail(`parsed: ${String(value)}`);
}

describe('parseAdClick', () => {
  it('should parse a valid record, from bytes or text, extra fields ignored', () => {
    const expected = { eventTimeMs: T + 123, adId: 'ad17', userId: 'u_42', ip: '203.0.113.7' };
    assert.deepEqual(parseAdClick(Buffer.from(JSON.stringify(valid))), expected);
    assert.deepEqual(parseAdClick(JSON.stringify({ ...valid, extra: [1] })), expected);
    assert.deepEqual(parseAdClick(JSON.stringify({ ...valid, ip: '2001:db8::1' })).ip, '2001:db8::1');
  });

  it('should give back what formatAdClick wrote', () => {
    const e = { eventTimeMs: T, adId: 'ad1', userId: 'bot_1', ip: '198.51.100.7' };
    assert.deepEqual(parseAdClick(formatAdClick(e)), e);
  });

  it('should name the reason of every malformed record', () => {
    const cases: [Buffer | string | null, string][] = [
      [null, 'empty-value'],
      ['', 'empty-value'],
      [Buffer.from([0xff, 0xfe, 0x7b]), 'encoding'],
      ['{"event_time":', 'bad-json'],
      ['[1,2]', 'not-an-object'],
      ['42', 'not-an-object'],
      [JSON.stringify({ ...valid, ad_id: undefined }), 'missing-field'],
      [JSON.stringify({ ...valid, event_time: undefined }), 'missing-field'],
      [JSON.stringify({ ...valid, ip: undefined }), 'missing-field'],
      [JSON.stringify({ ...valid, event_time: String(T) }), 'bad-event-time'],
      [JSON.stringify({ ...valid, event_time: T + 0.5 }), 'bad-event-time'],
      [JSON.stringify({ ...valid, event_time: 12 }), 'bad-event-time'],
      [JSON.stringify({ ...valid, ad_id: '' }), 'bad-ad-id'],
      [JSON.stringify({ ...valid, ad_id: 'a'.repeat(65) }), 'bad-ad-id'],
      [JSON.stringify({ ...valid, user_id: 7 }), 'bad-user-id'],
      [JSON.stringify({ ...valid, ip: '300.1.1.1' }), 'bad-ip'],
      [JSON.stringify({ ...valid, ip: 'localhost' }), 'bad-ip'],
    ];
    for (const [value, reason] of cases) assert.equal(reasonOf(value), reason, String(value));
  });

  it('should refuse epoch seconds, microseconds and nanoseconds as event-time-unit', () => {
    for (const time of [Math.floor(T / 1000), T * 1000, T * 1_000_000]) {
      assert.equal(reasonOf(JSON.stringify({ ...valid, event_time: time })), 'event-time-unit', String(time));
    }
    assert.equal(wrongUnitOf(Math.floor(T / 1000)), 'seconds');
    assert.equal(wrongUnitOf(T * 1000), 'microseconds');
    assert.equal(wrongUnitOf(T * 1_000_000), 'nanoseconds');
    assert.equal(wrongUnitOf(12), null);
  });

  it('should say in the message which field is wrong and what it found', () => {
    assert.throws(
      () => parseAdClick(JSON.stringify({ ...valid, ip: 'nope' })),
      (err: MalformedRecordError) => err.message.includes('ip:') && err.message.includes('"nope"'),
    );
  });
});
