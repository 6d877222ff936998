// The bounded read of offset ranges (repairWatermark's OPEN_WINDOWS target)
// against the real broker: exactly the records asked for, in offset order per
// partition, the other partitions untouched, no consumer group left behind,
// and a read that cannot finish stopped at its time limit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PartitionReadError } from '../../src/errors/partition-read-error.js';
import { createKafka } from '../../src/ingest/kafka-client.js';
import { kafkaPartitionRangeReader, type PartitionRangeReader } from '../../src/ingest/partition-range-reader.js';
import { TestRuns } from '../helpers/job-runs.js';
import { connectAdmin, KAFKA_BROKERS, produce, randomName } from '../helpers/services.js';
import type { Admin } from 'kafkajs';

const PER_PARTITION = 50;

describe('reading offset ranges of a topic once', () => {
  const runs = new TestRuns();
  const prefix = randomName('range-read');
  let topic: string;
  let admin: Admin;
  let read: PartitionRangeReader;

  before(async () => {
    topic = (await runs.createTopic('range-read')).topic;
    await produce(
      topic,
      [0, 1, 2].flatMap((partition) =>
        Array.from({ length: PER_PARTITION }, (_, i) => ({
          partition,
          value: `${partition}:${i}`,
          timestamp: String(Date.UTC(2026, 0, 1) + i),
        })),
      ),
    );
    admin = await connectAdmin();
    read = kafkaPartitionRangeReader(createKafka(KAFKA_BROKERS, prefix), admin, prefix);
  });

  after(async () => {
    await admin.disconnect();
    await runs.cleanup();
  });

  it('should hand out exactly the records of each range, in offset order, and leave no group behind', async () => {
    const seen = new Map<number, { offset: bigint; value: string; timestampMs: number }[]>();
    await read(
      topic,
      [
        { partition: 0, from: 10n, to: 20n },
        { partition: 1, from: 0n, to: BigInt(PER_PARTITION) },
        { partition: 2, from: 7n, to: 7n },
      ],
      (partition, r) => {
        const list = seen.get(partition) ?? [];
        list.push({ offset: r.offset, value: r.value?.toString() ?? '', timestampMs: r.timestampMs });
        seen.set(partition, list);
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(
      seen.get(0)?.map((r) => r.value),
      Array.from({ length: 10 }, (_, i) => `0:${i + 10}`),
    );
    assert.deepEqual(
      seen.get(1)?.map((r) => r.offset),
      Array.from({ length: PER_PARTITION }, (_, i) => BigInt(i)),
    );
    assert.equal(seen.get(1)?.[3].timestampMs, Date.UTC(2026, 0, 1) + 3);
    assert.equal(seen.has(2), false, 'an empty range reads nothing');
    const { groups } = await admin.listGroups();
    assert.deepEqual(
      groups.filter((g) => g.groupId.startsWith(prefix)),
      [],
    );
  });

  it('should stop a read that cannot finish at its time limit, naming where each partition stood', async () => {
    const started = Date.now();
    await assert.rejects(
      read(topic, [{ partition: 2, from: 40n, to: BigInt(PER_PARTITION + 10) }], () => undefined, { timeoutMs: 8_000 }),
      (err: unknown) => {
        assert.ok(err instanceof PartitionReadError);
        assert.equal(err.code, 'PARTITION_READ_FAILED');
        assert.equal(err.failure, 'timeout');
        // Where the partition stood: at the range's start (40) when the throwaway group had not joined
        // yet, up to the topic's end (its 50 records read) when it had; never elsewhere.
        assert.deepEqual([...err.unfinished.keys()], [2]);
        const at = err.unfinished.get(2) ?? -1n;
        assert.ok(at >= 40n && at <= BigInt(PER_PARTITION), `partition 2 stood at ${at}`);
        return true;
      },
    );
    assert.ok(Date.now() - started < 20_000, 'stopped near its limit');
  });
});
