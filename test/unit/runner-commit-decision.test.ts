import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCommit, type CommitPolicy, type HeldResults } from '../../src/runner/commit-decision.js';

const policy: CommitPolicy = { transactionMaxRecords: 1_000, transactionMaxDelayMs: 500, commitIntervalMs: 100 };
const held = (over: Partial<HeldResults> = {}): HeldResults => ({
  partition: 0,
  records: 10,
  sinceMs: 10_000,
  behind: false,
  urgent: false,
  ...over,
});

describe('decideCommit', () => {
  it('commits nothing and sets no timer when nothing is held', () => {
    assert.deepEqual(decideCommit([], 10_000, policy, false), { commitNow: false, nextDueMs: null, reason: null });
    assert.equal(decideCommit([], 10_000, policy, true).commitNow, false, 'stopping with nothing held');
  });

  it('holds a caught-up partition for the commit interval, a behind one for the transaction delay', () => {
    assert.deepEqual(decideCommit([held()], 10_050, policy, false), {
      commitNow: false,
      nextDueMs: 10_100,
      reason: null,
    });
    assert.equal(decideCommit([held()], 10_100, policy, false).reason, 'commit-interval');
    assert.deepEqual(decideCommit([held({ behind: true })], 10_100, policy, false).nextDueMs, 10_500);
    assert.equal(decideCommit([held({ behind: true })], 10_500, policy, false).reason, 'max-delay');
  });

  it('is due when ONE partition is: the earliest due time wakes it', () => {
    const many = [held({ partition: 0, behind: true }), held({ partition: 1, sinceMs: 10_020 })];
    assert.equal(decideCommit(many, 10_050, policy, false).nextDueMs, 10_120);
    assert.equal(decideCommit(many, 10_120, policy, false).commitNow, true);
    const full = [held({ partition: 0 }), held({ partition: 1, records: 1_000, behind: true })];
    assert.equal(decideCommit(full, 10_000, policy, false).reason, 'max-records');
  });

  it('commits at once a batch that ended a backlog or a tick result, when stopping, and per batch without a record limit', () => {
    assert.equal(decideCommit([held({ urgent: true })], 10_000, policy, false).reason, 'urgent');
    assert.equal(decideCommit([held({ behind: true })], 10_000, policy, true).reason, 'stopping');
    assert.equal(
      decideCommit([held({ behind: true })], 10_000, { ...policy, transactionMaxRecords: 1 }, false).reason,
      'per-batch',
    );
    assert.equal(decideCommit([held()], 10_000, { ...policy, commitIntervalMs: 0 }, false).commitNow, true);
  });
});
