import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteStringCache } from '../../src/ingest/formats/byte-string-cache.js';
import { parseFull, parseLean, parseProductClick } from '../../src/jobs/hot-products/product-click-format.js';
import { generateProductClicks } from '../../src/jobs/hot-products/product-click-generator.js';
import { mulberry32 } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { assertSameParse, mutateRecord, timeParsers } from '../helpers/lean-parser-agreement.js';

/** parseProductClick (lean path first) against the reference JSON.parse path, on the same bytes. */
const assertSame = (value: Buffer): void => assertSameParse(parseProductClick, parseFull, value);

/** Bytes worth putting anywhere: JSON structure, escapes, digits, signs, non-ASCII, controls, `null`'s letters. */
const NASTY = [
  0x22, 0x5c, 0x3a, 0x2c, 0x7b, 0x7d, 0x5b, 0x20, 0x0a, 0x2e, 0x30, 0x31, 0x39, 0x2d, 0x2b, 0x65, 0x6e, 0x75, 0x6c,
  0x7f, 0xc3, 0xa9, 0xff, 0x00, 0x41,
];

const mutate = (value: Buffer, r: () => number): Buffer => mutateRecord(value, r, NASTY);

describe('parseProductClick lean path', () => {
  // A high malformed share, so every kind of broken record the generator makes is in the sample.
  const records = [...generateProductClicks({ seed: 7, count: 5_000, malformedShare: 0.05 })];
  const generated = records.map((g) => Buffer.from(g.value));

  it('should give exactly what the JSON.parse path gives for generated records, malformed ones included', () => {
    for (const value of generated) assertSame(value);
    assert.ok(records.some((r) => r.malformed !== null) && records.some((r) => r.malformed === null));
  });

  it('should give the same event or the same error (reason and message) for 30,000 mutated records', () => {
    const r = mulberry32(61024);
    for (let i = 0; i < 30_000; i++) assertSame(mutate(generated[i % generated.length], r));
  });

  it('should agree on the edge cases of the shapes it takes and declines', () => {
    const base = {
      event_time: 1_554_652_800_123,
      product_id: 'p1234',
      action: 'click',
      user_id: 'u_1233',
      category: 'phone',
    };
    const json = JSON.stringify(base);
    const cases: string[] = [
      json,
      JSON.stringify(base, null, 1), // whitespace: declined, same answer
      JSON.stringify({ ...base, event_time: 100_000_000_000 }), // the smallest accepted
      JSON.stringify({ ...base, event_time: 99_999_999_999 }),
      JSON.stringify({ ...base, event_time: 253_402_300_799_999 }), // the largest accepted
      JSON.stringify({ ...base, event_time: 253_402_300_800_000 }),
      JSON.stringify({ ...base, event_time: 1_554_652_800 }), // epoch seconds
      JSON.stringify({ ...base, event_time: 1_554_652_800_123.5 }),
      JSON.stringify({ ...base, event_time: -1_554_652_800_123 }),
      JSON.stringify({ ...base, event_time: '1554652800123' }),
      JSON.stringify({ ...base, event_time: null }),
      json.replace('1554652800123', '1.554652800123e12'), // an integer in exponent form
      json.replace('1554652800123', '01554652800123'), // a leading zero: not JSON
      json.replace('1554652800123', '1554652800123.0'),
      JSON.stringify({ ...base, category: null }),
      JSON.stringify({ ...base, category: '' }),
      JSON.stringify({ ...base, category: undefined }),
      JSON.stringify({ ...base, category: 7 }),
      JSON.stringify({ ...base, category: 'c'.repeat(64) }),
      JSON.stringify({ ...base, category: 'c'.repeat(65) }),
      JSON.stringify({ ...base, product_id: '' }),
      JSON.stringify({ ...base, product_id: 'p'.repeat(64) }),
      JSON.stringify({ ...base, product_id: 'p'.repeat(65) }),
      JSON.stringify({ ...base, product_id: 1234 }),
      JSON.stringify({ ...base, product_id: null }),
      JSON.stringify({ ...base, product_id: undefined }),
      JSON.stringify({ ...base, product_id: 'pé' }), // non-ASCII: declined, same answer
      JSON.stringify({ ...base, product_id: 'p"1' }), // an escape: declined
      JSON.stringify({ ...base, action: 'view' }),
      JSON.stringify({ ...base, action: 'clicks' }),
      JSON.stringify({ ...base, action: 'a'.repeat(32) }),
      JSON.stringify({ ...base, action: 'a'.repeat(33) }),
      JSON.stringify({ ...base, action: '' }),
      JSON.stringify({ ...base, user_id: 'u'.repeat(128) }),
      JSON.stringify({ ...base, user_id: 'u'.repeat(129) }),
      JSON.stringify({ ...base, user_id: false }),
      JSON.stringify({ ...base, referrer: 'search', rank: 3, score: 2.5, tags: ['a'], meta: {}, seen: null }),
      `${json.slice(0, -1)},"product_id":"second"}`, // a key twice: the last counts
      `${json.slice(0, -1)},"event_time":"late"}`, // a key twice, the last one of another kind
      `${json.slice(0, -1)},}`,
      `{${json}}`,
      `[${json}]`,
      json.slice(0, -1),
      '{}',
      '{"event_time":}',
      '{"event_time":nul}',
      '"click"',
      'null',
      '',
    ];
    for (const c of cases) assertSame(Buffer.from(c));
    assert.equal(parseProductClick(Buffer.from(cases[37])).productId, 'second');
    assert.deepEqual(parseProductClick(Buffer.from(json)), {
      eventTimeMs: base.event_time,
      productId: 'p1234',
      action: 'click',
      userId: 'u_1233',
      category: 'phone',
    });
    assertSame(Buffer.alloc(0));
  });

  it('should take every valid generated record on the lean path, and time both paths (timing printed, not asserted)', () => {
    const valid = generated.filter((_, i) => records[i].malformed === null);
    const taken = valid.filter((v) => parseLean(v) !== undefined).length;
    assert.ok(valid.length > 4_000, `most generated records are valid (${valid.length})`);
    assert.equal(
      taken,
      valid.length,
      `the lean path declined ${valid.length - taken} of ${valid.length} valid records`,
    );
    const { leanMicros: lean, referenceMicros: full } = timeParsers(parseProductClick, parseFull, valid);
    console.log(`parseProductClick: lean ${lean.toFixed(2)} µs, JSON.parse path ${full.toFixed(2)} µs per record`);
  });
});

describe('ByteStringCache', () => {
  it('should return the latin1 string of the bytes, the same string for the same bytes, and survive collisions', () => {
    const cache = new ByteStringCache(2);
    const buf = Buffer.from('xp1234yp1234zp9q');
    const a = cache.get(buf, 1, 6);
    assert.equal(a, 'p1234');
    assert.equal(cache.get(buf, 7, 12), 'p1234');
    // Two slots for many values: every answer is still the bytes' own string.
    for (let round = 0; round < 3; round++) {
      for (const [s, e, want] of [
        [13, 15, 'p9'],
        [1, 6, 'p1234'],
        [15, 16, 'q'],
        [0, 0, ''],
        [12, 13, 'z'],
      ] as const)
        assert.equal(cache.get(buf, s, e), want);
    }
  });

  it('should refuse a size that is not a power of two', () => {
    assert.throws(() => new ByteStringCache(3), RangeError);
    assert.throws(() => new ByteStringCache(0), RangeError);
  });
});
