import type { Logger } from 'pino';
import { TopicRecreatedError } from '../errors/topic-recreated-error.js';
import type { BatchResult, JobDefinition, SourceRecord } from '../engine/job.js';
import type { Metrics } from '../observability/metrics.js';
import type { ConsumerPort, FetchedBatch } from './consumer-port.js';
import type { DeadLetterSink } from './dead-letter-sink.js';
import { detachedDeadLetters } from './detached-dead-letters.js';
import { FetchPause } from './fetch-pause.js';
import { fingerprintOf, sameRecord } from './log-fingerprint.js';
import { decideCommit, type CommitPolicy, type HeldResults } from './commit-decision.js';
import {
  PartitionCommitter,
  type CommitInfo,
  type HeldCommit,
  type PartitionOwnership,
} from './partition-committer.js';
import { PartitionHealth, type JobHealthChange, type PartitionFailure } from './partition-health.js';
import { mergeResults, runExclusive, type PartitionState } from './partition-state.js';
import type { PartitionStorePort } from './partition-store-port.js';
import { PostCommitQueue } from './post-commit-queue.js';

/** Re-seeks of one read position before a gap in the offsets is taken as real. */
export const MAX_RESEEKS = 10;

/**
 * What a partition whose topic was recreated does (ON_TOPIC_RECREATED):
 * `fail` stops it with TOPIC_RECREATED until an operator decides; `earliest`
 * moves it to the new log's earliest offset (audited) and counts it from there.
 */
export type TopicRecreatedPolicy = 'fail' | 'earliest';

/** Options of {@link JobPartitions}. */
export interface JobPartitionsOptions {
  job: JobDefinition;
  consumer: ConsumerPort;
  store: PartitionStorePort;
  deadLetters: DeadLetterSink;
  /** This process, as recorded in `consumer_offset.owner`: `host:pid`. */
  owner: string;
  log: Logger;
  /** Post-commit batches queued before fetching pauses (POST_COMMIT_MAX_PENDING). */
  maxPendingAfterCommit: number;
  metrics?: Metrics;
  /** Called after each committed batch (tests and metrics). */
  onCommit?: (info: CommitInfo) => void;
  /** Called after partitions were claimed (ownership shows in the `jobs` query at once). */
  onClaimed?: () => void;
  /** Called on each change of the job's failing state (one per change, not per retry). */
  onHealthChange?: (change: JobHealthChange) => void;
  /** Backoff of partition rebuilds (see `PartitionCommitterOptions.recoveryWait`). */
  recoveryWait?: (attempt: number, signal: AbortSignal) => Promise<void>;
  /**
   * Most records of one partition per batch transaction while the partition is
   * behind its high watermark (TRANSACTION_MAX_RECORDS): fetched batches are
   * held until then. 0 or 1: every fetched batch is its own transaction.
   * @default 0
   */
  transactionMaxRecords?: number;
  /**
   * Longest records are held for a larger transaction, milliseconds from the
   * first one held (TRANSACTION_MAX_DELAY_MS). @default 1000
   */
  transactionMaxDelayMs?: number;
  /**
   * Longest the results of a partition that has caught up wait for the next
   * fetched batches before their transaction commits, milliseconds
   * (COMMIT_INTERVAL_MS; Kafka Streams' `commit.interval.ms`, 100 under
   * exactly-once). 0: each fetched batch of a caught-up partition commits at once.
   * @default 0
   */
  commitIntervalMs?: number;
  /**
   * What a partition whose topic was recreated does: one whose log ends below
   * the stored position (found by the claim), or whose record at the stored
   * fingerprint's offset differs (found by the first batch). @default 'fail'
   */
  onTopicRecreated?: TopicRecreatedPolicy;
}

/** Default of {@link JobPartitionsOptions.transactionMaxDelayMs}, milliseconds. */
const DEFAULT_TRANSACTION_MAX_DELAY_MS = 1_000;

/**
 * The partitions one worker owns for one job, and the exactly-once protocol
 * over them, independent of the Kafka client (it talks to a
 * {@link ConsumerPort} and a {@link PartitionStorePort}): on every assignment
 * each partition's row is claimed (new epoch), checked against the
 * partition's earliest/latest offsets, and the consumer seeks to
 * `replay_from`; each batch is processed in memory and committed by the
 * {@link PartitionCommitter}; idle partitions are ticked so windows close.
 *
 * kafkajs has no rebalance listener, so the claim happens on the group join; a
 * batch fetched before the seek is stale (`isStale()`, or it starts past the
 * read position) and is skipped.
 *
 * While a partition is behind (a backlog is read), the results of consecutive
 * fetched batches (each processed at once) are merged and committed in ONE
 * transaction, up to `transactionMaxRecords` records or
 * `transactionMaxDelayMs`: the fixed cost of a transaction is paid once per
 * many records. A partition that has caught up commits at most every
 * `commitIntervalMs` (as Kafka Streams' `commit.interval.ms`): under a steady
 * trickle each fetch returns a few records, and one transaction per fetch
 * would cost the worker and the database most of their time. Exactly-once
 * is unchanged: a held result is in memory only (its records resolved in the
 * consumer, committed nowhere), so a crash, a revoke or a re-claim drops it
 * with the processor's state and the partition is read again from its stored
 * row, as after a failed transaction.
 */
export class JobPartitions implements PartitionOwnership {
  private readonly partitions = new Map<number, PartitionState>();
  private readonly initializing = new Map<number, Promise<void>>();
  private assigned = new Set<number>();
  private stoppingNow = false;
  private readonly pause: FetchPause;
  private readonly postCommit: PostCommitQueue;
  private readonly committer: PartitionCommitter;
  private readonly health: PartitionHealth;
  /** The commit settings, resolved once. */
  private readonly policy: CommitPolicy;
  /** The job's commit in flight (one at a time), or null. */
  private committing: Promise<void> | null = null;
  /** Wakes {@link maybeCommit} when held results become due without a batch or tick; null when none is due. */
  private commitTimer: ReturnType<typeof setTimeout> | null = null;
  /** When {@link commitTimer} fires, epoch milliseconds. */
  private commitTimerDueMs = 0;

  constructor(private readonly opts: JobPartitionsOptions) {
    this.policy = {
      transactionMaxRecords: opts.transactionMaxRecords ?? 0,
      transactionMaxDelayMs: opts.transactionMaxDelayMs ?? DEFAULT_TRANSACTION_MAX_DELAY_MS,
      commitIntervalMs: opts.commitIntervalMs ?? 0,
    };
    this.health = new PartitionHealth({
      job: opts.job.name,
      log: opts.log,
      metrics: opts.metrics,
      onChange: opts.onHealthChange,
    });
    this.pause = new FetchPause(opts.consumer);
    this.postCommit = new PostCommitQueue({
      maxPending: opts.maxPendingAfterCommit,
      onBackpressure: (paused) => this.pause.setByBackpressure(paused),
      log: opts.log,
    });
    this.committer = new PartitionCommitter({
      job: opts.job,
      store: opts.store,
      deadLetters: opts.deadLetters,
      postCommit: this.postCommit,
      consumer: opts.consumer,
      ownership: this,
      log: opts.log,
      metrics: opts.metrics,
      health: this.health,
      onCommit: opts.onCommit,
      recoveryWait: opts.recoveryWait,
    });
  }

  /** Partitions this worker owns now, ascending. */
  get ownedPartitions(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  /** The states of the partitions owned now (for the stats reporter). */
  owned(): Iterable<PartitionState> {
    return this.partitions.values();
  }

  /**
   * Partitions of this worker that keep failing for the same non-transient
   * reason (the job is FAILING while this is not empty), ascending.
   */
  failing(): PartitionFailure[] {
    return this.health.failing();
  }

  /** True while an operator has paused the job. */
  get isPaused(): boolean {
    return this.pause.byOperator;
  }

  get stopping(): boolean {
    return this.stoppingNow;
  }

  isCurrent(state: PartitionState): boolean {
    return this.partitions.get(state.partition) === state;
  }

  isAssigned(partition: number): boolean {
    return this.assigned.has(partition);
  }

  owns(partition: number): boolean {
    return this.partitions.has(partition);
  }

  forget(partition: number): void {
    this.partitions.delete(partition);
  }

  restore(state: PartitionState): void {
    this.partitions.set(state.partition, state);
  }

  /**
   * Pauses or resumes consumption for an operator (`pauseJob` / `resumeJob`).
   * While paused nothing is fetched and nothing is committed, idle ticks
   * included; a batch already in flight is dropped and read again on resume.
   */
  setOperatorPaused(paused: boolean): void {
    if (!this.pause.setByOperator(paused)) return;
    this.opts.log.info({ paused }, paused ? 'job paused by an operator' : 'job resumed by an operator');
  }

  /**
   * The group's assignment of this worker changed (a group join): partitions
   * no longer assigned are dropped, the assigned ones claimed, a kept one only
   * at its batch boundary. Batches of a partition wait for its claim.
   */
  async assign(assigned: number[]): Promise<void> {
    this.assigned = new Set(assigned);
    const keep = new Set(assigned);
    for (const p of [...this.partitions.keys()]) {
      if (!keep.has(p)) {
        this.partitions.delete(p);
        this.opts.log.info({ partition: p }, 'partition revoked');
      }
    }
    for (const p of this.health.tracked()) if (!keep.has(p)) this.health.forget(p);
    if (assigned.length === 0) return;
    // A kept partition may have a batch in flight: claim it only at the batch boundary.
    await Promise.all(assigned.map((p) => this.partitions.get(p)?.chain.catch(() => undefined) ?? Promise.resolve()));
    const init = this.claimEach(assigned);
    for (const p of assigned) this.initializing.set(p, init);
    try {
      await init;
    } finally {
      for (const p of assigned) if (this.initializing.get(p) === init) this.initializing.delete(p);
    }
    this.opts.log.info({ partitions: assigned, topic: this.opts.job.topic }, 'partitions assigned');
  }

  /**
   * Claims each of `partitions` on its own: one whose claim fails (database
   * down, a window specification that changed) is retried with backoff by the
   * committer while the others run. Never rejects.
   */
  private async claimEach(partitions: number[]): Promise<void> {
    for (const p of partitions) {
      try {
        await this.claim([p]);
      } catch (err) {
        void this.committer.recoverUnclaimed(p, err);
      }
    }
  }

  /**
   * The assignment/claim path: claims `partitions` in the database (new epoch,
   * position checked against Kafka's offset bounds), builds each partition's
   * processor from its stored position and seeks the consumer to `replay_from`.
   * Checks a partition must pass before this worker processes it belong here.
   * @throws whatever the bounds lookup or the claim throws (the caller logs or retries).
   */
  async claim(partitions: number[]): Promise<void> {
    const { job, store, consumer, log, owner } = this.opts;
    const bounds = await consumer.partitionBounds();
    for (const partition of partitions) {
      const b = bounds.get(partition) ?? { earliest: 0n, latest: 0n };
      let pos = await store.claim(partition, b, owner);
      if (pos.logShorter) {
        const { storedOffset } = pos.logShorter;
        this.opts.metrics?.topicRecreated.inc({ job: job.name });
        if ((this.opts.onTopicRecreated ?? 'fail') === 'fail')
          throw new TopicRecreatedError(
            job.groupId,
            job.topic,
            partition,
            storedOffset,
            b,
            'log-shorter-than-position',
          );
        log.warn(
          { partition, storedOffset: storedOffset.toString(), earliest: b.earliest.toString() },
          'the topic was recreated (its log ends below the stored position): counting the new log from its earliest offset (ON_TOPIC_RECREATED=earliest)',
        );
        await store.restartAtEarliest(partition, b.earliest);
        pos = await store.claim(partition, b, owner);
      }
      if (pos.lostNow > 0n) {
        log.warn(
          { partition, lost: pos.lostNow.toString(), earliest: b.earliest.toString() },
          'records were deleted by retention before they were processed: starting at the earliest offset',
        );
      }
      const nowMs = Date.now();
      const state: PartitionState = {
        partition,
        epoch: pos.epoch,
        processor: job.createProcessor({
          partition,
          nextOffset: pos.nextOffset,
          replayFrom: pos.replayFrom,
          watermarkMs: pos.watermarkMs,
          nowMs,
        }),
        // The stored last record first, when the log still holds it: is this the log the position was read from?
        readPosition: pos.verify?.offset ?? pos.replayFrom,
        committed: { nextOffset: pos.nextOffset, replayFrom: pos.replayFrom, watermarkMs: pos.watermarkMs },
        chain: Promise.resolve(),
        recovering: false,
        reseeks: 0,
        highWatermark: pos.nextOffset,
        rateCount: 0,
        lateCount: 0,
        aheadCount: 0,
        rateSince: nowMs,
        held: null,
        heldRecords: 0,
        heldSinceMs: nowMs,
        heldUrgent: false,
        caughtUp: false,
        verify: pos.verify,
        lastRecord: null,
        claimBounds: b,
      };
      this.partitions.set(partition, state);
      this.health.succeeded(partition, 'claim');
      consumer.seek(partition, state.readPosition);
      log.debug(
        {
          partition,
          epoch: pos.epoch,
          replayFrom: pos.replayFrom.toString(),
          nextOffset: pos.nextOffset.toString(),
        },
        'partition claimed',
      );
    }
    this.opts.onClaimed?.();
  }

  /**
   * An operator moved some of this job's partitions (reset or rebuild): claim
   * the ones this worker owns again, at a batch boundary: window state is
   * dropped, the stored position read back, the consumer seeks there.
   */
  async reclaim(partitions: number[]): Promise<void> {
    for (const p of partitions) {
      // A partition waiting out its backoff (a refused window specification, a failing commit) is retried at once.
      if (this.assigned.has(p)) this.committer.wake(p);
      const state = this.partitions.get(p);
      if (!state) continue;
      await runExclusive(state, async () => {
        if (this.partitions.get(p) === state && this.assigned.has(p)) await this.claim([p]);
      });
    }
  }

  /**
   * Handles one fetched batch: skips it when the partition is not ours
   * (resolved, so it is not fetched again and again), recovering or paused
   * (left unresolved: fetched again later), stale, or fetched before the last
   * seek landed (seek again); otherwise processes it and commits the result,
   * or holds the result for a larger transaction (see {@link JobPartitions}).
   */
  async handleBatch(batch: FetchedBatch): Promise<void> {
    const partition = batch.partition;
    const init = this.initializing.get(partition);
    // Its failure was reported where the claim ran; here only its end matters.
    if (init) await init.catch(() => undefined);
    const state = this.partitions.get(partition);
    if (!state) {
      batch.resolveOffset(batch.lastOffset());
      return;
    }
    if (state.recovering || !batch.isRunning() || this.pause.byOperator) return;
    await runExclusive(state, async () => {
      if (batch.isStale() || this.partitions.get(partition) !== state || this.pause.byOperator) return;
      state.highWatermark = BigInt(batch.highWatermark);
      const records = this.recordsFrom(state, batch);
      if (records.length > 0 && records[0].offset > state.readPosition && state.reseeks < MAX_RESEEKS) {
        // kafkajs prefetches: a batch fetched before our seek can arrive after the seek was
        // applied without being flagged stale. Processing it would skip the replay of open
        // windows, so seek again. Only a real gap (control records of transactional
        // producers, compaction) persists through several re-seeks.
        state.reseeks++;
        this.opts.consumer.seek(partition, state.readPosition);
        return;
      }
      if (records.length > 0 && records[0].offset > state.readPosition) {
        this.opts.log.warn(
          { partition, expected: state.readPosition.toString(), got: records[0].offset.toString() },
          'offsets are not contiguous: accepting the gap',
        );
      }
      state.reseeks = 0;
      // Before anything changes: a heartbeat that fails (a rebalance) leaves the batch unresolved and
      // unprocessed, never processed without its result committed or held.
      await batch.heartbeat();
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a seek, re-claim or operator pause may land while the heartbeat was awaited
      if (batch.isStale() || this.partitions.get(partition) !== state || this.pause.byOperator) return;
      batch.resolveOffset(batch.lastOffset());
      if (records.length === 0) return;
      if (state.verify !== null) {
        await this.verifyLog(state, records);
        return;
      }
      const last = records[records.length - 1];
      state.readPosition = last.offset + 1n;
      state.lastRecord = fingerprintOf(last);
      const nowMs = Date.now();
      // Processed at once, so the records die young; only the (small) result waits for the commit.
      const result = state.processor.process(records, nowMs);
      result.deadLetters = detachedDeadLetters(result.deadLetters);
      this.opts.metrics?.recordsConsumed.inc({ job: this.opts.job.name }, result.records);
      const wasCaughtUp = state.caughtUp;
      state.caughtUp = state.highWatermark <= state.readPosition;
      // The batch that ends a backlog is due at once: a replay's last records need not wait for a trickle.
      this.hold(state, result, records.length, nowMs, state.caughtUp && !wasCaughtUp);
    });
    // Outside the partition's chain: the commit takes the chains of none, and waits for none.
    await this.maybeCommit();
    // A partition whose commit failed is fetched again once it was rebuilt (the others go on meanwhile).
    await this.committer.recovered(partition);
  }

  /**
   * Adds `result` (of `records` records, processed at `nowMs`) to what
   * `state` holds for the job's next commit. Synchronous with the processing
   * that produced it: whenever a commit takes what a partition holds, the
   * processor's position is exactly the held results' position.
   */
  private hold(state: PartitionState, result: BatchResult, records: number, nowMs: number, urgent: boolean): void {
    if (state.held === null) {
      state.held = result;
      state.heldRecords = records;
      state.heldSinceMs = nowMs;
      state.heldUrgent = urgent;
      return;
    }
    state.held = mergeResults(state.held, result);
    state.heldRecords += records;
    state.heldUrgent ||= urgent;
  }

  /**
   * The first batch after a claim that found a stored fingerprint: the
   * record at its offset must be the stored one. When it is (or when the log
   * no longer holds it, compacted away: nothing to compare), the partition
   * seeks back to its replay offset and goes on. When it is not, the topic
   * was recreated and grew past the stored offset: with `fail` the partition
   * stops with TOPIC_RECREATED (marked in the database, retried with backoff
   * through the committer, FAILING from the second attempt) and nothing of
   * the batch is processed; with `earliest` the position moves to the log's
   * earliest offset (audited) and the partition is claimed again, as the
   * claim does for a log that ends below the stored position. Caller
   * holds the chain.
   */
  private async verifyLog(state: PartitionState, records: SourceRecord[]): Promise<void> {
    const { job, log, store, consumer } = this.opts;
    const expected = state.verify;
    const first = records.at(0);
    if (expected === null || first === undefined) return;
    if (first.offset === expected.offset && !sameRecord(fingerprintOf(first), expected)) {
      this.opts.metrics?.topicRecreated.inc({ job: job.name });
      if ((this.opts.onTopicRecreated ?? 'fail') === 'earliest') {
        log.warn(
          {
            partition: state.partition,
            storedOffset: state.committed.nextOffset.toString(),
            earliest: state.claimBounds.earliest.toString(),
          },
          'the topic was recreated (another record at the last committed offset): counting the new log from its earliest offset (ON_TOPIC_RECREATED=earliest)',
        );
        try {
          await store.restartAtEarliest(state.partition, state.claimBounds.earliest);
          await this.claim([state.partition]);
        } catch (err) {
          // The database or the broker failed on the way: retried from the stored row like a failed commit.
          await this.committer.fail(state, err);
        }
        return;
      }
      const err = new TopicRecreatedError(
        job.groupId,
        job.topic,
        state.partition,
        state.committed.nextOffset,
        { earliest: state.claimBounds.earliest, latest: state.highWatermark },
        'fingerprint-mismatch',
      );
      await store.markRecreated(state.partition).catch(() => undefined);
      await this.committer.fail(state, err);
      return;
    }
    if (first.offset !== expected.offset) {
      log.warn(
        { partition: state.partition, offset: expected.offset.toString(), first: first.offset.toString() },
        'the last committed record is no longer in the log (compacted): resuming without checking which log this is',
      );
    }
    state.verify = null;
    state.readPosition = state.committed.replayFrom;
    consumer.seek(state.partition, state.readPosition);
  }

  /**
   * The batch's records at or after the read position (earlier ones were
   * fetched before the seek landed). Offsets are parsed from kafkajs' decimal
   * strings once each; the next one is derived from the previous one when
   * they are consecutive (the usual case), which skips the string parse.
   */
  private recordsFrom(state: PartitionState, batch: FetchedBatch): SourceRecord[] {
    const records: SourceRecord[] = [];
    const from = state.readPosition;
    let prev = -2;
    let prevOffset = -2n;
    for (const m of batch.messages) {
      const n = Number(m.offset);
      // Exact while below 2^53; beyond it (never in practice) every offset is parsed as a bigint.
      const offset = n === prev + 1 && n < Number.MAX_SAFE_INTEGER ? prevOffset + 1n : BigInt(m.offset);
      prev = n;
      prevOffset = offset;
      if (offset < from) continue;
      records.push({ offset, key: m.key, value: m.value, timestampMs: Number(m.timestamp) });
    }
    return records;
  }

  /**
   * Ticks every owned partition that holds nothing (wall clock): what closed
   * windows or a moved watermark produced is held, due at once. A partition
   * that holds results is receiving records, so it is not idle. Then the
   * commit decision runs.
   */
  tick(): void {
    if (this.stoppingNow || this.pause.byOperator) return;
    const ticks: Promise<void>[] = [];
    for (const state of this.partitions.values()) {
      if (state.recovering || state.held !== null) continue;
      ticks.push(
        runExclusive(state, () => {
          if (this.partitions.get(state.partition) !== state || state.held !== null) return Promise.resolve();
          const nowMs = Date.now();
          const result = state.processor.tick(nowMs);
          if (result) this.hold(state, result, 0, nowMs, true);
          return Promise.resolve();
        }),
      );
    }
    void Promise.allSettled(ticks).then(() => this.maybeCommit());
  }

  /**
   * THE commit decision of the job on this worker, after Kafka Streams'
   * `StreamThread.maybeCommit`: called after every fetched batch, every tick,
   * by the commit timer and at stop. When any partition's held results are
   * due ({@link decideCommit}), the held results of EVERY owned partition
   * are taken, at one instant, and committed in ONE transaction
   * ({@link PartitionCommitter.commitGroup}); otherwise one timer is set for
   * when the first becomes due. One commit runs at a time: a call that finds
   * something due during one waits for it, then decides again; a call that
   * finds nothing due returns at once, so the partitions are read and
   * processed while the database commits. Never rejects.
   */
  async maybeCommit(): Promise<void> {
    for (;;) {
      const nowMs = Date.now();
      const waiting: HeldResults[] = [];
      for (const state of this.partitions.values()) {
        if (state.held === null || state.recovering) continue;
        waiting.push({
          partition: state.partition,
          records: state.heldRecords,
          sinceMs: state.heldSinceMs,
          behind: state.highWatermark > state.readPosition,
          urgent: state.heldUrgent,
        });
      }
      const decision = decideCommit(waiting, nowMs, this.policy, this.stoppingNow);
      if (!decision.commitNow) {
        this.setCommitTimer(decision.nextDueMs);
        return;
      }
      if (this.committing) {
        // Something is due while the previous commit runs: wait for it (this bounds what is held), then
        // decide again. Until then batches go on being processed, beside the database's work.
        await this.committing;
        continue;
      }
      this.setCommitTimer(null);
      const run = this.commitHeld();
      this.committing = run;
      try {
        await run;
      } finally {
        this.committing = null;
      }
      return;
    }
  }

  /** Takes what every owned partition holds (with its position, at this instant) and commits it together. */
  private async commitHeld(): Promise<void> {
    const started = performance.now();
    const taken: HeldCommit[] = [];
    for (const state of this.partitions.values()) {
      const result = state.held;
      if (result === null || state.recovering) continue;
      taken.push({ state, result, position: state.processor.position(), fingerprint: state.lastRecord });
      state.held = null;
      state.heldRecords = 0;
      state.heldUrgent = false;
    }
    if (taken.length === 0) return;
    await this.committer.commitGroup(taken);
    this.opts.metrics?.batchDuration.observe({ job: this.opts.job.name }, (performance.now() - started) / 1000);
  }

  /**
   * Wakes {@link maybeCommit} at `dueMs` (epoch milliseconds), when what is
   * held becomes due with no further batch or tick (the next fetch may wait
   * up to KAFKA_MAX_WAIT_MS); null: no wake-up. One timer per job.
   */
  private setCommitTimer(dueMs: number | null): void {
    if (this.commitTimer !== null) {
      if (dueMs !== null && this.commitTimerDueMs <= dueMs) return;
      clearTimeout(this.commitTimer);
      this.commitTimer = null;
    }
    if (dueMs === null) return;
    this.commitTimerDueMs = dueMs;
    this.commitTimer = setTimeout(
      () => {
        this.commitTimer = null;
        void this.maybeCommit();
      },
      Math.max(0, dueMs - Date.now()),
    );
    // Stopping commits what is held (beginStop): the timer must not keep the process alive.
    this.commitTimer.unref();
  }

  /** Stops ticks and rebuilds; batches already running still finish, held records are committed. */
  beginStop(): void {
    this.stoppingNow = true;
    void this.maybeCommit();
    // A partition in its backoff waits for up to 30 s: end the wait so settle() is prompt.
    this.committer.wakeAll();
  }

  /** Resolves once every partition's chain has settled, the last commit ran and the post-commit work has run. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.partitions.values()].map((s) => s.chain));
    // Batches that finished after beginStop held their results: committed now (stopping makes them due).
    await this.maybeCommit();
    await this.committer.settle();
    await this.postCommit.drain();
  }
}
