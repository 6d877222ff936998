import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { classifyCommitFailure, type CommitFailureCause } from './commit-failure.js';

/**
 * Consecutive failed attempts of a partition with the same non-transient
 * cause after which the partition (and so its job) is FAILING: the first
 * failure may be a one-off, the second with the same cause is not.
 */
export const FAILING_AFTER_ATTEMPTS = 2;

/** Where a failed attempt happened: the batch commit, or the claim that (re)starts a partition. */
export type AttemptStage = 'commit' | 'claim';

/** A partition's current run of failed attempts, as the `jobs` query shows it. */
export interface PartitionFailure extends CommitFailureCause {
  partition: number;
  /** Consecutive failed attempts with this `code` (>= 1). */
  attempts: number;
  /** When the first of those attempts failed, epoch milliseconds. */
  sinceMs: number;
  /** True once `attempts` >= {@link FAILING_AFTER_ATTEMPTS} and the cause is not transient. */
  failing: boolean;
  /** Where the latest attempt failed. */
  stage: AttemptStage;
  /** Every failed attempt since the last success, whatever the cause (drives the backoff). */
  streak: number;
}

/** A change of the job's failing state (at most one per change, not one per retry). */
export type JobHealthChange =
  | { kind: 'failing'; failure: PartitionFailure }
  | { kind: 'recovered'; partition: number; attempts: number; code: string };

/** Options of {@link PartitionHealth}. */
export interface PartitionHealthOptions {
  job: string;
  log: Logger;
  metrics?: Metrics;
  /** Called on every change of the job's failing state (after the log line). */
  onChange?: (change: JobHealthChange) => void;
}

/**
 * The failing state of one job's partitions on this worker: counts failed
 * commit and claim attempts per partition, classifies their cause
 * ({@link classifyCommitFailure}), keeps the `rt_partition_failing` gauge and
 * logs ONE line per change of the job's state: `job failing` (error level,
 * code and message) when its first partition becomes failing, `job recovered`
 * (info, with the attempts) when its last failing partition commits again.
 * The first failure of a partition's run logs one warning when its cause is
 * transient (an outage: no FAILING line will follow), without the stack
 * trace (at debug); every other failed attempt logs at debug. Every transient
 * failure is counted in `rt_commit_retries_total{job,code}`.
 */
export class PartitionHealth {
  private readonly failures = new Map<number, PartitionFailure>();
  /** Most attempts any partition needed during the job's current failing episode. */
  private episodeAttempts = 0;

  constructor(private readonly opts: PartitionHealthOptions) {}

  /** The partition's current run of failures, if any. */
  get(partition: number): PartitionFailure | undefined {
    return this.failures.get(partition);
  }

  /** Partitions with a run of failures (failing or not). */
  tracked(): number[] {
    return [...this.failures.keys()];
  }

  /** Partitions that are FAILING now, ascending. */
  failing(): PartitionFailure[] {
    return [...this.failures.values()].filter((f) => f.failing).sort((a, b) => a.partition - b.partition);
  }

  /** True while at least one partition is FAILING. */
  get isFailing(): boolean {
    return this.failing().length > 0;
  }

  /** Records a failed attempt of `partition`; returns its updated run of failures. */
  failed(partition: number, err: unknown, stage: AttemptStage, nowMs = Date.now()): PartitionFailure {
    const { log } = this.opts;
    const cause = classifyCommitFailure(err);
    const wasJobFailing = this.isFailing;
    const prev = this.failures.get(partition);
    const same = prev?.code === cause.code;
    const attempts = same ? prev.attempts + 1 : 1;
    const failure: PartitionFailure = {
      ...cause,
      partition,
      attempts,
      sinceMs: same ? prev.sinceMs : nowMs,
      failing: !cause.transient && attempts >= FAILING_AFTER_ATTEMPTS,
      stage,
      streak: (prev?.streak ?? 0) + 1,
    };
    this.failures.set(partition, failure);
    this.gauge(partition, failure.failing ? 1 : 0);
    if (cause.transient) this.opts.metrics?.commitRetries.inc({ job: this.opts.job, code: cause.code });
    if (!prev && cause.transient) {
      // One line for an outage that retries outlast; the stack trace only at debug, below.
      log.warn(
        { partition, stage, code: cause.code, transient: cause.transient },
        `partition ${stage} failed (${cause.code}: ${cause.message}): retrying with backoff`,
      );
    }
    log.debug(
      { partition, stage, code: cause.code, attempts, err },
      `partition ${stage} failed ${prev ? 'again ' : ''}(${cause.code})`,
    );
    if (failure.failing) this.episodeAttempts = Math.max(this.episodeAttempts, attempts);
    if (failure.failing && !wasJobFailing) {
      log.error(
        { partition, code: cause.code, attempts, since: new Date(failure.sinceMs).toISOString() },
        `job failing: partition ${partition} keeps failing with ${cause.code}: ${cause.message}`,
      );
      this.opts.onChange?.({ kind: 'failing', failure });
    }
    return failure;
  }

  /**
   * An attempt of `partition` succeeded at `stage`. A committed batch ends any
   * run of failures; a successful claim ends only a run whose latest attempt
   * failed at the claim (a claim proves nothing about the commit).
   */
  succeeded(partition: number, stage: AttemptStage): void {
    const prev = this.failures.get(partition);
    if (!prev) {
      // Every commit passes here: only a claim (re)sets the gauge, so a committed batch costs one map lookup.
      if (stage === 'claim') this.gauge(partition, 0);
      return;
    }
    if (stage === 'claim' && prev.stage !== 'claim') return;
    this.clear(partition, prev, true);
  }

  /** The partition left this worker (revoked or taken over): its run of failures ends without recovery. */
  forget(partition: number): void {
    const prev = this.failures.get(partition);
    if (prev) this.clear(partition, prev, false);
    this.opts.metrics?.partitionFailing.remove({ job: this.opts.job, partition: String(partition) });
  }

  private clear(partition: number, prev: PartitionFailure, recovered: boolean): void {
    const wasJobFailing = this.isFailing;
    this.failures.delete(partition);
    this.gauge(partition, 0);
    if (!recovered) return;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `isFailing` is a getter over the failures, which the delete above just changed
    if (wasJobFailing && !this.isFailing) {
      const attempts = Math.max(this.episodeAttempts, prev.streak);
      this.episodeAttempts = 0;
      this.opts.log.info(
        { partition, code: prev.code, attempts },
        `job recovered: partition ${partition} ${prev.stage === 'claim' ? 'was claimed' : 'committed'} again after ${attempts} failed attempts (${prev.code})`,
      );
      this.opts.onChange?.({ kind: 'recovered', partition, attempts, code: prev.code });
    } else if (!prev.failing) {
      this.opts.log.info(
        { partition, code: prev.code, attempts: prev.streak },
        `partition ${prev.stage} succeeded again after ${prev.streak} failed attempts (${prev.code})`,
      );
    }
  }

  private gauge(partition: number, value: 0 | 1): void {
    this.opts.metrics?.partitionFailing.set({ job: this.opts.job, partition: String(partition) }, value);
  }
}
