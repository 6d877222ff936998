import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noteLength, planStatusUpdates } from '../../src/jobs/abnormal-orders/callback-status-plan.js';

const req = (uid: string, status: 'CONTACTED' | 'CONVERTED' | 'DECLINED', expectedStatus: any = null) => ({
  uid,
  status,
  note: null,
  expectedStatus,
});

describe('planStatusUpdates', () => {
  it('should apply found users, refuse unknown ones and stale expectations, each on its own', () => {
    const plan = planStatusUpdates(
      [
        req('a', 'CONTACTED'),
        req('zz', 'CONTACTED'),
        req('b', 'DECLINED', 'PENDING'),
        req('c', 'CONVERTED', 'PENDING'),
      ],
      new Map<string, number | null>([
        ['a', null],
        ['b', 1],
        ['c', null],
      ]),
    );
    assert.deepEqual(
      plan.map((p) => p.kind),
      ['applied', 'not-found', 'conflict', 'applied'],
    );
    assert.deepEqual(plan[2], { kind: 'conflict', uid: 'b', expected: 'PENDING', current: 'CONTACTED' });
    assert.deepEqual(plan[0], { kind: 'applied', uid: 'a', from: null, to: 1, note: null });
  });

  it('should decide a later update of the same user against the earlier one of the call', () => {
    const plan = planStatusUpdates(
      [req('a', 'CONTACTED', 'PENDING'), req('a', 'CONVERTED', 'PENDING'), req('a', 'CONVERTED', 'CONTACTED')],
      new Map([['a', 0]]),
    );
    assert.deepEqual(
      plan.map((p) => p.kind),
      ['applied', 'conflict', 'applied'],
    );
    assert.equal(plan[2].kind === 'applied' && plan[2].from, 1);
  });

  it('should find a uid differing in case, as the column collation does, under its stored spelling', () => {
    const [p] = planStatusUpdates([req('ABC', 'CONTACTED')], new Map([['abc', null]]));
    assert.equal(p.uid, 'abc');
    assert.equal(p.kind, 'applied');
  });

  it('should count a note in code points, as VARCHAR does', () => {
    assert.equal(noteLength('😀'.repeat(500)), 500);
    assert.equal('😀'.repeat(500).length, 1000);
  });
});
