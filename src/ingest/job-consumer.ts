import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { deadLetterTopic } from '../config/topics.js';
import { FencedError } from '../errors/fenced-error.js';
import type { BatchResult, JobDefinition, JobPosition, PartitionProcessor, SourceRecord } from '../jobs/job.js';
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
  /** Read position for which a gap already caused a re-seek (a second gap there is real). */
  reseekedAt: bigint | null;
}

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
  private paused = false;
  private tickTimer: NodeJS.Timeout | null = null;
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
      this.onAssignment(assigned).catch((err) => this.log.error({ err }, 'partition assignment failed'));
    });
    await this.consumer.run({
      autoCommit: false,
      // Offsets are resolved per batch so kafkajs fetches on; the database holds the truth.
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    const interval = this.opts.tickIntervalMs ?? 1_000;
    this.tickTimer = setInterval(() => this.tickAll(), interval);
    this.tickTimer.unref();
  }

  /**
   * Finishes the batch in flight, commits it, drains post-commit work, leaves
   * the group and disconnects (SIGTERM path).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.consumer.disconnect();
    await Promise.allSettled([...this.partitions.values()].map((s) => s.chain));
    await this.drain();
    await this.admin.disconnect().catch(() => {});
  }

  /** Pauses fetching (operators, backpressure). Takes effect at the next fetch. */
  pause(): void {
    this.consumer.pause([{ topic: this.opts.job.topic }]);
  }

  resume(): void {
    this.consumer.resume([{ topic: this.opts.job.topic }]);
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
      const previous = this.partitions.get(partition);
      if (previous) await previous.chain.catch(() => {});
      const b = bounds.get(partition) ?? { earliest: 0n, latest: 0n };
      const pos = await offsets.claim(job.groupId, job.topic, partition, b);
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
        reseekedAt: null,
      };
      this.partitions.set(partition, state);
      this.consumer.seek({ topic: job.topic, partition, offset: pos.replayFrom.toString() });
      this.log.debug({ partition, epoch: pos.epoch, replayFrom: pos.replayFrom.toString(), nextOffset: pos.nextOffset.toString() }, 'partition claimed');
    }
  }

  private async eachBatch({ batch, isStale, heartbeat, isRunning }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    const init = this.initializing.get(partition);
    if (init) await init.catch(() => {});
    const state = this.partitions.get(partition);
    if (!state || state.recovering || !isRunning()) return;
    await this.exclusive(state, async () => {
      if (isStale() || this.partitions.get(partition) !== state) return;
      const records: SourceRecord[] = [];
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        // Records below the read position were fetched before the seek landed.
        if (offset < state.readPosition) continue;
        records.push({ offset, key: m.key, value: m.value, timestampMs: Number(m.timestamp) });
      }
      if (records.length === 0) return;
      if (records[0]!.offset > state.readPosition && state.reseekedAt !== state.readPosition) {
        // kafkajs prefetches: a batch fetched before our seek can arrive after the seek was
        // applied without being flagged stale. Processing it would skip the replay of open
        // windows, so seek again; a gap seen twice at one position is real (control records).
        state.reseekedAt = state.readPosition;
        this.consumer.seek({ topic: batch.topic, partition, offset: state.readPosition.toString() });
        return;
      }
      const result = state.processor.process(records, Date.now());
      state.readPosition = records[records.length - 1]!.offset + 1n;
      await heartbeat();
      await this.commit(state, result);
    });
  }

  private tickAll(): void {
    if (this.stopping) return;
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
      await db.$transaction(async (tx) => {
        await offsets.lock(tx, job.groupId, job.topic, state.partition, state.epoch);
        if (result.write) await result.write(tx);
        await offsets.advance(tx, job.groupId, job.topic, state.partition, {
          ...position,
          lateRecords: result.lateRecords,
          deadLettered: result.deadLetters.length,
        });
      }, { maxWait: 10_000, timeout: 60_000 });
    } catch (err) {
      await this.onCommitFailure(state, err);
      return;
    }
    state.committed = { ...position };
    this.opts.onCommit?.({ partition: state.partition, position, records: result.records, deadLettered: result.deadLetters.length });
    this.enqueue(async () => {
      await result.afterCommit?.();
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
      this.log.warn({ partition: state.partition }, err.message);
      if (this.partitions.get(state.partition) === state) this.partitions.delete(state.partition);
      return;
    }
    this.log.error({ err, partition: state.partition }, 'batch commit failed: rebuilding the partition from the database');
    state.recovering = true;
    for (let attempt = 0; !this.stopping; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      if (this.partitions.get(state.partition) !== state) return;
      try {
        this.partitions.delete(state.partition);
        await this.claim([state.partition]);
        return;
      } catch (e) {
        this.partitions.set(state.partition, state);
        this.log.error({ err: e, partition: state.partition, attempt }, 'partition rebuild failed, retrying');
      }
    }
  }

  private enqueue(work: () => Promise<void>): void {
    this.pending.push(work);
    const max = this.opts.maxPendingAfterCommit ?? 32;
    if (!this.paused && this.pending.length > max) {
      this.paused = true;
      this.pause();
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
      if (this.paused && this.pending.length <= max / 2) {
        this.paused = false;
        this.resume();
        this.log.info('post-commit work caught up: resuming consumption');
      }
    }
    this.draining = null;
  }

  private async drain(): Promise<void> {
    while (this.draining) await this.draining;
  }
}
