import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WindowSpecChangedError } from '../../src/errors/window-spec-changed-error.js';
import { windowSpecChanges } from '../../src/stream/window-spec.js';

const OLD = { sizeMs: 60_000, advanceMs: 30_000, graceMs: 5_000 };

describe('windowSpecChanges', () => {
  it('finds no change when the specification is the same', () => {
    assert.deepEqual(windowSpecChanges(OLD, { ...OLD }), []);
  });

  it('names each changed field with its old and new value, in size, advance, grace order', () => {
    assert.deepEqual(windowSpecChanges(OLD, { sizeMs: 120_000, advanceMs: 60_000, graceMs: 5_000 }), [
      'size 60000 -> 120000 ms',
      'advance 30000 -> 60000 ms',
    ]);
    assert.deepEqual(windowSpecChanges(OLD, { ...OLD, graceMs: 0 }), ['grace 5000 -> 0 ms']);
  });

  it('accepts any specification over a position stored before specifications were kept', () => {
    assert.deepEqual(windowSpecChanges({ sizeMs: null, advanceMs: null, graceMs: null }, OLD), []);
  });

  it('reports a setting the job no longer has as "none"', () => {
    assert.deepEqual(windowSpecChanges(OLD, { sizeMs: null, advanceMs: null, graceMs: 5_000 }), [
      'size 60000 -> none ms',
      'advance 30000 -> none ms',
    ]);
  });

  it('makes a refusal that names the change and the way out', () => {
    const err = new WindowSpecChangedError('g', 't', 2, windowSpecChanges(OLD, { ...OLD, sizeMs: 120_000 }));
    assert.equal(err.code, 'WINDOW_SPEC_CHANGED');
    assert.match(err.message, /t\/2 of group g \(size 60000 -> 120000 ms\)/);
    assert.match(err.message, /rebuildJob/);
    assert.match(err.message, /set the old values back/);
  });
});
