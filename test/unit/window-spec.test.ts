import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors/app-error.js';
import { InvalidWindowSpecError } from '../../src/errors/invalid-window-spec-error.js';
import { latestWindowStart, validateWindowSpec, windowsFor, type WindowSpec } from '../../src/stream/index.js';

const SPEC: WindowSpec = { sizeMs: 60_000, advanceMs: 30_000, graceMs: 5_000, idleTimeoutMs: 10_000 };

function expectSpecError(spec: WindowSpec, option: string, messagePart: RegExp): void {
  assert.throws(
    () => validateWindowSpec(spec),
    (err: unknown) => {
      assert.ok(err instanceof InvalidWindowSpecError);
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'WINDOW_SPEC_INVALID');
      assert.equal(err.option, option);
      assert.ok(err.message.startsWith(option), `message should start with ${option}: ${err.message}`);
      assert.match(err.message, messagePart);
      return true;
    },
  );
}

describe('validateWindowSpec', () => {
  it('should return an equal, frozen copy of a valid spec', () => {
    const valid = validateWindowSpec(SPEC);
    assert.deepEqual(valid, SPEC);
    assert.notEqual(valid, SPEC);
    assert.ok(Object.isFrozen(valid));
  });

  it('should accept tumbling windows (advance equal to size) and zero grace', () => {
    assert.deepEqual(validateWindowSpec({ ...SPEC, advanceMs: 60_000, graceMs: 0 }), {
      ...SPEC,
      advanceMs: 60_000,
      graceMs: 0,
    });
  });

  it('should name sizeMs when it is not a multiple of advanceMs', () => {
    expectSpecError({ ...SPEC, sizeMs: 70_000 }, 'sizeMs', /sizeMs must be a positive multiple of advanceMs/);
  });

  it('should name sizeMs when it is smaller than advanceMs, zero or negative', () => {
    expectSpecError({ ...SPEC, sizeMs: 15_000 }, 'sizeMs', /positive multiple of advanceMs/);
    expectSpecError({ ...SPEC, sizeMs: 0 }, 'sizeMs', /positive multiple/);
    expectSpecError({ ...SPEC, sizeMs: -60_000 }, 'sizeMs', /positive multiple/);
  });

  it('should name advanceMs when it is zero, negative or fractional', () => {
    expectSpecError({ ...SPEC, advanceMs: 0 }, 'advanceMs', /advanceMs must be a positive integer/);
    expectSpecError({ ...SPEC, advanceMs: -30_000 }, 'advanceMs', /got -30000/);
    expectSpecError({ ...SPEC, advanceMs: 0.5 }, 'advanceMs', /got 0\.5/);
  });

  it('should name graceMs when it is negative or not an integer', () => {
    expectSpecError(
      { ...SPEC, graceMs: -1 },
      'graceMs',
      /graceMs must be an integer number of milliseconds >= 0, got -1/,
    );
    expectSpecError({ ...SPEC, graceMs: Number.NaN }, 'graceMs', /got NaN/);
  });

  it('should name idleTimeoutMs when it is zero or not an integer', () => {
    expectSpecError({ ...SPEC, idleTimeoutMs: 0 }, 'idleTimeoutMs', /idleTimeoutMs must be a positive integer/);
    expectSpecError({ ...SPEC, idleTimeoutMs: 1.5 }, 'idleTimeoutMs', /got 1\.5/);
  });

  it('should reject a value that is not a number, naming the option and the type', () => {
    expectSpecError({ ...SPEC, sizeMs: '60000' as unknown as number }, 'sizeMs', /got string "60000"/);
  });
});

describe('windowsFor', () => {
  it('should put a record at exactly t = 60000 into [30000, 90000) and [60000, 120000) but not [0, 60000)', () => {
    const windows = windowsFor(60_000, SPEC);
    assert.deepEqual(windows, [
      { start: 30_000, end: 90_000 },
      { start: 60_000, end: 120_000 },
    ]);
    assert.ok(!windows.some((w) => w.start === 0));
  });

  it('should put a record one ms before a boundary into the window ending there (end exclusive)', () => {
    assert.deepEqual(windowsFor(59_999, SPEC), [
      { start: 0, end: 60_000 },
      { start: 30_000, end: 90_000 },
    ]);
  });

  it('should return size/advance windows, ascending, each containing the event', () => {
    const spec = { sizeMs: 90_000, advanceMs: 30_000 };
    for (const t of [0, 1, 29_999, 30_000, 30_001, 1_700_000_012_345]) {
      const windows = windowsFor(t, spec);
      assert.equal(windows.length, 3);
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i];
        assert.ok(w.start <= t && t < w.end, `${t} in [${w.start}, ${w.end})`);
        assert.equal(w.end - w.start, 90_000);
        assert.ok(w.start % 30_000 === 0, `${w.start} is a multiple of the advance`);
        if (i > 0) assert.equal(w.start - windows[i - 1].start, 30_000);
      }
    }
  });

  it('should give exactly one window for tumbling windows (advance = size)', () => {
    const tumbling = { sizeMs: 60_000, advanceMs: 60_000 };
    assert.deepEqual(windowsFor(60_000, tumbling), [{ start: 60_000, end: 120_000 }]);
    assert.deepEqual(windowsFor(59_999, tumbling), [{ start: 0, end: 60_000 }]);
    assert.deepEqual(windowsFor(119_999, tumbling), [{ start: 60_000, end: 120_000 }]);
  });

  it('should handle t = 0 with floor semantics (no NaN, no -0, starts are multiples of advance)', () => {
    assert.deepEqual(windowsFor(0, SPEC), [
      { start: -30_000, end: 30_000 },
      { start: 0, end: 60_000 },
    ]);
    const [tumbling] = windowsFor(0, { sizeMs: 60_000, advanceMs: 60_000 });
    assert.ok(Object.is(tumbling.start, 0), 'start is +0');
    assert.equal(tumbling.end, 60_000);
  });

  it('should align exactly at large epoch times', () => {
    const t = 1_700_000_012_345;
    assert.deepEqual(windowsFor(t, SPEC), [
      { start: 1_699_999_980_000, end: 1_700_000_040_000 },
      { start: 1_700_000_010_000, end: 1_700_000_070_000 },
    ]);
  });
});

describe('latestWindowStart', () => {
  it('should floor to the advance for positive, zero and negative times', () => {
    assert.equal(latestWindowStart(59_999, 30_000), 30_000);
    assert.equal(latestWindowStart(60_000, 30_000), 60_000);
    assert.ok(Object.is(latestWindowStart(0, 30_000), 0));
    assert.ok(Object.is(latestWindowStart(-0, 30_000), 0));
    assert.equal(latestWindowStart(-1, 30_000), -30_000);
    assert.equal(latestWindowStart(-30_000, 30_000), -30_000);
  });
});
