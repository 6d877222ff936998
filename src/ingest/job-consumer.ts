import type { Redis } from 'ioredis';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { deadLetterTopic } from '../config/topics.js';
import { FencedError } from '../errors/fenced-error.js';
import type { BatchResult, JobDefinition, JobPosition, PartitionProcessor, SourceRecord } from '../jobs/job.js';
import type { Metrics } from '../observability/metrics.js';
import { partitionStatsKey } from '../observability/partition-stats.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import { partitionBounds } from './kafka-client.js';

/** Options of {@link JobConsumer}. */
export interface JobConsumerOptions {
  kafka: Kafka;
  db: Db;
  offsets: OffsetStore;
  job: JobDefinition;
  logger: Logger;
  /** Shared producer for dead letters (acks=all). */
  producer: Producer;
  /**
   * How often idle partitions are checked, so windows close in a quiet stream (milliseconds).
   * @default 1000 // 1 second
   */
  tickIntervalMs?: number;
  /**
   * Post-commit work (publishing, Kafka offset commits) queued beyond this many
   * batches pauses the topic until the queue drains to half.
   * @default 32
   */
  maxPendingAfterCommit?: number;
  /**
   * Partitions processed at once by this worker (each batch is its own transaction).
   * @default 3
   */
  partitionsConsumedConcurrently?: number;
  /** Kafka consumer settings, milliseconds and bytes. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxBytesPerPartition?: number;
  /** This process, as recorded in `consumer_offset.owner`: `host:pid`. */
  owner?: string;
  metrics?: Metrics;
  /**
   * Where per-partition live stats (owner, records/s) are published for the
   * `jobs` query, every `statsIntervalMs`, with a short TTL.
   */
  redis?: Redis;
  /** @default 5000 // 5 seconds */
  statsIntervalMs?: number;
  /** Called after each committed batch (tests and metrics). */
  onCommit?: (info: { partition: number; position: JobPosition; records: number; deadLettered: number }) => void;
}

interface PartitionState {
  partition: number;
  epoch: number;
  processor: PartitionProcessor;
  /** Next offset to read from Kafka (not the committed one: replays start lower). */
  readPosition: bigint;
  /** What the database holds, to skip empty transactions. */
  committed: JobPosition;
  /** Serialises batches, ticks and re-inits of this partition. */
  chain: Promise<void>;
  /** Set while a failed commit is being recovered: batches wait for it. */
  recovering: boolean;
  /** Re-seeks done because a batch started past `readPosition` (see {@link MAX_RESEEKS}). */
  reseeks: number;
  /** Latest offset of the partition as last seen in a fetch (for the lag gauge). */
  highWatermark: bigint;
  /** Records since `rateSince` (wall-clock ms), for records/s. */
  rateCount: number;
  rateSince: number;
}

/** Re-seeks of one read position before a gap in the offsets is taken as real. */
const MAX_RESEEKS = 10;



/**
 * Runs one job as a kafkajs consumer in the consumer group `job.groupId`, with
 * the exactly-once protocol of ARCHITECTURE.md: on every assignment the
 * partition's row is read from the database, checked against Kafka's
 * earliest/latest offsets, and the consumer seeks to `replay_from`; each batch
 * commits its results and the partition's position in ONE transaction; then,
 * only after commit, events are published and the offset is committed to
 * Kafka too (for standard lag tools). The database is the source of truth.
 *
 * kafkajs has no rebalance listener, so seeking happens on `GROUP_JOIN`; a
 * batch fetched before the seek is stale (`isStale()`) and skipped.
 */
export class JobConsumer {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly partitions = new Map<number, PartitionState>();
  private readonly initializing = new Map<number, Promise<void>>();
  private readonly pending: Array<() => Promise<void>> = [];
  private draining: Promise<void> | null = null;
  /** Paused because post-commit work is behind. */
  private backpressured = false;
  /** Paused by an operator (`pauseJob`). */
  private operatorPaused = false;
  private assigned = new Set<number>();
  private joinedOnce = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly log: Logger;
  private readonly dlqTopic: string;

  constructor(private readonly opts: JobConsumerOptions) {
    this.log = opts.logger.child({ job: opts.job.name });
    this.consumer = opts.kafka.consumer({
      groupId: opts.job.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: opts.heartbeatIntervalMs ?? 3_000,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
      maxBytes: Math.max(10_485_760, 3 * (opts.maxBytesPerPartition ?? 1_048_576)),
      // A fetch returns as soon as one record is there; the wait only bounds an idle poll,
      // which SIGTERM has to sit out before the consumer can leave the group.
      maxWaitTimeInMs: 1_000,
      retry: { retries: 10 },
    });
    this.admin = opts.kafka.admin();
    this.dlqTopic = deadLetterTopic(opts.job.topic);
  }

  /** Partitions this worker owns now. */
  get ownedPartitions(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  /** Joins the group and starts consuming. Resolves once `run()` has started. */
  async start(): Promise<void> {
    const { job } = this.opts;
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: job.topic, fromBeginning: true });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = e.payload.memberAssignment[job.topic] ?? [];
      this.joinedOnce = true;
      this.assigned = new Set(assigned);
      this.onAssignment(assigned).catch((err) => this.log.error({ err }, 'partition assignment failed'));
    });
    await this.consumer.run({
      autoCommit: false,
      // Resolved by hand, only for batches actually processed: kafkajs fetches from the last
      // resolved offset, and auto-resolving a stale batch after a seek landed would move the
      // fetch position past the seek (past the replay of open windows).
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    const interval = this.opts.tickIntervalMs ?? 1_000;
    this.tickTimer = setInterval(() => this.tickAll(), interval);
    this.tickTimer.unref();
    if (this.opts.redis) {
      this.statsTimer = setInterval(() => void this.publishStats(), this.opts.statsIntervalMs ?? 5_000);
      this.statsTimer.unref();
    }
  }

  /** True once the consumer has joined its group (readiness). */
  get joined(): boolean {
    return this.joinedOnce;
  }

  /** True while an operator has paused the job. */
  get isPaused(): boolean {
    return this.operatorPaused;
  }

  /**
   * Pauses or resumes consumption for an operator (`pauseJob` / `resumeJob`).
   * While paused nothing is fetched and nothing is committed, idle ticks
   * included; a batch already in flight is dropped and read again on resume.
   */
  setOperatorPaused(paused: boolean): void {
    if (paused === this.operatorPaused) return;
    this.operatorPaused = paused;
    this.log.info({ paused }, paused ? 'job paused by an operator' : 'job resumed by an operator');
    this.applyPause();
  }

  /**
   * An operator moved some of this job's partitions (reset or rebuild): claim
   * the ones this worker owns again, at a batch boundary: window state is
   * dropped, the stored position read back, the consumer seeks there.
   */
  async reclaim(partitions: number[]): Promise<void> {
    for (const p of partitions) {
      const state = this.partitions.get(p);
      if (!state) continue;
      await this.exclusive(state, async () => {
        if (this.partitions.get(p) === state && this.assigned.has(p)) await this.claim([p]);
      });
    }
  }

  /**
   * Finishes the batch in flight, commits it, drains post-commit work, leaves
   * the group and disconnects (SIGTERM path).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.consumer.disconnect();
    await Promise.allSettled([...this.partitions.values()].map((s) => s.chain));
    await this.drain();
    await this.admin.disconnect().catch(() => {});
  }

  /** Pauses fetching while an operator or backpressure wants it; takes effect at the next fetch. */
  private applyPause(): void {
    if (this.operatorPaused || this.backpressured) this.consumer.pause([{ topic: this.opts.job.topic }]);
    else this.consumer.resume([{ topic: this.opts.job.topic }]);
  }

  private async onAssignment(assigned: number[]): Promise<void> {
    const { job } = this.opts;
    const keep = new Set(assigned);
    for (const p of [...this.partitions.keys()]) {
      if (!keep.has(p)) {
        this.partitions.delete(p);
        this.log.info({ partition: p }, 'partition revoked');
      }
    }
    if (assigned.length === 0) return;
    // A kept partition may have a batch in flight: claim it only at the batch boundary.
    await Promise.all(assigned.map((p) => this.partitions.get(p)?.chain.catch(() => {})));
    const init = this.claim(assigned);
    for (const p of assigned) this.initializing.set(p, init);
    try {
      await init;
    } finally {
      for (const p of assigned) if (this.initializing.get(p) === init) this.initializing.delete(p);
    }
    this.log.info({ partitions: assigned, topic: job.topic }, 'partitions assigned');
  }

  /** Claims partitions in the database and seeks each to its replay offset. */
  private async claim(partitions: number[]): Promise<void> {
    const { job, offsets } = this.opts;
    const bounds = await partitionBounds(this.admin, job.topic);
    for (const partition of partitions) {
      const b = bounds.get(partition) ?? { earliest: 0n, latest: 0n };
      const pos = await offsets.claim(job.groupId, job.topic, partition, b, this.opts.owner ?? '');
      if (pos.lostNow > 0n) {
        this.log.warn({ partition, lost: pos.lostNow.toString(), earliest: b.earliest.toString() },
          'records were deleted by retention before they were processed: starting at the earliest offset');
      }
      const nowMs = Date.now();
      const state: PartitionState = {
        partition,
        epoch: pos.epoch,
        processor: job.createProcessor({ partition, nextOffset: pos.nextOffset, replayFrom: pos.replayFrom, watermarkMs: pos.watermarkMs, nowMs }),
        readPosition: pos.replayFrom,
        committed: { nextOffset: pos.nextOffset, replayFrom: pos.replayFrom, watermarkMs: pos.watermarkMs },
        chain: Promise.resolve(),
        recovering: false,
        reseeks: 0,
        highWatermark: pos.nextOffset,
        rateCount: 0,
        rateSince: nowMs,
      };
      this.partitions.set(partition, state);
      this.consumer.seek({ topic: job.topic, partition, offset: pos.replayFrom.toString() });
      this.log.debug({ partition, epoch: pos.epoch, replayFrom: pos.replayFrom.toString(), nextOffset: pos.nextOffset.toString() }, 'partition claimed');
    }
    // Ownership shows in the `jobs` query at once, not at the next stats tick.
    void this.publishStats();
  }

  private async eachBatch({ batch, isStale, heartbeat, isRunning, resolveOffset }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    const init = this.initializing.get(partition);
    if (init) await init.catch(() => {});
    const state = this.partitions.get(partition);
    if (!state) {
      // Not ours (revoked or fenced off): move on so kafkajs does not fetch it again and again.
      resolveOffset(batch.lastOffset());
      return;
    }
    // Recovering or paused: leave the batch unresolved, kafkajs fetches it again later.
    if (state.recovering || !isRunning() || this.operatorPaused) return;
    await this.exclusive(state, async () => {
      if (isStale() || this.partitions.get(partition) !== state || this.operatorPaused) return;
      const started = performance.now();
      state.highWatermark = BigInt(batch.highWatermark);
      const records: SourceRecord[] = [];
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        // Records below the read position were fetched before the seek landed.
        if (offset < state.readPosition) continue;
        records.push({ offset, key: m.key, value: m.value, timestampMs: Number(m.timestamp) });
      }
      if (records.length > 0 && records[0]!.offset > state.readPosition && state.reseeks < MAX_RESEEKS) {
        // kafkajs prefetches: a batch fetched before our seek can arrive after the seek was
        // applied without being flagged stale. Processing it would skip the replay of open
        // windows, so seek again. Only a real gap (control records of transactional
        // producers, compaction) persists through several re-seeks.
        state.reseeks++;
        this.consumer.seek({ topic: batch.topic, partition, offset: state.readPosition.toString() });
        return;
      }
      if (records.length > 0 && records[0]!.offset > state.readPosition) {
        this.log.warn({ partition, expected: state.readPosition.toString(), got: records[0]!.offset.toString() }, 'offsets are not contiguous: accepting the gap');
      }
      state.reseeks = 0;
      resolveOffset(batch.lastOffset());
      if (records.length === 0) return;
      const result = state.processor.process(records, Date.now());
      state.readPosition = records[records.length - 1]!.offset + 1n;
      this.opts.metrics?.recordsConsumed.inc({ job: this.opts.job.name }, result.records);
      await heartbeat();
      await this.commit(state, result);
      this.opts.metrics?.batchDuration.observe({ job: this.opts.job.name }, (performance.now() - started) / 1000);
    });
  }

  private tickAll(): void {
    if (this.stopping || this.operatorPaused) return;
    for (const state of this.partitions.values()) {
      if (state.recovering) continue;
      void this.exclusive(state, async () => {
        if (this.partitions.get(state.partition) !== state) return;
        const result = state.processor.tick(Date.now());
        if (result) await this.commit(state, result);
      });
    }
  }

  private exclusive(state: PartitionState, fn: () => Promise<void>): Promise<void> {
    const run = state.chain.then(fn, fn);
    state.chain = run.catch(() => {});
    return run;
  }

  /** Dead letters, then ONE transaction (lock row, results, position), then post-commit work. */
  private async commit(state: PartitionState, result: BatchResult): Promise<void> {
    const { job, db, offsets, producer } = this.opts;
    const position = state.processor.position();
    const unchanged = position.nextOffset === state.committed.nextOffset
      && position.replayFrom === state.committed.replayFrom
      && position.watermarkMs === state.committed.watermarkMs;
    if (!result.write && result.deadLetters.length === 0 && result.lateRecords === 0 && unchanged) return;
    try {
      if (result.deadLetters.length > 0) {
        // Sent before the commit: a crash in between re-sends them on replay (at-least-once
        // in the dead-letter topic, keyed by source position so consumers can de-duplicate),
        // but never loses one. The counters are exact: they commit with the position.
        await producer.send({
          topic: this.dlqTopic,
          acks: -1,
          messages: result.deadLetters.map((d) => ({
            key: `${job.topic}:${state.partition}:${d.record.offset}`,
            value: d.record.value,
            headers: {
              'dlq.reason': d.reason,
              'dlq.detail': d.detail,
              'dlq.job': job.name,
              'dlq.source.topic': job.topic,
              'dlq.source.partition': String(state.partition),
              'dlq.source.offset': d.record.offset.toString(),
              'dlq.source.timestamp': String(d.record.timestampMs),
              ...(d.record.key ? { 'dlq.source.key': d.record.key } : {}),
            },
          })),
        });
      }
      const txStarted = performance.now();
      await db.$transaction(async (tx) => {
        await offsets.lock(tx, job.groupId, job.topic, state.partition, state.epoch);
        if (result.write) await result.write(tx);
        await offsets.advance(tx, job.groupId, job.topic, state.partition, {
          ...position,
          lateRecords: result.lateRecords,
          deadLettered: result.deadLetters.length,
        });
      }, { maxWait: 10_000, timeout: 60_000 });
      this.opts.metrics?.transactionDuration.observe({ job: job.name }, (performance.now() - txStarted) / 1000);
    } catch (err) {
      await this.onCommitFailure(state, err);
      return;
    }
    state.committed = { ...position };
    state.rateCount += result.records;
    const m = this.opts.metrics;
    if (m) {
      m.recordsCommitted.inc({ job: job.name }, result.records);
      m.recordsLate.inc({ job: job.name }, result.lateRecords);
      for (const d of result.deadLetters) m.recordsDeadLettered.inc({ job: job.name, reason: d.reason });
      const lag = state.highWatermark - position.nextOffset;
      m.lag.set({ job: job.name, topic: job.topic, partition: String(state.partition) }, Number(lag > 0n ? lag : 0n));
    }
    this.opts.onCommit?.({ partition: state.partition, position, records: result.records, deadLettered: result.deadLetters.length });
    this.enqueue(async () => {
      await result.afterCommit?.();
      if (result.closedAtMs !== undefined) m?.windowEmitLatency.observe({ job: job.name }, (Date.now() - result.closedAtMs) / 1000);
      await this.consumer.commitOffsets([{ topic: job.topic, partition: state.partition, offset: position.nextOffset.toString() }])
        .catch((err) => this.log.debug({ err, partition: state.partition }, 'kafka offset commit skipped'));
    });
  }

  /**
   * The in-memory state is now ahead of the database: forget it and rebuild
   * the partition from its stored row (claim again, seek back, replay).
   */
  private async onCommitFailure(state: PartitionState, err: unknown): Promise<void> {
    if (err instanceof FencedError) {
      const reset = this.assigned.has(state.partition)
        && await this.opts.offsets.wasReset(this.opts.job.groupId, this.opts.job.topic, state.partition).catch(() => false);
      if (reset && this.partitions.get(state.partition) === state) {
        // An operator moved the partition: this worker still owns it, so it starts over from the stored row.
        this.log.info({ partition: state.partition }, 'partition moved by an operator: claiming it again');
        await this.claim([state.partition]).catch((e) => this.onCommitFailure(state, e));
        return;
      }
      this.log.warn({ partition: state.partition }, err.message);
      if (this.partitions.get(state.partition) === state) this.partitions.delete(state.partition);
      return;
    }
    this.log.error({ err, partition: state.partition }, 'batch commit failed: rebuilding the partition from the database');
    state.recovering = true;
    if (await this.claimedSince(state).catch(() => false)) return;
    for (let attempt = 0; !this.stopping; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      if (this.partitions.get(state.partition) !== state) return;
      try {
        if (await this.claimedSince(state)) return;
        this.partitions.delete(state.partition);
        await this.claim([state.partition]);
        return;
      } catch (e) {
        this.partitions.set(state.partition, state);
        this.log.error({ err: e, partition: state.partition, attempt }, 'partition rebuild failed, retrying');
      }
    }
  }

  /**
   * Whether the partition's stored epoch moved past this worker's while its
   * commit failed (it was frozen or cut off, and the group gave the partition
   * to another worker): then it is handled as fenced off, never claimed back.
   */
  private async claimedSince(state: PartitionState): Promise<boolean> {
    const { job, offsets } = this.opts;
    const epoch = await offsets.epochOf(job.groupId, job.topic, state.partition);
    if (epoch === null || epoch === state.epoch) return false;
    await this.onCommitFailure(state, new FencedError(job.groupId, job.topic, state.partition, state.epoch));
    return true;
  }

  private enqueue(work: () => Promise<void>): void {
    this.pending.push(work);
    const max = this.opts.maxPendingAfterCommit ?? 32;
    if (!this.backpressured && this.pending.length > max) {
      this.backpressured = true;
      this.applyPause();
      this.log.warn({ pending: this.pending.length }, 'post-commit work is behind: pausing consumption');
    }
    if (!this.draining) this.draining = this.drainLoop();
  }

  private async drainLoop(): Promise<void> {
    const max = this.opts.maxPendingAfterCommit ?? 32;
    while (this.pending.length > 0) {
      const work = this.pending.shift()!;
      try {
        await work();
      } catch (err) {
        this.log.error({ err }, 'post-commit work failed');
      }
      if (this.backpressured && this.pending.length <= max / 2) {
        this.backpressured = false;
        this.applyPause();
        this.log.info('post-commit work caught up: resuming consumption');
      }
    }
    this.draining = null;
  }

  /** Owner and records/s of each owned partition, for the `jobs` query (best effort). */
  private async publishStats(): Promise<void> {
    const { redis, job } = this.opts;
    if (!redis) return;
    const now = Date.now();
    const pipeline = redis.pipeline();
    for (const state of this.partitions.values()) {
      const seconds = Math.max(0.001, (now - state.rateSince) / 1000);
      const stats = { owner: this.opts.owner ?? null, recordsPerSecond: state.rateCount / seconds, at: now };
      state.rateCount = 0;
      state.rateSince = now;
      pipeline.set(partitionStatsKey(job.groupId, job.topic, state.partition), JSON.stringify(stats), 'EX', 30);
    }
    await pipeline.exec().catch(() => {});
  }

  private async drain(): Promise<void> {
    while (this.draining) await this.draining;
  }
}
