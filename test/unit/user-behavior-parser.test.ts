import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors/app-error.js';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';
import {
  formatUserBehavior,
  parseUserBehavior,
  USER_BEHAVIOR_FIELD_COUNT,
  UserBehaviorReader,
  type UserBehaviorLineInput,
} from '../../src/jobs/user-behavior/user-behavior-format.js';

// The sample line of the app log format (uid 61024, enterOrderPage, 2019-04-07T16:00:00Z).
const SAMPLE =
  '61024\t61024\tM\t1\t0\tios\ttoutiao\twifi\t42.86.6.0\t18701461024\t0\t0\t0\t0\t2.0\tenterOrderPage\t1554652800';

/** The sample line with field `index` replaced. */
function withField(index: number, value: string): string {
  const f = SAMPLE.split('\t');
  f[index] = value;
  return f.join('\t');
}

/** Runs the parser, expecting a MalformedRecordError, and returns it. */
function parseError(value: Buffer | string | null): MalformedRecordError {
  try {
    parseUserBehavior(value);
  } catch (err) {
    assert.ok(err instanceof MalformedRecordError, `expected MalformedRecordError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(value)} to be rejected`);
}

describe('parseUserBehavior', () => {
  it('should parse the format sample line into uid, phone, eventKey and event time in milliseconds', () => {
    const e = parseUserBehavior(SAMPLE);
    assert.equal(e.uid, '61024');
    assert.equal(e.phone, '18701461024');
    assert.equal(e.eventKey, 'enterOrderPage');
    assert.equal(e.eventTimeMs, 1_554_652_800_000);
    assert.equal(e.fields.length, USER_BEHAVIOR_FIELD_COUNT);
    assert.deepEqual(e.fields, SAMPLE.split('\t'));
  });

  it('should parse the same line given as UTF-8 bytes', () => {
    assert.deepEqual(parseUserBehavior(Buffer.from(SAMPLE, 'utf8')), parseUserBehavior(SAMPLE));
  });

  for (const [name, ending] of [
    ['CRLF', '\r\n'],
    ['LF', '\n'],
    ['CR', '\r'],
  ] as const) {
    it(`should tolerate and strip a trailing ${name}`, () => {
      const e = parseUserBehavior(SAMPLE + ending);
      assert.equal(e.eventTimeMs, 1_554_652_800_000);
      assert.equal(e.fields[16], '1554652800');
      assert.deepEqual(parseUserBehavior(Buffer.from(SAMPLE + ending)).fields, SAMPLE.split('\t'));
    });
  }

  it('should accept the edges of every checked field', () => {
    const edge = parseUserBehavior(
      formatUserBehavior({
        uid: 'u'.repeat(128),
        phone: `+${'9'.repeat(16)}`,
        eventKey: 'x',
        eventTimeSec: 99_999_999_999,
      }),
    );
    assert.equal(edge.uid.length, 128);
    assert.equal(edge.phone, `+${'9'.repeat(16)}`);
    assert.equal(edge.eventTimeMs, 99_999_999_999_000);
    assert.equal(parseUserBehavior(withField(16, '0')).eventTimeMs, 0);
    assert.equal(parseUserBehavior(withField(9, '7')).phone, '7');
  });

  it('should keep non-ASCII text of carried fields', () => {
    assert.equal(parseUserBehavior(Buffer.from(withField(6, '应用宝'))).fields[6], '应用宝');
  });

  const rejected: {
    what: string;
    value: Buffer | string | null;
    reason: string;
    field?: number;
    mentions: string[];
  }[] = [
    { what: 'null (a tombstone)', value: null, reason: 'empty-value', mentions: ['value:', 'null'] },
    { what: 'an empty string', value: '', reason: 'empty-value', mentions: ['value:', 'empty'] },
    { what: 'an empty buffer', value: Buffer.alloc(0), reason: 'empty-value', mentions: ['value:', 'empty'] },
    { what: 'only a line break', value: '\r\n', reason: 'empty-value', mentions: ['value:', 'empty line'] },
    {
      what: 'bytes that are not UTF-8',
      value: Buffer.from([0x36, 0x31, 0xff, 0xfe, 0x09]),
      reason: 'encoding',
      mentions: ['UTF-8', '5 bytes'],
    },
    {
      what: '16 fields',
      value: SAMPLE.split('\t').slice(0, 16).join('\t'),
      reason: 'field-count',
      mentions: ['expected 17 tab-separated fields', 'got 16'],
    },
    { what: '18 fields', value: `${SAMPLE}\textra`, reason: 'field-count', mentions: ['expected 17', 'got 18'] },
    {
      what: 'comma-separated fields',
      value: SAMPLE.replaceAll('\t', ','),
      reason: 'field-count',
      mentions: ['expected 17', 'got 1'],
    },
    {
      what: 'an empty uid',
      value: withField(0, ''),
      reason: 'empty-uid',
      field: 0,
      mentions: ['field 0 (uid)', 'non-empty', 'got ""'],
    },
    {
      what: 'a 129-character uid',
      value: withField(0, 'u'.repeat(129)),
      reason: 'uid-too-long',
      field: 0,
      mentions: ['field 0 (uid)', 'at most 128', '129 characters'],
    },
    {
      what: 'an empty phone',
      value: withField(9, ''),
      reason: 'bad-phone',
      field: 9,
      mentions: ['field 9 (phone)', '1 to 16 digits', 'got ""'],
    },
    {
      what: 'a non-numeric phone',
      value: withField(9, 'abc'),
      reason: 'bad-phone',
      field: 9,
      mentions: ['field 9 (phone)', 'got "abc"'],
    },
    {
      what: 'a phone with dashes',
      value: withField(9, '187-0146-1024'),
      reason: 'bad-phone',
      field: 9,
      mentions: ['"187-0146-1024"'],
    },
    { what: 'a lone "+" phone', value: withField(9, '+'), reason: 'bad-phone', field: 9, mentions: ['got "+"'] },
    {
      what: 'a "+" inside the phone',
      value: withField(9, '1+23'),
      reason: 'bad-phone',
      field: 9,
      mentions: ['got "1+23"'],
    },
    {
      what: 'a 17-digit phone',
      value: withField(9, '1'.repeat(17)),
      reason: 'bad-phone',
      field: 9,
      mentions: ['field 9 (phone)'],
    },
    {
      what: 'an empty eventKey',
      value: withField(15, ''),
      reason: 'empty-event-key',
      field: 15,
      mentions: ['field 15 (eventKey)', 'got ""'],
    },
    {
      what: 'a non-numeric event time',
      value: withField(16, 'abc'),
      reason: 'bad-event-time',
      field: 16,
      mentions: ['field 16 (eventTime): expected epoch seconds as an integer', 'got "abc"'],
    },
    {
      what: 'an event time in milliseconds',
      value: withField(16, '1554652800000'),
      reason: 'event-time-unit',
      field: 16,
      mentions: [
        'field 16 (eventTime): expected epoch SECONDS',
        '1554652800000 (13 digits: milliseconds or microseconds',
      ],
    },
    {
      what: 'an event time in microseconds',
      value: withField(16, '1554652800000000'),
      reason: 'event-time-unit',
      field: 16,
      mentions: ['16 digits'],
    },
    {
      what: 'an event time of 20 digits (no time in any unit)',
      value: withField(16, '15546528000000000000'),
      reason: 'bad-event-time',
      field: 16,
      mentions: ['"15546528000000000000"'],
    },
    {
      what: 'a fractional event time',
      value: withField(16, '1554652800.5'),
      reason: 'bad-event-time',
      field: 16,
      mentions: ['"1554652800.5"'],
    },
    {
      what: 'a negative event time',
      value: withField(16, '-1'),
      reason: 'bad-event-time',
      field: 16,
      mentions: ['"-1"'],
    },
    {
      what: 'an empty event time',
      value: withField(16, ''),
      reason: 'bad-event-time',
      field: 16,
      mentions: ['field 16 (eventTime)', 'got ""'],
    },
    {
      what: 'an event time with a space',
      value: withField(16, ' 1554652800'),
      reason: 'bad-event-time',
      field: 16,
      mentions: ['" 1554652800"'],
    },
    {
      what: 'an ISO event time',
      value: withField(16, '2019-04-07T16:00:00Z'),
      reason: 'bad-event-time',
      field: 16,
      mentions: ['"2019-04-07T16:00:00Z"'],
    },
  ];
  for (const c of rejected) {
    it(`should reject ${c.what} with reason ${c.reason} and say what was expected and found`, () => {
      const err = parseError(c.value);
      assert.equal(err.reason, c.reason);
      assert.equal(err.code, 'MALFORMED_RECORD');
      assert.equal(err.field, c.field);
      for (const m of c.mentions)
        assert.ok(
          err.message.includes(m),
          `message ${JSON.stringify(err.message)} should mention ${JSON.stringify(m)}`,
        );
    });
  }

  it('should throw an AppError subclass named MalformedRecordError', () => {
    const err = parseError(withField(16, 'abc'));
    assert.ok(err instanceof AppError);
    assert.equal(err.name, 'MalformedRecordError');
  });

  it('should report the first bad field when several are bad', () => {
    const f = SAMPLE.split('\t');
    f[9] = 'x';
    f[16] = 'y';
    assert.equal(parseError(f.join('\t')).reason, 'bad-phone');
  });

  it('should cut a very long found value in the message', () => {
    const err = parseError(withField(9, 'x'.repeat(10_000)));
    assert.ok(err.message.length < 200, `message is ${err.message.length} characters`);
    assert.ok(err.message.includes('…'));
  });

  it('should not strip line breaks in the middle of the line', () => {
    // A line break inside the last field is still part of it.
    assert.equal(parseError(withField(16, '1554652800\n1')).reason, 'bad-event-time');
  });
});

describe('formatUserBehavior', () => {
  it('should reproduce the format sample line from its four used fields (defaults are the sample values)', () => {
    assert.equal(
      formatUserBehavior({
        uid: '61024',
        phone: '18701461024',
        eventKey: 'enterOrderPage',
        eventTimeSec: 1_554_652_800,
      }),
      SAMPLE,
    );
  });

  it('should round-trip every field through parseUserBehavior', () => {
    const input: UserBehaviorLineInput = {
      uid: 'u-42',
      deviceId: 'd-9',
      gender: 'F',
      attr3: '0',
      attr4: '1',
      os: 'android',
      channel: 'weixin',
      network: '5g',
      ip: '10.1.2.0',
      phone: '+8613800138000',
      flags: ['1', '0', '1', '0'],
      appVersion: '3.0',
      eventKey: 'addCart',
      eventTimeSec: 1_700_000_123,
    };
    const e = parseUserBehavior(formatUserBehavior(input));
    assert.equal(e.uid, input.uid);
    assert.equal(e.phone, input.phone);
    assert.equal(e.eventKey, input.eventKey);
    assert.equal(e.eventTimeMs, input.eventTimeSec * 1000);
    assert.deepEqual(e.fields, [
      'u-42',
      'd-9',
      'F',
      '0',
      '1',
      'android',
      'weixin',
      '5g',
      '10.1.2.0',
      '+8613800138000',
      '1',
      '0',
      '1',
      '0',
      '3.0',
      'addCart',
      '1700000123',
    ]);
  });

  it('should refuse a field holding a tab or a line break', () => {
    const base = { uid: '1', phone: '1', eventKey: 'startApp', eventTimeSec: 1 };
    assert.throws(() => formatUserBehavior({ ...base, channel: 'a\tb' }), { reason: 'field-count', field: 6 });
    assert.throws(() => formatUserBehavior({ ...base, eventKey: 'a\nb' }), { reason: 'field-count', field: 15 });
  });

  it('should refuse values the parser would reject', () => {
    const base = { uid: '1', phone: '1', eventKey: 'startApp', eventTimeSec: 1 };
    assert.throws(() => formatUserBehavior({ ...base, eventTimeSec: 1.5 }), { reason: 'bad-event-time' });
    assert.throws(() => formatUserBehavior({ ...base, eventTimeSec: -1 }), { reason: 'bad-event-time' });
    assert.throws(() => formatUserBehavior({ ...base, eventTimeSec: 1_554_652_800_000 }), {
      reason: 'event-time-unit',
    });
    assert.throws(() => formatUserBehavior({ ...base, phone: 'n/a' }), { reason: 'bad-phone' });
    assert.throws(() => formatUserBehavior({ ...base, uid: '' }), { reason: 'empty-uid' });
    assert.throws(() => formatUserBehavior({ ...base, eventKey: '' }), { reason: 'empty-event-key' });
  });
});

describe('UserBehaviorReader', () => {
  it('should read the used fields of the sample line from its bytes, making strings only on request', () => {
    const r = new UserBehaviorReader();
    r.read(Buffer.from(SAMPLE + '\r\n'));
    assert.equal(r.eventTimeMs, 1_554_652_800_000);
    assert.equal(r.eventKeyIs('enterOrderPage'), true);
    assert.equal(r.eventKeyIs('enterOrderPag'), false);
    assert.equal(r.eventKeyIs('enterOrderPagf'), false);
    assert.equal(r.eventKeyIs('viewProduct'), false);
    assert.equal(r.uid(), '61024');
    assert.equal(r.phone(), '18701461024');
    assert.equal(r.eventKey(), 'enterOrderPage');
  });

  it('should count the uid limit in UTF-16 code units, not in bytes', () => {
    const r = new UserBehaviorReader();
    const cjk = '用'.repeat(128); // 384 bytes of UTF-8
    r.read(Buffer.from(withField(0, cjk)));
    assert.equal(r.uid(), cjk);
    assert.throws(
      () => r.read(Buffer.from(withField(0, cjk + '户'))),
      (err: unknown) =>
        err instanceof MalformedRecordError && err.reason === 'uid-too-long' && err.message.includes('129 characters'),
    );
  });

  it('should hold the next record after each read, and no record after a rejected one', () => {
    const r = new UserBehaviorReader();
    r.read(withField(0, 'a'));
    r.read(Buffer.from(withField(0, 'bb')));
    assert.equal(r.uid(), 'bb');
    assert.throws(() => r.read(withField(16, 'x')), MalformedRecordError);
    assert.equal(r.uid(), '');
    assert.equal(r.eventKeyIs('enterOrderPage'), false);
  });

  it('should read the same fields as parseUserBehavior', () => {
    const r = new UserBehaviorReader();
    for (const line of [SAMPLE, withField(9, '+8613800000000'), withField(15, 'viewProduct'), withField(6, '应用宝')]) {
      const e = parseUserBehavior(line);
      r.read(Buffer.from(line));
      assert.deepEqual(
        { uid: r.uid(), phone: r.phone(), eventKey: r.eventKey(), eventTimeMs: r.eventTimeMs },
        { uid: e.uid, phone: e.phone, eventKey: e.eventKey, eventTimeMs: e.eventTimeMs },
      );
    }
  });
});
