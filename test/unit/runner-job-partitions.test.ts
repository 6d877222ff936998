import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RESEEKS } from '../../src/runner/job-partitions.js';
import { mergeResults } from '../../src/runner/partition-state.js';
import { FakeBatch, fakeRunner, until } from '../helpers/fake-runner-ports.js';

describe('JobPartitions: assignment and claim', () => {
  it('claims every assigned partition with a new epoch and seeks to its replay offset', async () => {
    const { consumer, store, partitions } = fakeRunner();
    Object.assign(store.row(0), { nextOffset: 7n, replayFrom: 5n });
    await partitions.assign([0, 1]);
    assert.deepEqual(partitions.ownedPartitions, [0, 1]);
    assert.deepEqual(consumer.seeks, [
      { partition: 0, offset: 5n },
      { partition: 1, offset: 0n },
    ]);
    assert.equal(store.row(0).epoch, 1);
  });

  it('drops partitions no longer assigned', async () => {
    const { partitions } = fakeRunner();
    await partitions.assign([0, 1]);
    await partitions.assign([1]);
    assert.deepEqual(partitions.ownedPartitions, [1]);
  });

  it('resolves a batch of a partition it does not own, without processing it', async () => {
    const { store, partitions } = fakeRunner();
    await partitions.assign([0]);
    const batch = new FakeBatch(2, 0, ['1', '2']);
    await partitions.handleBatch(batch);
    assert.deepEqual(batch.resolved, ['1']);
    assert.equal(store.commits.length, 0);
  });
});

describe('JobPartitions: batches', () => {
  it('commits results and position in one transaction, then commits the offset to Kafka', async () => {
    const { consumer, store, job, partitions } = fakeRunner();
    await partitions.assign([0]);
    const batch = new FakeBatch(0, 0, ['1', '2', 'bad', '4']);
    await partitions.handleBatch(batch);
    await partitions.settle();
    assert.deepEqual(batch.resolved, ['3']);
    assert.equal(batch.heartbeats, 1);
    assert.equal(store.commits.length, 1);
    assert.equal(store.commits[0].position.nextOffset, 4n);
    assert.equal(store.commits[0].deadLettered, 1);
    assert.equal(store.row(0).deadLettered, 1);
    assert.equal(job.sums.get(0), 7);
    assert.deepEqual(consumer.kafkaCommits, [{ partition: 0, nextOffset: 4n }]);
  });

  it('sends dead letters before the transaction, keyed by source position', async () => {
    const { store, producer, partitions } = fakeRunner();
    await partitions.assign([0]);
    store.commitFailures.push(new Error('database down'));
    await partitions.handleBatch(new FakeBatch(0, 0, ['bad']));
    assert.equal(producer.sent.length, 1, 'sent even though the transaction failed');
    assert.equal(producer.sent[0].topic, 't.dlq');
    assert.equal(producer.sent[0].messages[0].key, 't:0:0');
  });

  it('skips a stale batch and leaves it unresolved', async () => {
    const { store, partitions } = fakeRunner();
    await partitions.assign([0]);
    const batch = new FakeBatch(0, 0, ['1']);
    batch.stale = true;
    await partitions.handleBatch(batch);
    assert.deepEqual(batch.resolved, []);
    assert.equal(store.commits.length, 0);
  });

  it('skips records below the read position (fetched before the seek landed)', async () => {
    const { store, job, partitions } = fakeRunner();
    Object.assign(store.row(0), { nextOffset: 2n, replayFrom: 2n });
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['100', '100', '1', '2']));
    assert.equal(job.sums.get(0), 3);
    assert.equal(store.commits[0].position.nextOffset, 4n);
  });

  it('seeks again when a batch starts past the read position, and accepts a real gap after the limit', async () => {
    const { consumer, store, partitions } = fakeRunner();
    await partitions.assign([0]);
    consumer.seeks.length = 0;
    for (let i = 0; i < MAX_RESEEKS; i++) {
      const batch = new FakeBatch(0, 5, ['1']);
      await partitions.handleBatch(batch);
      assert.deepEqual(batch.resolved, []);
    }
    assert.equal(consumer.seeks.length, MAX_RESEEKS);
    assert.ok(consumer.seeks.every((s) => s.partition === 0 && s.offset === 0n));
    assert.equal(store.commits.length, 0);
    const last = new FakeBatch(0, 5, ['1']);
    await partitions.handleBatch(last);
    assert.deepEqual(last.resolved, ['5']);
    assert.equal(store.commits[0].position.nextOffset, 6n);
  });

  it('does not open a transaction when nothing changed', async () => {
    const { store, partitions } = fakeRunner({}, []);
    await partitions.assign([0]);
    partitions.tick();
    await partitions.settle();
    assert.equal(store.commits.length, 0);
  });

  it('commits what an idle tick produced (a moved watermark)', async () => {
    const { store, partitions } = fakeRunner({}, [60_000]);
    await partitions.assign([0]);
    partitions.tick();
    await partitions.settle();
    assert.equal(store.commits.length, 1);
    assert.equal(store.row(0).watermarkMs, 60_000);
  });
});

describe('JobPartitions: fencing and recovery', () => {
  it('forgets a partition another worker claimed since (fenced)', async () => {
    const { store, partitions } = fakeRunner();
    await partitions.assign([0]);
    store.bumpEpoch(0);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    assert.deepEqual(partitions.ownedPartitions, []);
    assert.equal(store.commits.length, 0);
    const next = new FakeBatch(0, 1, ['2']);
    await partitions.handleBatch(next);
    assert.deepEqual(next.resolved, ['1'], 'not ours any more: resolved, not processed');
    assert.equal(store.commits.length, 0);
  });

  it('claims a partition again when an operator reset it while this worker owns it', async () => {
    const { consumer, store, partitions } = fakeRunner();
    await partitions.assign([0]);
    Object.assign(store.row(0), { nextOffset: 3n, replayFrom: 3n });
    store.bumpEpoch(0, true);
    consumer.seeks.length = 0;
    await partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    assert.deepEqual(partitions.ownedPartitions, [0]);
    assert.deepEqual(consumer.seeks, [{ partition: 0, offset: 3n }]);
    await partitions.handleBatch(new FakeBatch(0, 3, ['5']));
    assert.equal(store.commits.length, 1);
    assert.equal(store.commits[0].position.nextOffset, 4n);
  });

  it('rebuilds the partition from the database after a failed commit, retrying failed rebuilds', async () => {
    const { consumer, store, job, partitions } = fakeRunner();
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    store.commitFailures.push(new Error('connection lost'));
    store.claimFailures.push(new Error('still down'));
    consumer.seeks.length = 0;
    const claimsBefore = store.claims;
    await partitions.handleBatch(new FakeBatch(0, 1, ['10']));
    assert.equal(store.claims, claimsBefore + 2, 'one failed rebuild, then one that worked');
    assert.deepEqual(consumer.seeks, [{ partition: 0, offset: 1n }], 'back to the stored replay offset');
    assert.equal(job.sums.get(0), 1, 'the failed batch left nothing');
    await partitions.handleBatch(new FakeBatch(0, 1, ['10']));
    assert.equal(job.sums.get(0), 11, 'the replay counts it once');
  });

  it('leaves batches unresolved while the partition waits to be rebuilt', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { store, partitions } = fakeRunner({ recoveryWait: () => gate });
    await partitions.assign([0]);
    store.commitFailures.push(new Error('connection lost'));
    const failing = partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    await until(() => [...partitions.owned()][0]?.recovering);
    const during = new FakeBatch(0, 0, ['1']);
    await partitions.handleBatch(during);
    assert.deepEqual(during.resolved, []);
    const ticksBefore = store.commits.length;
    partitions.tick();
    assert.equal(store.commits.length, ticksBefore, 'no tick of a recovering partition');
    release();
    await failing;
    assert.deepEqual(partitions.ownedPartitions, [0]);
    assert.equal([...partitions.owned()][0].recovering, false, 'a fresh state after the rebuild');
  });
});

describe('JobPartitions: operator pause', () => {
  it('pauses fetching, drops batches while paused, resumes', async () => {
    const { consumer, store, partitions } = fakeRunner();
    await partitions.assign([0]);
    partitions.setOperatorPaused(true);
    partitions.setOperatorPaused(true);
    assert.equal(partitions.isPaused, true);
    const batch = new FakeBatch(0, 0, ['1']);
    await partitions.handleBatch(batch);
    assert.deepEqual(batch.resolved, []);
    assert.equal(store.commits.length, 0);
    partitions.setOperatorPaused(false);
    assert.deepEqual(consumer.pauses, ['pause', 'resume']);
  });
});

describe('JobPartitions: several fetched batches in one transaction', () => {
  const holding = (maxRecords: number, maxDelayMs = 60_000) =>
    fakeRunner({ transactionMaxRecords: maxRecords, transactionMaxDelayMs: maxDelayMs });

  it('holds the batches of a partition that is behind until the record limit, then commits them in one transaction', async () => {
    const { consumer, store, job, partitions } = holding(5);
    await partitions.assign([0]);
    const first = new FakeBatch(0, 0, ['1', '2']);
    await partitions.handleBatch(first);
    await partitions.handleBatch(new FakeBatch(0, 2, ['3', 'bad']));
    assert.deepEqual(first.resolved, ['1'], 'resolved at once, so the next fetch starts after it');
    assert.equal(store.commits.length, 0);
    await partitions.handleBatch(new FakeBatch(0, 4, ['4', '5']));
    await partitions.settle();
    assert.equal(store.commits.length, 1);
    assert.equal(store.commits[0].position.nextOffset, 6n);
    assert.equal(store.commits[0].deadLettered, 1);
    assert.equal(job.sums.get(0), 15);
    assert.deepEqual(consumer.kafkaCommits, [{ partition: 0, nextOffset: 6n }]);
  });

  it('commits at once when the batch reaches the high watermark (caught up)', async () => {
    const { store, partitions } = holding(1_000);
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1', '2'], '10'));
    assert.equal(store.commits.length, 0);
    await partitions.handleBatch(new FakeBatch(0, 2, ['3'], '3'));
    assert.equal(store.commits.length, 1);
    assert.equal(store.commits[0].position.nextOffset, 3n);
  });

  it('holds a caught-up partition for the commit interval, then commits every batch of it in one transaction', async () => {
    const { store, job, partitions } = fakeRunner({
      transactionMaxRecords: 1_000,
      transactionMaxDelayMs: 60_000,
      commitIntervalMs: 40,
    });
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1'], '1'));
    assert.equal(store.commits.length, 1, 'the batch that catches up commits at once');
    await partitions.handleBatch(new FakeBatch(0, 1, ['2'], '2'));
    await partitions.handleBatch(new FakeBatch(0, 2, ['3'], '3'));
    assert.equal(store.commits.length, 1, 'caught up since the batch before, within the commit interval');
    await new Promise((r) => setTimeout(r, 80));
    await partitions.settle();
    assert.equal(store.commits.length, 2, 'the timer committed without a further batch');
    assert.equal(store.commits[1].position.nextOffset, 3n);
    assert.equal(job.sums.get(0), 6);
    await partitions.handleBatch(new FakeBatch(0, 3, ['4'], '4'));
    assert.equal(store.commits.length, 2, 'a new interval starts with the next batch');
    partitions.beginStop();
    await partitions.settle();
    assert.equal(store.commits.length, 3);
    assert.equal(store.commits[2].position.nextOffset, 4n);
  });

  it('leaves a partition that is behind to the transaction limits, and never holds with a commit interval of 0', async () => {
    const behind = fakeRunner({ transactionMaxRecords: 1_000, transactionMaxDelayMs: 60_000, commitIntervalMs: 20 });
    await behind.partitions.assign([0]);
    await behind.partitions.handleBatch(new FakeBatch(0, 0, ['1'], '10'));
    await new Promise((r) => setTimeout(r, 40));
    await behind.partitions.settle();
    assert.equal(behind.store.commits.length, 0, 'behind: held for TRANSACTION_MAX_DELAY_MS, not the commit interval');

    const atOnce = fakeRunner({ transactionMaxRecords: 1_000, commitIntervalMs: 0 });
    await atOnce.partitions.assign([0]);
    await atOnce.partitions.handleBatch(new FakeBatch(0, 0, ['1'], '1'));
    await atOnce.partitions.handleBatch(new FakeBatch(0, 1, ['2'], '2'));
    assert.equal(atOnce.store.commits.length, 2);
  });

  it('drops the held result of a caught-up partition on a re-claim: its timer commits nothing', async () => {
    const { store, partitions } = fakeRunner({ transactionMaxRecords: 1_000, commitIntervalMs: 20 });
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1'], '1'));
    await partitions.handleBatch(new FakeBatch(0, 1, ['2'], '2'));
    assert.equal(store.commits.length, 1, 'the first batch caught up and committed; the second is held');
    await partitions.reclaim([0]);
    await new Promise((r) => setTimeout(r, 40));
    await partitions.settle();
    assert.equal(store.commits.length, 1, 'the held batch was dropped with the old claim');
  });

  it('commits held records once they are older than the delay, and does not tick the processor while it holds them', async () => {
    const { store, job, partitions } = fakeRunner(
      { transactionMaxRecords: 1_000, transactionMaxDelayMs: 20 },
      [60_000],
    );
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1', '2']));
    partitions.tick();
    await partitions.settle();
    assert.equal(store.commits.length, 0, 'too young, and a partition with held records is not idle');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(store.commits.length, 1, "the job's commit timer committed them");
    assert.equal(store.commits[0].position.nextOffset, 2n);
    assert.equal(store.commits[0].position.watermarkMs, null, 'the processor was not ticked');
    assert.equal(job.sums.get(0), 3);
    partitions.tick();
    await until(() => store.commits.length === 2);
    assert.equal(store.commits[1].position.watermarkMs, 60_000, 'idle now: ticked, and the tick committed at once');
  });

  it('commits held records when the worker stops', async () => {
    const { store, partitions } = holding(1_000);
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1', '2']));
    assert.equal(store.commits.length, 0);
    partitions.beginStop();
    await partitions.settle();
    assert.equal(store.commits.length, 1);
    assert.equal(store.commits[0].position.nextOffset, 2n);
  });

  it('drops held records on a re-claim and reads them again from the stored position', async () => {
    const { consumer, store, job, partitions } = holding(1_000);
    await partitions.assign([0]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1', '2']));
    consumer.seeks.length = 0;
    await partitions.reclaim([0]);
    assert.deepEqual(consumer.seeks, [{ partition: 0, offset: 0n }]);
    partitions.beginStop();
    await partitions.settle();
    assert.equal(store.commits.length, 0, 'nothing held by the new claim');
    assert.equal(job.sums.get(0), undefined);
  });

  it('drops held records of a revoked partition', async () => {
    const { store, partitions } = holding(1_000);
    await partitions.assign([0, 1]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    await partitions.assign([1]);
    partitions.beginStop();
    await partitions.settle();
    assert.equal(store.commits.length, 0);
  });
});

describe('mergeResults', () => {
  it('runs the writes and the post-commit work of both in order, keeps every dead letter and adds the counts', async () => {
    const order: string[] = [];
    const record = { offset: 0n, key: null, value: null, timestampMs: 0 };
    const merged = mergeResults(
      {
        write: async () => void order.push('write a'),
        afterCommit: () => void order.push('after a'),
        deadLetters: [{ record, reason: 'x', detail: 'a' }],
        lateRecords: 1,
        records: 2,
        closedAtMs: 50,
      },
      {
        write: async () => void order.push('write b'),
        afterCommit: () => void order.push('after b'),
        deadLetters: [{ record, reason: 'y', detail: 'b' }],
        lateRecords: 2,
        records: 3,
        closedAtMs: 40,
      },
    );
    await merged.write?.(undefined as never);
    await merged.afterCommit?.();
    assert.deepEqual(order, ['write a', 'write b', 'after a', 'after b']);
    assert.deepEqual(
      merged.deadLetters.map((d) => d.detail),
      ['a', 'b'],
    );
    assert.equal(merged.lateRecords, 3);
    assert.equal(merged.records, 5);
    assert.equal(merged.closedAtMs, 40);
  });

  it('stays combinable across a result with nothing to write', () => {
    const combineWrites = () => undefined;
    const write = async () => undefined;
    const merged = mergeResults(
      { write, combineWrites, deadLetters: [], lateRecords: 0, records: 1 },
      { deadLetters: [], lateRecords: 0, records: 1 },
    );
    assert.equal(merged.write, write);
    assert.equal(merged.combineWrites, combineWrites);
  });

  it('keeps the one write or close time there is', () => {
    const only = async () => undefined;
    const merged = mergeResults(
      { deadLetters: [], lateRecords: 0, records: 1 },
      { write: only, deadLetters: [], lateRecords: 0, records: 1, closedAtMs: 7 },
    );
    assert.equal(merged.write, only);
    assert.equal(merged.afterCommit, undefined);
    assert.equal(merged.closedAtMs, 7);
  });
});

describe('JobPartitions: one transaction for the partitions of a job', () => {
  it('commits the held results of every partition together when one is due, fenced ones left out', async () => {
    const { store, job, consumer, partitions } = fakeRunner({
      transactionMaxRecords: 1_000,
      transactionMaxDelayMs: 60_000,
      commitIntervalMs: 60_000,
    });
    await partitions.assign([0, 1, 2]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1'], '10'));
    await partitions.handleBatch(new FakeBatch(1, 0, ['2', '3'], '10'));
    await partitions.handleBatch(new FakeBatch(2, 0, ['4'], '10'));
    assert.equal(store.transactions.length, 0, 'behind, within the limits: all held');
    store.bumpEpoch(1);
    // Partition 2 catches up: its batch is due at once, and the others go with it.
    await partitions.handleBatch(new FakeBatch(2, 1, ['5'], '2'));
    assert.deepEqual(store.transactions, [[0, 2]], 'one transaction; the fenced partition 1 left out');
    assert.deepEqual(
      store.commits.map((c) => [c.partition, c.position.nextOffset]),
      [
        [0, 1n],
        [2, 2n],
      ],
    );
    assert.equal(job.sums.get(0), 1);
    assert.equal(job.sums.get(1), undefined, 'nothing of the fenced partition was written');
    assert.equal(job.sums.get(2), 9);
    await until(() => !partitions.ownedPartitions.includes(1));
    assert.deepEqual(partitions.ownedPartitions, [0, 2], 'the fenced partition is left to its new owner');
    await partitions.settle();
    assert.deepEqual(
      consumer.kafkaCommits.map((c) => c.partition),
      [0, 2],
    );
  });

  it('fails every partition a failed transaction carried, each rebuilt from its stored row on its own', async () => {
    const { store, job, consumer, partitions } = fakeRunner({ transactionMaxRecords: 1_000, commitIntervalMs: 0 });
    await partitions.assign([0, 1]);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1'], '10'));
    store.commitFailures.push(new Error('connection lost'));
    consumer.seeks.length = 0;
    await partitions.handleBatch(new FakeBatch(1, 0, ['2'], '1'));
    await partitions.settle();
    assert.deepEqual(store.transactions, [], 'the one transaction failed');
    assert.deepEqual(
      consumer.seeks.sort((a, b) => a.partition - b.partition),
      [
        { partition: 0, offset: 0n },
        { partition: 1, offset: 0n },
      ],
      'both read again from their stored positions',
    );
    assert.equal(job.sums.size, 0);
  });
});
