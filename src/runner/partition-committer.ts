import type { Logger } from 'pino';
import { FencedError } from '../errors/fenced-error.js';
import type { BatchResult, JobDefinition, JobPosition } from '../jobs/job.js';
import type { Metrics } from '../observability/metrics.js';
import type { ConsumerPort } from './consumer-port.js';
import type { DeadLetterSink } from './dead-letter-sink.js';
import type { PartitionState } from './partition-state.js';
import { samePosition } from './partition-state.js';
import type { PartitionStorePort } from './partition-store-port.js';
import type { PostCommitQueue } from './post-commit-queue.js';

/** What a committed batch reports to `onCommit` (tests and metrics). */
export interface CommitInfo {
  partition: number;
  position: JobPosition;
  records: number;
  deadLettered: number;
}

/**
 * The committer's view of which partitions the worker owns (kept by
 * `JobPartitions`): a partition whose commit failed is forgotten or claimed
 * again through it.
 */
export interface PartitionOwnership {
  /** True while `state` is still the worker's state of its partition (not revoked, fenced or re-claimed). */
  isCurrent(state: PartitionState): boolean;
  /** True while the consumer group assigns `partition` to this worker. */
  isAssigned(partition: number): boolean;
  /** Drops the worker's state of `partition`: batches of it are skipped until a claim. */
  forget(partition: number): void;
  /** Makes `state` current again (a rebuild attempt failed; the next one retries). */
  restore(state: PartitionState): void;
  /** Claims `partitions` again: new epoch, new processor from the stored row, seek to `replay_from`. */
  claim(partitions: number[]): Promise<void>;
  /** True once the worker is stopping: recovery gives up. */
  readonly stopping: boolean;
}

/** Options of {@link PartitionCommitter}. */
export interface PartitionCommitterOptions {
  job: JobDefinition;
  store: PartitionStorePort;
  deadLetters: DeadLetterSink;
  postCommit: PostCommitQueue;
  consumer: Pick<ConsumerPort, 'commitOffset'>;
  ownership: PartitionOwnership;
  log: Logger;
  metrics?: Metrics;
  onCommit?: (info: CommitInfo) => void;
  /**
   * Waits before rebuild attempt `attempt` (0, 1, ...) of a partition whose commit failed.
   * @default a timer of {@link recoveryDelayMs}: 500, 1000, 2000, ... up to 30000 milliseconds
   */
  recoveryWait?: (attempt: number) => Promise<void>;
}

/** Exponential backoff of partition rebuilds: 500 ms doubling per attempt, at most 30 s (milliseconds). */
export function recoveryDelayMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** attempt);
}

function sleepBeforeRebuild(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, recoveryDelayMs(attempt)));
}

/**
 * A partition's exactly-once commit: dead letters first, then ONE fenced
 * transaction (results and position, `PartitionStorePort.commitBatch`), then
 * the post-commit work (publish, Kafka offset commit) in order. A failed
 * commit leaves the in-memory state ahead of the database, so the partition
 * is rebuilt from its stored row (see {@link onCommitFailure}).
 *
 * Callers hold the partition's chain (`runExclusive`) around {@link commit}.
 */
export class PartitionCommitter {
  constructor(private readonly opts: PartitionCommitterOptions) {}

  /**
   * Commits what `result` produced for `state`'s partition; skips the
   * transaction when there is nothing new. Never rejects: a failure goes to
   * {@link onCommitFailure}.
   */
  async commit(state: PartitionState, result: BatchResult): Promise<void> {
    const { job, store, deadLetters, metrics } = this.opts;
    const position = state.processor.position();
    if (!result.write && result.deadLetters.length === 0 && result.lateRecords === 0
      && samePosition(position, state.committed)) return;
    try {
      await deadLetters.send(state.partition, result.deadLetters);
      const txStarted = performance.now();
      await store.commitBatch(state.partition, {
        epoch: state.epoch,
        position,
        write: result.write,
        lateRecords: result.lateRecords,
        deadLettered: result.deadLetters.length,
      });
      metrics?.transactionDuration.observe({ job: job.name }, (performance.now() - txStarted) / 1000);
    } catch (err) {
      await this.onCommitFailure(state, err);
      return;
    }
    this.onCommitted(state, result, position);
  }

  /** Bookkeeping after the transaction committed, then the post-commit work queued. */
  private onCommitted(state: PartitionState, result: BatchResult, position: JobPosition): void {
    const { job, metrics: m, postCommit, consumer, log } = this.opts;
    state.committed = { ...position };
    state.rateCount += result.records;
    if (m) {
      m.recordsCommitted.inc({ job: job.name }, result.records);
      m.recordsLate.inc({ job: job.name }, result.lateRecords);
      for (const d of result.deadLetters) m.recordsDeadLettered.inc({ job: job.name, reason: d.reason });
      const lag = state.highWatermark - position.nextOffset;
      m.lag.set({ job: job.name, topic: job.topic, partition: String(state.partition) }, Number(lag > 0n ? lag : 0n));
    }
    this.opts.onCommit?.({
      partition: state.partition, position, records: result.records, deadLettered: result.deadLetters.length,
    });
    postCommit.enqueue(async () => {
      await result.afterCommit?.();
      if (result.closedAtMs !== undefined) {
        m?.windowEmitLatency.observe({ job: job.name }, (Date.now() - result.closedAtMs) / 1000);
      }
      await consumer.commitOffset(state.partition, position.nextOffset)
        .catch((err: unknown) => log.debug({ err, partition: state.partition }, 'kafka offset commit skipped'));
    });
  }

  /**
   * The per-partition commit failure path. The in-memory state is now ahead of
   * the database: forget it and rebuild the partition from its stored row
   * (claim again, seek back, replay).
   * - Fenced, after an operator's reset or rebuild while this worker still owns
   *   the partition: claim it again at once.
   * - Fenced by another worker's claim: forget the partition (it is theirs).
   * - Anything else (database, dead-letter topic): mark it recovering and retry
   *   the rebuild with {@link recoveryDelayMs} backoff until it succeeds or the
   *   worker stops. Attempts are counted in `attempt`.
   */
  private async onCommitFailure(state: PartitionState, err: unknown): Promise<void> {
    const { ownership, store, log } = this.opts;
    if (err instanceof FencedError) {
      const reset = ownership.isAssigned(state.partition)
        && await store.wasReset(state.partition).catch(() => false);
      if (reset && ownership.isCurrent(state)) {
        // An operator moved the partition: this worker still owns it, so it starts over from the stored row.
        log.info({ partition: state.partition }, 'partition moved by an operator: claiming it again');
        await ownership.claim([state.partition]).catch((e: unknown) => this.onCommitFailure(state, e));
        return;
      }
      log.warn({ partition: state.partition }, err.message);
      if (ownership.isCurrent(state)) ownership.forget(state.partition);
      return;
    }
    log.error({ err, partition: state.partition }, 'batch commit failed: rebuilding the partition from the database');
    state.recovering = true;
    await this.rebuild(state);
  }

  /** Re-claims `state`'s partition with backoff; stops when it is no longer current or the worker stops. */
  private async rebuild(state: PartitionState): Promise<void> {
    const { ownership, log } = this.opts;
    const wait = this.opts.recoveryWait ?? sleepBeforeRebuild;
    for (let attempt = 0; !ownership.stopping; attempt++) {
      await wait(attempt);
      if (!ownership.isCurrent(state)) return;
      try {
        ownership.forget(state.partition);
        await ownership.claim([state.partition]);
        return;
      } catch (e) {
        ownership.restore(state);
        log.error({ err: e, partition: state.partition, attempt }, 'partition rebuild failed, retrying');
      }
    }
  }
}
