import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { FencedError } from '../errors/fenced-error.js';
import { classifyCommitFailure } from './commit-failure.js';
import type { BatchResult, DeadLetter, JobDefinition, JobPosition } from '../engine/job.js';
import type { LogFingerprint } from '../store/offset-store.js';
import type { Tx } from '../store/prisma-client.js';
import { EVENT_TIME_AHEAD } from '../domain/event-time.js';
import { BEYOND_DEDUP_HORIZON } from '../domain/dedup-horizon.js';
import type { Metrics } from '../observability/metrics.js';
import type { ConsumerPort } from './consumer-port.js';
import type { DeadLetterSink } from './dead-letter-sink.js';
import type { PartitionHealth } from './partition-health.js';
import type { PartitionState } from './partition-state.js';
import { mergeResults, samePosition } from './partition-state.js';
import type { BatchCommit, PartitionStorePort } from './partition-store-port.js';
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
  /** True while the worker holds a state of `partition` (claimed, not forgotten). */
  owns(partition: number): boolean;
  /** True once the worker is stopping: recovery gives up. */
  readonly stopping: boolean;
}

/** Options of {@link PartitionCommitter}. */
export interface PartitionCommitterOptions {
  job: JobDefinition;
  store: PartitionStorePort;
  deadLetters: DeadLetterSink;
  postCommit: PostCommitQueue;
  consumer: Pick<ConsumerPort, 'commitOffsets'>;
  ownership: PartitionOwnership;
  log: Logger;
  metrics?: Metrics;
  /** The failing state of the job's partitions: every failed and successful attempt is reported to it. */
  health: PartitionHealth;
  onCommit?: (info: CommitInfo) => void;
  /**
   * Waits before rebuild attempt `attempt` (0, 1, ...) of a partition whose commit or claim
   * failed; `attempt` counts every failed attempt since the partition last worked. `signal`
   * is aborted when the wait is cut short (an operator's reset, the worker stopping): the wait
   * may end then, and is no longer awaited either way.
   * @default a timer of {@link recoveryDelayMs}: 500, 1000, 2000, ... up to 30000 milliseconds
   */
  recoveryWait?: (attempt: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Codes of a transaction the database rolled back because of another
 * transaction (deadlock 1213, lock wait timeout 1205, Prisma's write conflict
 * P2034): nothing of it was written, so it runs again at once, in place, with
 * the same results, rather than rebuilding the partition from Kafka.
 */
const ROLLED_BACK_BY_CONTENTION = new Set(['MYSQL_1213', 'MYSQL_1205', 'P2034']);

/** Runs of a batch transaction that contention rolled back before the partition is rebuilt instead. */
export const IN_PLACE_ATTEMPTS = 3;

/** How many of `deadLetters` have `reason`. */
function countReason(deadLetters: readonly DeadLetter[], reason: string): number {
  let n = 0;
  for (const d of deadLetters) if (d.reason === reason) n++;
  return n;
}

/** Exponential backoff of partition rebuilds: 500 ms doubling per attempt, at most 30 s (milliseconds). */
export function recoveryDelayMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** attempt);
}

/** The default backoff: a timer that keeps no process alive and is cleared when `signal` aborts. */
function sleepBeforeRebuild(attempt: number, signal: AbortSignal): Promise<void> {
  return sleep(recoveryDelayMs(attempt), undefined, { signal, ref: false }).catch(() => undefined);
}

/** One partition's part of a job's commit: what it holds, taken at one instant with the position it leads to. */
export interface HeldCommit {
  state: PartitionState;
  result: BatchResult;
  /** The processor's position right after the held results were processed. */
  position: JobPosition;
  /** The last record processed then (which log the position belongs to); null keeps the stored one. */
  fingerprint: LogFingerprint | null;
}

/**
 * The exactly-once commit of a job's partitions on this worker: dead letters
 * first, then ONE fenced transaction for every partition carried (results
 * and positions, `PartitionStorePort.commitBatches`), then each partition's
 * post-commit work (publish, Kafka offset commit) in order. A partition
 * whose commit failed has its in-memory state ahead of the database, so it
 * is rebuilt from its stored row (see {@link onCommitFailure}), on its own:
 * the others go on.
 *
 * One commit of a job runs at a time (`JobPartitions.maybeCommit`).
 */
export class PartitionCommitter {
  /** Cuts a partition's pending backoff wait short (an operator's reset or rebuild, a stop): partition -> its controller. */
  private readonly wakers = new Map<number, AbortController>();
  /** Partitions whose claim failed and is being retried (not owned meanwhile). */
  private readonly unclaimed = new Set<number>();
  /** Failure handling running per partition (fenced, rebuilt with backoff): awaited by {@link settle}. */
  private readonly failures = new Map<number, Promise<void>>();

  constructor(private readonly opts: PartitionCommitterOptions) {}

  /**
   * Commits what `held` carries, in one transaction; partitions with nothing
   * new are skipped, and no transaction runs when none is left. A partition
   * whose dead letters cannot be sent, or that was fenced, is left out and
   * handled on its own; a failed transaction fails every partition it
   * carried. Never rejects.
   */
  async commitGroup(held: readonly HeldCommit[]): Promise<void> {
    const { job, deadLetters, metrics } = this.opts;
    const ready: HeldCommit[] = [];
    for (const h of held) {
      const { result, position, state } = h;
      if (
        !result.write &&
        result.deadLetters.length === 0 &&
        result.lateRecords === 0 &&
        samePosition(position, state.committed)
      )
        continue;
      try {
        await deadLetters.send(state.partition, result.deadLetters);
        ready.push(h);
      } catch (err) {
        this.failLater(state, err);
      }
    }
    if (ready.length === 0) return;
    const byPartition = new Map(ready.map((h) => [h.state.partition, h]));
    const commits: BatchCommit[] = ready.map(({ state, result, position, fingerprint }) => ({
      partition: state.partition,
      epoch: state.epoch,
      position,
      lateRecords: result.lateRecords,
      deadLettered: result.deadLetters.length,
      beyondDedupHorizon: countReason(result.deadLetters, BEYOND_DEDUP_HORIZON),
      eventTimeAhead: countReason(result.deadLetters, EVENT_TIME_AHEAD),
      fingerprint,
    }));
    // The results of the partitions left in, as one (combined where the job allows it): written once.
    let written: BatchResult | null = null;
    const write = async (tx: Tx, partitions: readonly number[]) => {
      written = null;
      let merged: BatchResult | null = null;
      for (const p of partitions) {
        const r = byPartition.get(p)?.result;
        if (r) merged = merged === null ? r : mergeResults(merged, r);
      }
      written = merged;
      await merged?.write?.(tx);
    };
    let fenced: Set<number>;
    try {
      fenced = new Set((await this.runTransaction(commits, write)).fenced);
    } catch (err) {
      for (const { state } of ready) this.failLater(state, err);
      return;
    }
    const committed = ready.filter((h) => !fenced.has(h.state.partition));
    for (const h of ready) {
      if (fenced.has(h.state.partition))
        this.failLater(h.state, new FencedError(job.groupId, job.topic, h.state.partition, h.state.epoch));
    }
    if (committed.length === 0) return;
    metrics?.transactionPartitions.observe({ job: job.name }, committed.length);
    for (const [i, h] of ready.entries())
      if (!fenced.has(h.state.partition)) this.onCommitted(h.state, h.result, h.position, commits[i].eventTimeAhead);
    this.afterCommitted(committed, written);
  }

  /**
   * Runs the transaction; one that contention rolled back (nothing of it was
   * written) runs again in place, up to {@link IN_PLACE_ATTEMPTS} times,
   * counted and logged in one line.
   * @throws the last failure.
   */
  private async runTransaction(
    commits: readonly BatchCommit[],
    write: (tx: Tx, partitions: readonly number[]) => Promise<void>,
  ): Promise<{ fenced: number[] }> {
    const { job, store, metrics, log } = this.opts;
    for (let attempt = 1; ; attempt++) {
      const txStarted = performance.now();
      try {
        const outcome = await store.commitBatches(commits, write);
        metrics?.transactionDuration.observe({ job: job.name }, (performance.now() - txStarted) / 1000);
        return outcome;
      } catch (err) {
        if (attempt >= IN_PLACE_ATTEMPTS) throw err;
        const cause = classifyCommitFailure(err);
        if (!ROLLED_BACK_BY_CONTENTION.has(cause.code)) throw err;
        metrics?.commitRetries.inc({ job: job.name, code: cause.code });
        log.warn(
          { partitions: commits.map((c) => c.partition), code: cause.code, attempt },
          `batch transaction rolled back (${cause.code}: ${cause.message}): running it again`,
        );
      }
    }
  }

  /** Starts the failure handling of `state`'s partition without waiting for it (its backoff must not hold the others). */
  private failLater(state: PartitionState, err: unknown): void {
    // Batches of the partition wait from now on (set before any await of the handling).
    state.recovering = true;
    const run = this.onCommitFailure(state, err);
    this.failures.set(state.partition, run);
    void run.finally(() => {
      if (this.failures.get(state.partition) === run) this.failures.delete(state.partition);
    });
  }

  /**
   * Resolves once the failure handling of `partition` (a rebuild with
   * backoff) has ended; at once when there is none. The fetch of a partition
   * whose commit failed waits on it, as the other partitions go on.
   */
  async recovered(partition: number): Promise<void> {
    await this.failures.get(partition);
  }

  /** Resolves once every failure handling started so far has ended (the worker is stopping). */
  async settle(): Promise<void> {
    while (this.failures.size > 0) await Promise.allSettled([...this.failures.values()]);
  }

  /** A partition's bookkeeping after the transaction committed its results (`eventTimeAhead`: of its dead letters, those ahead). */
  private onCommitted(state: PartitionState, result: BatchResult, position: JobPosition, eventTimeAhead: number): void {
    const { job, metrics: m, health } = this.opts;
    state.committed = { ...position };
    health.succeeded(state.partition, 'commit');
    state.rateCount += result.records;
    state.lateCount += result.lateRecords;
    state.aheadCount += eventTimeAhead;
    if (m) {
      m.recordsCommitted.inc({ job: job.name }, result.records);
      m.recordsLate.inc({ job: job.name }, result.lateRecords);
      for (const d of result.deadLetters) m.recordsDeadLettered.inc({ job: job.name, reason: d.reason });
      const lag = state.highWatermark - position.nextOffset;
      m.lag.set({ job: job.name, topic: job.topic, partition: String(state.partition) }, Number(lag > 0n ? lag : 0n));
      const size = state.processor.windowState?.();
      if (size) {
        const partition = String(state.partition);
        m.windowKeys.set({ job: job.name, partition, kind: 'distinct' }, size.distinctKeys);
        m.windowKeys.set({ job: job.name, partition, kind: 'live' }, size.liveKeys);
        m.windowKeysPeak.set({ job: job.name, partition, kind: 'distinct' }, size.peakDistinctKeys);
        m.windowKeysPeak.set({ job: job.name, partition, kind: 'live' }, size.peakLiveKeys);
      }
    }
    this.opts.onCommit?.({
      partition: state.partition,
      position,
      records: result.records,
      deadLettered: result.deadLetters.length,
    });
  }

  /**
   * Queues the post-commit work of one transaction: the results' post-commit
   * work (publish, the Redis copy; one call when they were combined), then
   * the Kafka offsets of every partition it committed, in one request.
   */
  private afterCommitted(committed: readonly HeldCommit[], written: BatchResult | null): void {
    const { job, metrics: m, postCommit, consumer, log } = this.opts;
    // The queued work keeps only what it needs, not the results and their dead letters.
    const afterCommit = written?.afterCommit;
    const closedAtMs = written?.closedAtMs;
    const offsets = committed.map((h) => ({ partition: h.state.partition, nextOffset: h.position.nextOffset }));
    postCommit.enqueue(async () => {
      await afterCommit?.();
      if (closedAtMs !== undefined) {
        m?.windowEmitLatency.observe({ job: job.name }, (Date.now() - closedAtMs) / 1000);
      }
      await consumer
        .commitOffsets(offsets)
        .catch((err: unknown) =>
          log.debug({ err, partitions: offsets.map((o) => o.partition) }, 'kafka offset commit skipped'),
        );
    });
  }

  /**
   * Stops `state`'s partition for `err` found outside a commit (the log is
   * not the stored one): reported, counted and retried as a failed commit.
   * Never rejects.
   */
  fail(state: PartitionState, err: unknown): Promise<void> {
    return this.onCommitFailure(state, err);
  }

  /**
   * The per-partition commit failure path. The in-memory state is now ahead of
   * the database: forget it and rebuild the partition from its stored row
   * (claim again, seek back, replay).
   * - Fenced, after an operator's reset or rebuild while this worker still owns
   *   the partition: claim it again at once.
   * - Fenced by another worker's claim: forget the partition (it is theirs).
   * - Anything else (database, dead-letter topic): report it to the partition's
   *   health (which classifies it and flips the job to FAILING when the same
   *   non-transient cause repeats), mark it recovering and retry the rebuild
   *   with {@link recoveryDelayMs} backoff over every failed attempt since the
   *   partition last committed, until it succeeds or the worker stops.
   */
  private async onCommitFailure(state: PartitionState, err: unknown): Promise<void> {
    const { ownership, store, log } = this.opts;
    if (err instanceof FencedError) {
      const reset = ownership.isAssigned(state.partition) && (await store.wasReset(state.partition).catch(() => false));
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
    this.opts.health.failed(state.partition, err, 'commit');
    state.recovering = true;
    if (await this.claimedSince(state).catch(() => false)) return;
    await this.rebuild(state);
  }

  /**
   * Whether another worker claimed the partition since this one did (a worker
   * frozen past its session timeout wakes to a failed commit): the partition is
   * then handled as fenced, so a zombie never claims back what Kafka gave to
   * another worker.
   */
  private async claimedSince(state: PartitionState): Promise<boolean> {
    const { job, store } = this.opts;
    const epoch = await store.epochOf(state.partition);
    if (epoch === null || epoch === state.epoch) return false;
    await this.onCommitFailure(state, new FencedError(job.groupId, job.topic, state.partition, state.epoch));
    return true;
  }

  /**
   * The claim of `partition` on an assignment failed (`err`): retries it with
   * backoff while the partition stays assigned and unowned, until a claim
   * succeeds or the worker stops. A second failure while retrying is only
   * counted. Never rejects.
   */
  async recoverUnclaimed(partition: number, err: unknown): Promise<void> {
    const { ownership, health } = this.opts;
    health.failed(partition, err, 'claim');
    if (this.unclaimed.has(partition)) return;
    this.unclaimed.add(partition);
    try {
      while (!ownership.stopping) {
        await this.waitBeforeAttempt(partition);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may set `stopping` while the wait was awaited
        if (!ownership.isAssigned(partition) || ownership.owns(partition) || ownership.stopping) return;
        try {
          await ownership.claim([partition]);
          return;
        } catch (e) {
          health.failed(partition, e, 'claim');
        }
      }
    } finally {
      this.unclaimed.delete(partition);
    }
  }

  /** Ends the backoff wait of `partition` now (an operator reset or rebuilt it): the next attempt runs at once. */
  wake(partition: number): void {
    this.wakers.get(partition)?.abort();
  }

  /** Ends every pending backoff wait (the worker is stopping: recovery loops see it and give up). */
  wakeAll(): void {
    for (const waker of [...this.wakers.values()]) waker.abort();
  }

  /** The backoff before the next attempt of `partition`, over its failed attempts since it last worked. */
  private async waitBeforeAttempt(partition: number): Promise<void> {
    const wait = this.opts.recoveryWait ?? sleepBeforeRebuild;
    const attempt = Math.max(0, (this.opts.health.get(partition)?.streak ?? 1) - 1);
    const waker = new AbortController();
    this.wakers.set(partition, waker);
    try {
      // The race ends the wait at a wake even when a given wait does not watch its signal.
      await Promise.race([wait(attempt, waker.signal), once(waker.signal, 'abort')]);
    } finally {
      if (this.wakers.get(partition) === waker) this.wakers.delete(partition);
    }
  }

  /** Re-claims `state`'s partition with backoff; stops when it is no longer current or the worker stops. */
  private async rebuild(state: PartitionState): Promise<void> {
    const { ownership, health } = this.opts;
    while (!ownership.stopping) {
      await this.waitBeforeAttempt(state.partition);
      if (!ownership.isCurrent(state)) return;
      try {
        if (await this.claimedSince(state)) return;
        ownership.forget(state.partition);
        await ownership.claim([state.partition]);
        return;
      } catch (e) {
        ownership.restore(state);
        health.failed(state.partition, e, 'claim');
      }
    }
  }
}
