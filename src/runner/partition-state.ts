import type { JobPosition, PartitionProcessor, SourceRecord } from '../jobs/job.js';
import type { RateCounter } from './stats-reporter.js';

/** What a worker holds for one partition it owns, from its claim until revoke, fence or re-claim. */
export interface PartitionState extends RateCounter {
  readonly partition: number;
  /** Fencing token of this claim. */
  readonly epoch: number;
  readonly processor: PartitionProcessor;
  /** Next offset to read from Kafka (not the committed one: replays start lower). */
  readPosition: bigint;
  /** What the database holds, to skip empty transactions. */
  committed: JobPosition;
  /** Serialises batches, ticks and re-claims of this partition (see {@link runExclusive}). */
  chain: Promise<void>;
  /** Set while a failed commit is being recovered: batches wait for it. */
  recovering: boolean;
  /** Re-seeks done because a batch started past `readPosition`. */
  reseeks: number;
  /** Latest offset of the partition as last seen in a fetch (for the lag gauge). */
  highWatermark: bigint;
  /**
   * Records fetched (and resolved in the consumer) but not processed yet, in
   * offset order, held for a larger batch transaction while the partition is
   * behind; dropped with the state (a re-claim seeks back to the stored row).
   */
  held: SourceRecord[];
  /** Wall clock when the first of {@link held} arrived, epoch milliseconds. */
  heldSinceMs: number;
}

/**
 * Runs `fn` after everything already chained on the partition (batches, ticks,
 * re-claims never overlap on one partition), whether that succeeded or not.
 * @returns `fn`'s outcome; the chain itself never rejects.
 */
export function runExclusive(state: PartitionState, fn: () => Promise<void>): Promise<void> {
  const run = state.chain.then(fn, fn);
  state.chain = run.catch(() => undefined);
  return run;
}

/** True when `a` and `b` are the same position (nothing new to commit). */
export function samePosition(a: JobPosition, b: JobPosition): boolean {
  return a.nextOffset === b.nextOffset && a.replayFrom === b.replayFrom && a.watermarkMs === b.watermarkMs;
}
