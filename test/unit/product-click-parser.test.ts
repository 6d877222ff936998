import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors/app-error.js';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';
import {
  formatProductClick,
  MAX_PRODUCT_ID_LENGTH,
  parseProductClick,
} from '../../src/jobs/hot-products/product-click-format.js';

// The documented example record of the format, event time in epoch milliseconds.
const SAMPLE =
  '{"event_time": 1554652800123, "product_id": "p1234", "action": "click", "user_id": "u_1233", "category": "phone"}';

function parseError(value: Buffer | string | null): MalformedRecordError {
  try {
    parseProductClick(value);
  } catch (err) {
    assert.ok(err instanceof MalformedRecordError, `expected MalformedRecordError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(value)} to be rejected`);
}

/** The sample with `field` set to `value` (undefined removes it). */
function withField(field: string, value: unknown): string {
  const obj = JSON.parse(SAMPLE) as Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a record without that field is the case under test
  if (value === undefined) delete obj[field];
  else obj[field] = value;
  return JSON.stringify(obj);
}

describe('parseProductClick', () => {
  it('should parse the format example into event time in milliseconds, product, action, user and category', () => {
    assert.deepEqual(parseProductClick(SAMPLE), {
      eventTimeMs: 1_554_652_800_123,
      productId: 'p1234',
      action: 'click',
      userId: 'u_1233',
      category: 'phone',
    });
  });

  it('should parse the same record given as UTF-8 bytes', () => {
    assert.deepEqual(parseProductClick(Buffer.from(SAMPLE)), parseProductClick(SAMPLE));
  });

  it('should accept a record without category, with a null one and with an empty one as uncategorised', () => {
    for (const value of [undefined, null, ''])
      assert.equal(parseProductClick(withField('category', value)).category, null);
  });

  it('should ignore fields it does not know', () => {
    assert.equal(parseProductClick(withField('referrer', 'search')).productId, 'p1234');
  });

  it('should keep any action: only the job decides that click ranks', () => {
    assert.equal(parseProductClick(withField('action', 'cart')).action, 'cart');
  });

  const cases: [name: string, value: Buffer | string | null, reason: string, mentions: string][] = [
    ['a tombstone', null, 'empty-value', 'null'],
    ['an empty value', Buffer.alloc(0), 'empty-value', 'empty'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'encoding', 'UTF-8'],
    ['text that is not JSON', '{"event_time": 1554652800123, "product_id": ', 'bad-json', 'not JSON'],
    ['single quotes', SAMPLE.replace(/"/g, "'"), 'bad-json', 'not JSON'],
    ['a JSON array', `[${SAMPLE}]`, 'not-an-object', 'an array'],
    ['a JSON string', '"p1234"', 'not-an-object', 'a string'],
    ['JSON null', 'null', 'not-an-object', 'null'],
    ['no event_time', withField('event_time', undefined), 'missing-field', 'event_time'],
    ['no product_id', withField('product_id', undefined), 'missing-field', 'product_id'],
    ['no action', withField('action', undefined), 'missing-field', 'action'],
    ['no user_id', withField('user_id', undefined), 'missing-field', 'user_id'],
    ['event_time in epoch seconds', withField('event_time', 1_554_652_800), 'event-time-unit', 'epoch seconds?'],
    [
      'event_time in microseconds',
      withField('event_time', 1_554_652_800_123_000),
      'event-time-unit',
      'epoch microseconds?',
    ],
    ['a small event_time of no unit', withField('event_time', 12_345), 'bad-event-time', '12345'],
    ['event_time as a string', withField('event_time', '1554652800123'), 'bad-event-time', 'a string'],
    ['event_time with a fraction', withField('event_time', 1_554_652_800_123.5), 'bad-event-time', 'integer'],
    ['a negative event_time', withField('event_time', -1), 'bad-event-time', '-1'],
    ['an event_time past 9999', withField('event_time', 253_402_300_800_000), 'bad-event-time', '9999'],
    ['an empty product_id', withField('product_id', ''), 'bad-product-id', 'product_id'],
    ['a numeric product_id', withField('product_id', 1234), 'bad-product-id', 'a number'],
    [
      'a product_id too long',
      withField('product_id', 'p'.repeat(MAX_PRODUCT_ID_LENGTH + 1)),
      'bad-product-id',
      `${MAX_PRODUCT_ID_LENGTH + 1}`,
    ],
    ['an empty action', withField('action', ''), 'bad-action', 'action'],
    ['an empty user_id', withField('user_id', ''), 'bad-user-id', 'user_id'],
    ['a numeric category', withField('category', 7), 'bad-category', 'category'],
    ['a category too long', withField('category', 'c'.repeat(65)), 'bad-category', '65'],
  ];
  for (const [name, value, reason, mentions] of cases) {
    it(`should reject ${name} with reason ${reason} and a message naming what was found`, () => {
      const err = parseError(value);
      assert.equal(err.reason, reason);
      assert.equal(err.code, 'MALFORMED_RECORD');
      assert.ok(err instanceof AppError);
      assert.ok(err.message.includes(mentions), `"${err.message}" should mention ${mentions}`);
    });
  }
});

describe('formatProductClick', () => {
  it('should build a value the parser reads back unchanged', () => {
    const e = { eventTimeMs: 1_767_225_600_000, productId: 'p9', action: 'view', userId: 'u_1', category: 'tv' };
    assert.deepEqual(parseProductClick(formatProductClick(e)), e);
  });

  it('should default the action to click and leave out a null category', () => {
    const text = formatProductClick({ eventTimeMs: 1_767_225_600_000, productId: 'p9', userId: 'u_1', category: null });
    assert.deepEqual(JSON.parse(text), {
      event_time: 1_767_225_600_000,
      product_id: 'p9',
      action: 'click',
      user_id: 'u_1',
    });
  });

  it('should refuse to build a record the parser would reject', () => {
    assert.throws(
      () => formatProductClick({ eventTimeMs: 1_554_652_800, productId: 'p9', userId: 'u_1' }),
      (err: unknown) => err instanceof MalformedRecordError && err.reason === 'event-time-unit',
    );
  });
});
