import type { OffsetStore } from '../store/offset-store.js';
import type { JobDefinition } from '../engine/job.js';
import type { Db, Tx } from '../store/prisma-client.js';
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
   * THE batch transaction, for every partition of this worker that is due
   * (see `decideCommit`), in ONE transaction:
   *
   * 1. the partitions' `consumer_offset` rows, locked in primary-key order in
   *    one statement, each epoch checked: a partition another owner claimed
   *    since is left out (a zombie writes nothing), the others go on;
   * 2. the remaining partitions' results (`write`: the runner combines them
   *    into one write where the job allows it), then their new positions and
   *    counters in one statement.
   *
   * Everything that must be exactly-once with a batch (results, a change log
   * of them) belongs in its `write`, between the lock and the advance.
   *
   * READ COMMITTED: every row a batch relies on is locked (its partitions'
   * rows, the rows it upserts), and a plain read sees what committed before
   * the statement, not before the transaction's first read. A job that
   * publishes a key's total over partition-local rows reads it after taking
   * its group's ordering row (`CommitOrderStore.take`), so the total counts
   * every transaction that committed before, and no other can commit before
   * this one. Under REPEATABLE READ that read would see the snapshot of the
   * transaction's first plain read (a de-duplication lookup) and could miss
   * a commit in between.
   * @returns the partitions left out because they were fenced, ascending.
   * @throws the database's errors: the transaction is rolled back, nothing of any partition was written.
   */
  async commitBatches(
    commits: readonly BatchCommit[],
    write: (tx: Tx, partitions: readonly number[]) => Promise<void>,
  ): Promise<{ fenced: number[] }> {
    const { groupId, topic, offsets } = this;
    const ordered = [...commits].sort((a, b) => a.partition - b.partition);
    return this.db.$transaction(
      async (tx) => {
        const epochs = await offsets.lockMany(
          tx,
          groupId,
          topic,
          ordered.map((c) => c.partition),
        );
        const fenced: number[] = [];
        const live: BatchCommit[] = [];
        for (const c of ordered) {
          if (epochs.get(c.partition) === c.epoch) live.push(c);
          else fenced.push(c.partition);
        }
        if (live.length === 0) return { fenced };
        await write(
          tx,
          live.map((c) => c.partition),
        );
        await offsets.advanceMany(
          tx,
          groupId,
          topic,
          live.map((c) => ({
            partition: c.partition,
            ...c.position,
            lateRecords: c.lateRecords,
            deadLettered: c.deadLettered,
            beyondDedupHorizon: c.beyondDedupHorizon,
            eventTimeAhead: c.eventTimeAhead,
            fingerprint: c.fingerprint,
          })),
        );
        return { fenced };
      },
      {
        maxWait: TX_MAX_WAIT_MS,
        timeout: TX_TIMEOUT_MS,
        isolationLevel: 'ReadCommitted',
      },
    );
  }

  wasReset(partition: number): Promise<boolean> {
    return this.offsets.wasReset(this.groupId, this.topic, partition);
  }

  epochOf(partition: number): Promise<number | null> {
    return this.offsets.epochOf(this.groupId, this.topic, partition);
  }
}
