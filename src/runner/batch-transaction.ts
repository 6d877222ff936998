import type { OffsetStore } from '../store/offset-store.js';
import type { JobDefinition } from '../jobs/job.js';
import type { Db } from '../store/prisma-client.js';
import type { OffsetBounds } from './consumer-port.js';
import type { BatchCommit, ClaimedPosition, PartitionStorePort } from './partition-store-port.js';

/** Longest a batch transaction waits for a connection from the pool, milliseconds. */
const TX_MAX_WAIT_MS = 10_000;
/** Longest a batch transaction may run before Prisma rolls it back, milliseconds. */
const TX_TIMEOUT_MS = 60_000;

/**
 * The MySQL {@link PartitionStorePort} of one job (`consumer_offset` rows of
 * its group and topic): the exactly-once batch transaction lives here.
 */
export class DatabasePartitionStore implements PartitionStorePort {
  constructor(
    private readonly db: Db,
    private readonly offsets: OffsetStore,
    private readonly groupId: string,
    private readonly topic: string,
    /** The job's window specification, checked against and stored with each claimed position. */
    private readonly windowSpec?: JobDefinition['windowSpec'],
  ) {}

  claim(partition: number, bounds: OffsetBounds, owner: string): Promise<ClaimedPosition> {
    return this.offsets.claim(this.groupId, this.topic, partition, bounds, owner, this.windowSpec);
  }

  markRecreated(partition: number): Promise<void> {
    return this.offsets.markRecreated(this.groupId, this.topic, partition);
  }

  async restartAtEarliest(partition: number, earliest: bigint): Promise<void> {
    await this.db.$transaction((tx) =>
      this.offsets.restartRecreated(tx, this.groupId, this.topic, partition, earliest),
    );
  }

  /**
   * THE batch transaction: lock the partition's row and check the epoch (a
   * worker that lost the partition fails here, before writing anything), the
   * job's results, then the new position and counters. Everything that must be
   * exactly-once with the batch (results, a change log of them) belongs in this
   * body, between the lock and the advance.
   * @throws {FencedError} code `PARTITION_FENCED` from the lock.
   */
  async commitBatch(partition: number, commit: BatchCommit): Promise<void> {
    const { groupId, topic, offsets } = this;
    await this.db.$transaction(
      async (tx) => {
        await offsets.lock(tx, groupId, topic, partition, commit.epoch);
        if (commit.write) await commit.write(tx);
        await offsets.advance(tx, groupId, topic, partition, {
          ...commit.position,
          lateRecords: commit.lateRecords,
          deadLettered: commit.deadLettered,
          fingerprint: commit.fingerprint,
        });
      },
      { maxWait: TX_MAX_WAIT_MS, timeout: TX_TIMEOUT_MS },
    );
  }

  wasReset(partition: number): Promise<boolean> {
    return this.offsets.wasReset(this.groupId, this.topic, partition);
  }

  epochOf(partition: number): Promise<number | null> {
    return this.offsets.epochOf(this.groupId, this.topic, partition);
  }
}
