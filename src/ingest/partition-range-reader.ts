import { randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { PartitionReadError } from '../errors/partition-read-error.js';

/** A record of a bounded read: Kafka's fields, offset as bigint, timestamp in epoch MILLISECONDS. */
export interface RangeRecord {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Kafka record timestamp, epoch milliseconds. */
  timestampMs: number;
}

/** The offsets `[from, to)` of one partition: `from` inclusive, `to` exclusive. */
export interface PartitionRange {
  partition: number;
  from: bigint;
  to: bigint;
}

/** Options of one bounded read. */
export interface PartitionRangeReadOptions {
  /**
   * Time limit of the whole read, MILLISECONDS: connecting, joining a
   * throwaway consumer group (the broker holds a new group's first join for
   * `group.initial.rebalance.delay.ms`, 3 s by default) and fetching. At the
   * limit the read stops with a {@link PartitionReadError} (`timeout`).
   */
  timeoutMs: number;
}

/**
 * Reads the records of `ranges` of `topic` once, in offset order per
 * partition, and hands each to `onRecord` (synchronously; nothing is kept, so
 * memory does not grow with the ranges). Partitions of several ranges are
 * read concurrently. Resolves once every range was read to its end.
 * @throws {PartitionReadError} `PARTITION_READ_FAILED` when the time limit
 *   passed or the Kafka client gave up; an error thrown by `onRecord` stops
 *   the read and is rethrown as it is.
 */
export type PartitionRangeReader = (
  topic: string,
  ranges: readonly PartitionRange[],
  onRecord: (partition: number, record: RangeRecord) => void,
  options: PartitionRangeReadOptions,
) => Promise<void>;

/**
 * The {@link PartitionRangeReader} of a kafkajs client. kafkajs reads only
 * through a consumer group, so each read joins a group of its own
 * (`<groupPrefix>-<random>`), seeks every partition of `ranges` to its start,
 * pauses the others, commits nothing (no offset of any job's group moves),
 * leaves the group when done and deletes it through `admin` (best effort: an
 * empty group holds no data and the broker expires it).
 * @param groupPrefix prefix of the throwaway group ids. @default "rt-analytics-range-read"
 */
export function kafkaPartitionRangeReader(
  kafka: Kafka,
  admin: Admin,
  groupPrefix = 'rt-analytics-range-read',
): PartitionRangeReader {
  return (topic, ranges, onRecord, options) =>
    readRanges(kafka, admin, `${groupPrefix}-${randomBytes(6).toString('hex')}`, topic, ranges, onRecord, options);
}

async function readRanges(
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topic: string,
  ranges: readonly PartitionRange[],
  onRecord: (partition: number, record: RangeRecord) => void,
  { timeoutMs }: PartitionRangeReadOptions,
): Promise<void> {
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be greater than 0 (milliseconds), got ${timeoutMs}`);
  /** Partition -> its range, while not read to its end. */
  const pending = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  if (pending.size === 0) return;
  /** Partition -> the next offset to hand out. */
  const next = new Map([...pending.values()].map((r) => [r.partition, r.from]));
  const unfinished = () => new Map([...pending.keys()].map((p) => [p, next.get(p) ?? 0n]));

  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const consumer = kafka.consumer({
    groupId,
    // A range ends at or below the high watermark: a fetch never needs to wait for new records.
    maxWaitTimeInMs: 250,
    retry: { retries: 3 },
  });
  const partitionDone = (p: number, to: bigint) => {
    if ((next.get(p) ?? 0n) < to) return;
    pending.delete(p);
    consumer.pause([{ topic, partitions: [p] }]);
    if (pending.size === 0) finish();
  };
  consumer.on(consumer.events.CRASH, (e) => {
    fail(
      new PartitionReadError(topic, 'kafka', unfinished(), `reading ${topic} failed: ${e.payload.error.message}`, {
        cause: e.payload.error,
      }),
    );
  });
  // Every assignment (one, unless the broker rebalances the throwaway group): the ranges' partitions from
  // where they stand, the others paused. A seek is applied before the partition's next fetch.
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const assigned = e.payload.memberAssignment[topic] ?? [];
    const others = assigned.filter((p) => !pending.has(p));
    if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    for (const p of assigned) {
      const from = next.get(p);
      if (pending.has(p) && from !== undefined) consumer.seek({ topic, partition: p, offset: from.toString() });
    }
  });
  // A fetch whose records were all filtered out (control records of transactional producers, aborted
  // records) reaches no eachBatch: it still moves the partition on.
  consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
    const { partition, batchSize, lastOffset } = e.payload;
    // kafkajs declares a string; it is null for a batch of compacted-away records only.
    const firstOffset = e.payload.firstOffset as string | null;
    const range = pending.get(partition);
    const at = next.get(partition);
    if (batchSize !== 0 || range === undefined || at === undefined || firstOffset === null) return;
    if (BigInt(firstOffset) <= at && BigInt(lastOffset) + 1n > at) next.set(partition, BigInt(lastOffset) + 1n);
    partitionDone(partition, range.to);
  });

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PartitionReadError(
            topic,
            'timeout',
            unfinished(),
            `reading ${topic} did not finish within ${timeoutMs} ms (${[...unfinished()]
              .map(([p, o]) => `partition ${p} at offset ${o} of ${pending.get(p)?.to ?? o}`)
              .join(', ')})`,
          ),
        ),
      timeoutMs,
    );
  });
  const read = async () => {
    await consumer.connect();
    // From the beginning, not the end, should a fetch start before its seek applied: records below
    // a range are skipped, and none of a range is missed.
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.max(1, pending.size),
      eachBatch: ({ batch }) => {
        const p = batch.partition;
        const range = pending.get(p);
        let at = next.get(p);
        if (range === undefined || at === undefined) return Promise.resolve();
        try {
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            // Below: fetched before the seek applied (or read already); at or after the end: not asked for.
            if (offset < at || offset >= range.to) continue;
            onRecord(p, { offset, key: m.key, value: m.value, timestampMs: Number(m.timestamp) });
            at = offset + 1n;
          }
          const last = BigInt(batch.lastOffset());
          // Offsets the log no longer holds (compaction, control records) inside a batch that reached past them.
          if (batch.messages.length > 0 && BigInt(batch.messages[0].offset) <= at && last + 1n > at) at = last + 1n;
          next.set(p, at);
          partitionDone(p, range.to);
        } catch (err) {
          fail(err);
        }
        return Promise.resolve();
      },
    });
    await finished;
  };
  try {
    await Promise.race([read(), finished, deadline]);
  } finally {
    clearTimeout(timer);
    // Best effort: the group committed nothing, and an empty group expires by itself.
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}
