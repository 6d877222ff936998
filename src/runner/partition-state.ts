import type { BatchResult, JobPosition, PartitionProcessor } from '../engine/job.js';
import type { LogFingerprint } from '../store/offset-store.js';
import type { OffsetBounds } from './consumer-port.js';
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
   * What the batches and ticks processed since the last commit produced,
   * merged ({@link mergeResults}), until the job's next commit (see
   * `decideCommit`); null when nothing waits. The processor's position
   * already includes them. Dropped with the state: a re-claim seeks back to
   * the stored row.
   */
  held: BatchResult | null;
  /** Records of the batches in {@link held}. */
  heldRecords: number;
  /** Wall clock when the first batch of {@link held} was processed, epoch milliseconds. */
  heldSinceMs: number;
  /** {@link held} is due at once: it ends a backlog, or an idle tick produced it. */
  heldUrgent: boolean;
  /** Whether the last fetched batch reached the high watermark (the partition had caught up). */
  caughtUp: boolean;
  /**
   * The stored last record, to be found at its offset in the first batch
   * before anything is processed (the read position starts there); null once
   * checked, or when there is nothing to check.
   */
  verify: LogFingerprint | null;
  /** The last record processed: stored with the next commit's position. Null until a record is processed. */
  lastRecord: LogFingerprint | null;
  /** The partition's earliest and latest offsets when it was claimed. */
  claimBounds: OffsetBounds;
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

/**
 * One result for two consecutive results of one partition (`a` first), to be
 * committed in ONE transaction: the writes and post-commit work `a` combines
 * with `b` (`BatchResult.combineWrites`), else `a`'s writes then `b`'s and
 * `a`'s post-commit work then `b`'s; the dead letters of both in order, the
 * counts added, the earlier window-close time.
 */
export function mergeResults(a: BatchResult, b: BatchResult): BatchResult {
  const counts = {
    deadLetters: a.deadLetters.length === 0 ? b.deadLetters : a.deadLetters.concat(b.deadLetters),
    lateRecords: a.lateRecords + b.lateRecords,
    records: a.records + b.records,
    closedAtMs:
      a.closedAtMs === undefined
        ? b.closedAtMs
        : b.closedAtMs === undefined
          ? a.closedAtMs
          : Math.min(a.closedAtMs, b.closedAtMs),
  };
  // A result with nothing to write or do after the commit leaves the other's as they are (combinable later).
  if (!b.write && !b.afterCommit)
    return { write: a.write, afterCommit: a.afterCommit, combineWrites: a.combineWrites, ...counts };
  if (!a.write && !a.afterCommit)
    return { write: b.write, afterCommit: b.afterCommit, combineWrites: b.combineWrites, ...counts };
  const combined = a.combineWrites?.(b);
  if (combined) return { ...combined, ...counts };
  const wa = a.write;
  const wb = b.write;
  const ca = a.afterCommit;
  const cb = b.afterCommit;
  return {
    write:
      wa && wb
        ? async (tx) => {
            await wa(tx);
            await wb(tx);
          }
        : (wa ?? wb),
    afterCommit:
      ca && cb
        ? async () => {
            await ca();
            await cb();
          }
        : (ca ?? cb),
    ...counts,
  };
}
