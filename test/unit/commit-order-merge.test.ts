import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeRow } from '../../src/store/change-log-store.js';
import { mergeInCommitOrder } from '../../src/subscriptions/commit-order-merge.js';

const row = (partition: number, pos: string, committedAtMs: number): ChangeRow => ({
  partition,
  pos,
  kind: 'abnormal-user-detected',
  payload: null,
  committedAtMs,
});

describe('mergeInCommitOrder', () => {
  it('should take changes across partitions by commit time, ties by partition', () => {
    const rows = [row(-1, 'a1', 20), row(-1, 'a2', 40), row(0, 'b1', 10), row(0, 'b2', 40), row(1, 'c1', 30)];
    const { taken, more } = mergeInCommitOrder(rows, 10);
    assert.deepEqual(
      taken.map((r) => r.pos),
      ['b1', 'a1', 'c1', 'a2', 'b2'],
    );
    assert.equal(more, false);
  });

  it('should take a prefix of every partition even when a clock went backwards', () => {
    // b2 claims an earlier time than b1: taking it first would skip b1 behind the cursor.
    const rows = [row(0, 'b1', 50), row(0, 'b2', 5), row(1, 'c1', 30)];
    const { taken, more } = mergeInCommitOrder(rows, 2);
    assert.deepEqual(
      taken.map((r) => r.pos),
      ['c1', 'b1'],
    );
    assert.equal(more, true);
  });

  it('should stop at the limit and say more are left', () => {
    const { taken, more } = mergeInCommitOrder([row(0, 'b1', 1), row(0, 'b2', 2)], 1);
    assert.deepEqual(
      taken.map((r) => r.pos),
      ['b1'],
    );
    assert.equal(more, true);
  });
});
