import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidCursorError } from '../../src/errors/invalid-cursor-error.js';
import { aheadOf, comparePos, covers, decodeCursor, encodeCursor } from '../../src/subscriptions/change-cursor.js';
import {
  decodePos,
  encodeBatchSuffix,
  encodePos,
  isPos,
  type LogPosition,
} from '../../src/store/change-log-position.js';

const pos = (epoch: number, batchOffset: bigint, batchWatermarkMs: number, seq: number): string =>
  encodePos({ epoch, batchOffset, batchWatermarkMs, seq });

describe('change-log positions', () => {
  it('should round-trip every component, at the edges of their ranges too', () => {
    const cases: LogPosition[] = [
      { epoch: 0, batchOffset: 0n, batchWatermarkMs: 0, seq: 0 },
      { epoch: 7, batchOffset: 12_345n, batchWatermarkMs: Date.UTC(2026, 0, 1), seq: 3 },
      {
        epoch: 0xffff_ffff,
        batchOffset: (1n << 63n) - 1n,
        batchWatermarkMs: Number.MAX_SAFE_INTEGER,
        seq: 0xffff_ffff,
      },
    ];
    for (const p of cases) {
      const s = encodePos(p);
      assert.equal(s.length, 48);
      assert.ok(isPos(s));
      assert.deepEqual(decodePos(s), p);
    }
  });

  it('should sort as text exactly as the positions sort: epoch, then batch offset, then watermark, then sequence', () => {
    const ordered = [
      pos(1, 0n, 0, 0),
      pos(1, 0n, 0, 1),
      pos(1, 0n, 1, 0),
      pos(1, 9n, 0, 0),
      pos(1, 10n, 0, 0),
      pos(1, 256n, 5, 2),
      // A new epoch (an operator's rewind: lower offsets) still comes after.
      pos(2, 0n, 0, 0),
      pos(16, 3n, 0, 0),
    ];
    const shuffled = [...ordered].reverse();
    assert.deepEqual(shuffled.sort(comparePos), ordered);
    for (let i = 1; i < ordered.length; i++) assert.equal(comparePos(ordered[i - 1], ordered[i]), -1);
    assert.equal(comparePos(ordered[3], ordered[3]), 0);
    assert.equal(comparePos('', ordered[0]), -1, 'nothing seen is before every position');
  });

  it('should match the batch suffix the transaction prepends the epoch to', () => {
    assert.equal(pos(0x2a, 17n, 1000, 4), `0000002a${encodeBatchSuffix(17n, 1000, 4)}`);
  });

  it('should refuse components out of range and strings that are not positions', () => {
    assert.throws(() => encodePos({ epoch: -1, batchOffset: 0n, batchWatermarkMs: 0, seq: 0 }), RangeError);
    assert.throws(() => encodeBatchSuffix(-1n, 0, 0), RangeError);
    assert.throws(() => encodeBatchSuffix(0n, -5, 0), RangeError);
    assert.throws(() => encodeBatchSuffix(0n, 0, 2 ** 32), RangeError);
    assert.throws(() => decodePos('00'), RangeError);
    assert.throws(() => decodePos('G'.repeat(48)), RangeError);
    assert.throws(() => decodePos(pos(0xabcdef, 0xfan, 1, 1).toUpperCase()), RangeError);
  });
});

describe('subscription cursors', () => {
  const v = new Map([
    [2, pos(1, 5n, 0, 0)],
    [0, pos(1, 9n, 100, 2)],
    [-1, pos(0, 0n, 300_000, 0)],
  ]);

  it('should round-trip a position vector, independent of insertion order', () => {
    const cursor = encodeCursor('abnormal-orders', v);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/, 'base64url without padding');
    assert.deepEqual(decodeCursor(cursor, 'abnormal-orders'), v);
    const same = new Map([...v].reverse());
    assert.equal(encodeCursor('abnormal-orders', same), cursor);
    assert.deepEqual(decodeCursor(encodeCursor('g', new Map()), 'g'), new Map());
  });

  it("should refuse garbage, another stream's cursor and malformed entries", () => {
    const refuse = (c: string) => assert.throws(() => decodeCursor(c, 'abnormal-orders'), InvalidCursorError);
    refuse('');
    refuse('not a cursor!');
    refuse('bm90IGpzb24');
    refuse(encodeCursor('recharge-metrics', v));
    const raw = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    refuse(raw({ s: 'abnormal-orders' }));
    refuse(raw({ s: 'abnormal-orders', p: [[0]] }));
    refuse(raw({ s: 'abnormal-orders', p: [[0.5, pos(1, 1n, 1, 1)]] }));
    refuse(raw({ s: 'abnormal-orders', p: [[0, 'abc']] }));
    refuse(
      raw({
        s: 'abnormal-orders',
        p: [
          [0, pos(1, 1n, 1, 1)],
          [0, pos(1, 2n, 1, 1)],
        ],
      }),
    );
    assert.equal(new InvalidCursorError('x').code, 'CURSOR_INVALID');
  });

  it('should compare vectors per partition, a missing partition being before everything', () => {
    const w = new Map([
      [0, pos(1, 9n, 100, 1)],
      [2, pos(1, 5n, 0, 0)],
    ]);
    assert.equal(covers(v, w), true);
    assert.equal(covers(w, v), false);
    assert.deepEqual(
      aheadOf(w, v),
      new Map([
        [0, pos(1, 9n, 100, 2)],
        [-1, pos(0, 0n, 300_000, 0)],
      ]),
    );
    assert.equal(covers(v, new Map()), true);
    assert.equal(covers(new Map(), new Map([[0, pos(0, 0n, 0, 0)]])), false);
  });
});
