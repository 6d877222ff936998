import type { JobPosition } from '../engine/job.js';
import type { ClaimOutcome, LogFingerprint } from '../store/offset-store.js';
import type { Tx } from '../store/prisma-client.js';
import type { OffsetBounds } from './consumer-port.js';

/** A partition's stored position as a claim returns it, with the new owner's epoch. */
export interface ClaimedPosition extends JobPosition {
  /** This owner's fencing token: a batch commits only while the stored epoch is still this one. */
  epoch: number;
  /** Records deleted by retention before they were processed, found by this claim. */
  lostNow: bigint;
  /** The stored last record, to be found at its offset before anything is processed (null: nothing to check). */
  verify: ClaimOutcome['verify'];
  /** The log ends below the stored position: the position was left as it is (the caller decides). */
  logShorter: ClaimOutcome['logShorter'];
}

/** What one partition commits (the batches and ticks processed since its last commit). */
export interface BatchCommit {
  partition: number;
  /** The owner's epoch from its claim (fencing). */
  epoch: number;
  /** The position the partition reached. */
  position: JobPosition;
  /** Late records of the batch, added to the partition's counter. */
  lateRecords: number;
  /** Dead letters sent for the batch, added to the partition's counter. */
  deadLettered: number;
  /** Of {@link deadLettered}: records beyond the de-duplication horizon, added to their own counter. */
  beyondDedupHorizon: number;
  /** Of {@link deadLettered}: records whose event time was too far ahead, added to their own counter. */
  eventTimeAhead: number;
  /** The last record processed (which log the position belongs to); null keeps the stored one. */
  fingerprint: LogFingerprint | null;
}

/**
 * The database side of one job's partitions (group and topic fixed), narrowed
 * to what the runner needs; `DatabasePartitionStore` is the MySQL one.
 */
export interface PartitionStorePort {
  /**
   * Takes ownership of `partition` (bumps its epoch) and returns the position to
   * resume from, checked against the partition's Kafka `bounds`.
   * @throws {WindowSpecChangedError} code `WINDOW_SPEC_CHANGED` when the stored position was computed under another window specification.
   */
  claim(partition: number, bounds: OffsetBounds, owner: string): Promise<ClaimedPosition>;
  /**
   * Commits the results and positions of several partitions (each at most
   * once) in ONE transaction, fenced per partition: a partition whose stored
   * epoch is no longer its commit's is left out (nothing of it is written),
   * the others commit. `write` writes the results of the partitions left in
   * (ascending), after their rows were locked and before their positions.
   * It may run again, with the same or fewer partitions, when the transaction
   * is run again.
   * @returns the partitions left out because they were fenced, ascending.
   * @throws the database's errors (nothing of any partition was written).
   */
  commitBatches(
    commits: readonly BatchCommit[],
    write: (tx: Tx, partitions: readonly number[]) => Promise<void>,
  ): Promise<{ fenced: number[] }>;
  /** Whether the partition's current epoch came from an operator's reset or rebuild. */
  wasReset(partition: number): Promise<boolean>;
  /** The partition's stored epoch (the current owner's fencing token), or null when it has no row. */
  epochOf(partition: number): Promise<number | null>;
  /** Records that the partition's log was found not to be the stored one (shown to operators until a reset). */
  markRecreated(partition: number): Promise<void>;
  /**
   * Moves the partition to `earliest` of a log found recreated (marked so
   * first), audited as the service's own decision (ON_TOPIC_RECREATED=earliest);
   * the epoch moves, so the caller claims the partition again.
   */
  restartAtEarliest(partition: number, earliest: bigint): Promise<void>;
}
