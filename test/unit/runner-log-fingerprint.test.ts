import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprintOf, sameRecord } from '../../src/runner/log-fingerprint.js';
import { FakeBatch, fakeRunner, until } from '../helpers/fake-runner-ports.js';

const record = (offset: bigint, key: string | null, value: string | null, timestampMs = 1_700_000_000_000) => ({
  offset,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  timestampMs,
});

describe('fingerprintOf', () => {
  it('tells records apart by offset, timestamp, key and value, and where the key ends', () => {
    const a = fingerprintOf(record(5n, 'k', 'v'));
    assert.ok(sameRecord(a, fingerprintOf(record(5n, 'k', 'v'))));
    assert.ok(!sameRecord(a, fingerprintOf(record(6n, 'k', 'v'))));
    assert.ok(!sameRecord(a, fingerprintOf(record(5n, 'k', 'v', 1))));
    assert.ok(!sameRecord(a, fingerprintOf(record(5n, 'k', 'w'))));
    assert.ok(!sameRecord(a, fingerprintOf(record(5n, 'kv', ''))));
    assert.ok(!sameRecord(fingerprintOf(record(5n, null, 'v')), fingerprintOf(record(5n, '', 'v'))));
    assert.equal(typeof a.hash, 'bigint');
    assert.ok(a.hash >= -(2n ** 63n) && a.hash < 2n ** 63n, 'fits a signed BIGINT');
  });
});

describe('JobPartitions: the log a stored position was read from', () => {
  /** A runner that committed offsets 0-2 (values 1, 2, 3) of partition 0, claimed again on a log of `latest` offsets. */
  async function committedThenReclaimed(policy: 'fail' | 'earliest' = 'fail') {
    const runner = fakeRunner({ onTopicRecreated: policy });
    const { consumer, store, partitions } = runner;
    consumer.bounds.set(0, { earliest: 0n, latest: 3n });
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1', '2', '3'], '3'));
    await partitions.settle();
    assert.equal(store.row(0).fingerprint?.offset, 2n, 'the last record committed is stored');
    consumer.bounds.set(0, { earliest: 0n, latest: 10n });
    consumer.seeks.length = 0;
    await partitions.assign([0]);
    return runner;
  }

  it('reads the stored last record first, then goes on from the stored position when it is the same', async () => {
    const { consumer, store, job, partitions } = await committedThenReclaimed();
    assert.deepEqual(consumer.seeks, [{ partition: 0, offset: 2n }], 'seeks to the last committed record');
    await partitions.handleBatch(new FakeBatch(0, 2, ['3', '4'], '10'));
    assert.deepEqual(consumer.seeks.at(-1), { partition: 0, offset: 3n }, 'then back to the stored position');
    assert.equal(store.commits.length, 1, 'the checking batch is not processed');
    await partitions.handleBatch(new FakeBatch(0, 3, ['4'], '10'));
    await partitions.settle();
    assert.equal(job.sums.get(0), 10);
    assert.equal(store.row(0).nextOffset, 4n);
    assert.deepEqual(partitions.failing(), []);
  });

  it('stops the partition with TOPIC_RECREATED when another record is at that offset, processing nothing', async () => {
    const { store, job, partitions } = await committedThenReclaimed();
    await partitions.handleBatch(new FakeBatch(0, 2, ['30', '40'], '10'));
    assert.equal(store.row(0).recreated, true, 'marked for operators');
    // Retried through the committer (no backoff in the fake): the second attempt makes it FAILING.
    await until(() => partitions.ownedPartitions.includes(0));
    await partitions.handleBatch(new FakeBatch(0, 2, ['30', '40'], '10'));
    await until(() => partitions.failing().length === 1);
    const [failure] = partitions.failing();
    assert.equal(failure.code, 'TOPIC_RECREATED');
    assert.match(failure.message, /stored offset 3, log offsets 0\.\.10/);
    assert.equal(job.sums.get(0), 6, 'nothing of the new log was counted');
    assert.equal(store.row(0).nextOffset, 3n, 'and nothing skipped');
    await partitions.settle();
  });

  it('with ON_TOPIC_RECREATED=earliest moves to the new log start and counts it from there', async () => {
    const { consumer, store, job, partitions } = await committedThenReclaimed('earliest');
    await partitions.handleBatch(new FakeBatch(0, 2, ['30', '40'], '10'));
    assert.deepEqual(store.restarts, [{ partition: 0, earliest: 0n }]);
    assert.deepEqual(consumer.seeks.at(-1), { partition: 0, offset: 0n });
    await partitions.handleBatch(new FakeBatch(0, 0, ['10', '20', '30', '40'], '4'));
    await partitions.settle();
    assert.equal(job.sums.get(0), 6 + 100);
    assert.deepEqual(partitions.failing(), []);
  });
});
