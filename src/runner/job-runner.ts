import type { Redis } from 'ioredis';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { RunnerSettings } from '../config/config.js';
import { deadLetterTopic } from '../config/topics.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, maxMessageBytes } from '../ingest/kafka-client.js';
import type { JobDefinition } from '../engine/job.js';
import type { Metrics } from '../observability/metrics.js';
import { eventTimeWarnings } from '../observability/partition-stats.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import { DatabasePartitionStore } from './batch-transaction.js';
import { DeadLetterSink } from './dead-letter-sink.js';
import { JobPartitions } from './job-partitions.js';
import { fetchedBatch, kafkaConsumerPort } from './kafka-consumer-port.js';
import type { CommitInfo } from './partition-committer.js';
import type { PartitionFailure } from './partition-health.js';
import { StatsReporter } from './stats-reporter.js';

/** kafkajs retries of one consumer request before it gives up and the consumer restarts. */
const CONSUMER_RETRIES = 10;

/** Options of {@link JobRunner}. */
export interface JobRunnerOptions {
  kafka: Kafka;
  db: Db;
  offsets: OffsetStore;
  job: JobDefinition;
  logger: Logger;
  /** Shared producer for dead letters (acks=all). */
  producer: Producer;
  /** Consumer and scheduling settings, resolved once from the configuration (`runnerSettings(config)`). */
  settings: RunnerSettings;
  /** This process, as recorded in `consumer_offset.owner`: `host:pid`. @default "" */
  owner?: string;
  metrics?: Metrics;
  /**
   * Where per-partition live stats (owner, records/s) are published for the
   * `jobs` query, every `settings.statsIntervalMs` milliseconds, with a 30 s TTL.
   * Without it nothing is published.
   */
  redis?: Redis;
  /** Called after each committed batch (tests and metrics). */
  onCommit?: (info: CommitInfo) => void;
}

/**
 * Runs one job as a kafkajs consumer in the consumer group `job.groupId`, with
 * the exactly-once protocol of {@link JobPartitions}: on every assignment the
 * partition's row is claimed and the consumer seeks to `replay_from`; each
 * batch commits its results and position in ONE transaction; only after commit
 * are events published and the offset committed to Kafka too (for standard
 * lag tools). The database is the source of truth.
 *
 * This class is the wiring to kafkajs only: the group join (claim + seek), the
 * `eachBatch` handler, the tick and stats timers, start and stop. The logic
 * lives behind narrow ports so it is tested without a broker:
 * - assignment and claim of a partition: `JobPartitions.claim` (job-partitions.ts);
 * - what happens when a partition's commit fails (fenced, or rebuilt with
 *   backoff): `PartitionCommitter.onCommitFailure` (partition-committer.ts);
 * - the body of the batch transaction (lock and epoch check, results, position):
 *   `DatabasePartitionStore.commitBatches` (batch-transaction.ts).
 */
export class JobRunner {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly partitions: JobPartitions;
  private readonly deadLetters: DeadLetterSink;
  private readonly stats: StatsReporter | null;
  private joinedOnce = false;
  private tickTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: JobRunnerOptions) {
    const { job, settings } = opts;
    const log = opts.logger.child({ job: job.name });
    this.consumer = opts.kafka.consumer({
      groupId: job.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      maxBytesPerPartition: settings.maxBytesPerPartition,
      maxBytes: settings.maxBytes,
      maxWaitTimeInMs: settings.maxWaitTimeMs,
      minBytes: settings.minBytes,
      retry: { retries: CONSUMER_RETRIES },
    });
    this.admin = opts.kafka.admin();
    this.deadLetters = new DeadLetterSink(opts.producer, job, { maxMessageBytes: settings.deadLetterMaxMessageBytes });
    this.stats = opts.redis
      ? new StatsReporter(
          opts.redis,
          job.groupId,
          job.topic,
          opts.owner ?? null,
          () => this.partitions.owned(),
          settings.statsIntervalMs,
          () => this.partitions.failing(),
          (counts) => {
            const warned = new Set(eventTimeWarnings(counts, settings.eventTimeWarningPercent).map((w) => w.reason));
            for (const reason of ['late', 'event-time-ahead'] as const)
              opts.metrics?.eventTimeWarning.set({ job: job.name, reason }, warned.has(reason) ? 1 : 0);
          },
        )
      : null;
    this.partitions = new JobPartitions({
      job,
      consumer: kafkaConsumerPort(this.consumer, this.admin, job.topic),
      store: new DatabasePartitionStore(opts.db, opts.offsets, job.groupId, job.topic, job.windowSpec),
      onTopicRecreated: settings.onTopicRecreated,
      deadLetters: this.deadLetters,
      owner: opts.owner ?? '',
      log,
      maxPendingAfterCommit: settings.maxPendingAfterCommit,
      transactionMaxRecords: settings.transactionMaxRecords,
      transactionMaxDelayMs: settings.transactionMaxDelayMs,
      commitIntervalMs: settings.commitIntervalMs,
      metrics: opts.metrics,
      onCommit: opts.onCommit,
      onClaimed: () => void this.stats?.report(),
      // A change of the failing state reaches the `jobs` query of every API process at once.
      onHealthChange: () => void this.stats?.report(),
    });
  }

  /** Partitions this worker owns now, ascending. */
  get ownedPartitions(): number[] {
    return this.partitions.ownedPartitions;
  }

  /** True once the consumer has joined its group (readiness). */
  get joined(): boolean {
    return this.joinedOnce;
  }

  /**
   * Partitions of this worker whose commit (or claim) keeps failing for the
   * same non-transient reason: the job is FAILING (and `/readyz` not ready)
   * while this is not empty.
   */
  failing(): PartitionFailure[] {
    return this.partitions.failing();
  }

  /** True while an operator has paused the job. */
  get isPaused(): boolean {
    return this.partitions.isPaused;
  }

  /** Joins the group and starts consuming. Resolves once `run()` has started. */
  async start(): Promise<void> {
    const { job, settings } = this.opts;
    await this.admin.connect();
    await this.readDeadLetterLimit();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: job.topic, fromBeginning: true });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = e.payload.memberAssignment[job.topic] ?? [];
      this.joinedOnce = true;
      this.partitions
        .assign(assigned)
        .catch((err: unknown) => this.opts.logger.error({ err, job: job.name }, 'partition assignment failed'));
    });
    await this.consumer.run({
      autoCommit: false,
      // Resolved by hand, only for batches actually processed: kafkajs fetches from the last
      // resolved offset, and auto-resolving a stale batch after a seek landed would move the
      // fetch position past the seek (past the replay of open windows).
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.partitions.handleBatch(fetchedBatch(payload)),
    });
    this.tickTimer = setInterval(() => this.partitions.tick(), settings.tickIntervalMs);
    this.tickTimer.unref();
    this.stats?.start();
  }

  /**
   * Sizes the dead-letter requests to what the broker accepts on the job's
   * dead-letter topic, unless the configuration sets it
   * (DEAD_LETTER_MAX_MESSAGE_BYTES); Kafka's default when it cannot be read.
   */
  private async readDeadLetterLimit(): Promise<void> {
    const { job, settings, logger } = this.opts;
    if (settings.deadLetterMaxMessageBytes !== undefined) return;
    const topic = deadLetterTopic(job.topic);
    const limit = await maxMessageBytes(this.admin, topic);
    if (limit === null) {
      logger.warn(
        { job: job.name, topic, bytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES },
        `could not read max.message.bytes of ${topic}: dead letters are sent in requests of Kafka's default limit`,
      );
      return;
    }
    this.deadLetters.setMaxMessageBytes(limit);
    logger.debug({ job: job.name, topic, bytes: limit }, 'dead-letter request limit');
  }

  /** See {@link JobPartitions.setOperatorPaused}. */
  setOperatorPaused(paused: boolean): void {
    this.partitions.setOperatorPaused(paused);
  }

  /** See {@link JobPartitions.reclaim}. */
  reclaim(partitions: number[]): Promise<void> {
    return this.partitions.reclaim(partitions);
  }

  /**
   * Finishes the batch in flight, commits it, drains post-commit work, leaves
   * the group and disconnects (SIGTERM path).
   */
  async stop(): Promise<void> {
    this.partitions.beginStop();
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.stats?.stop();
    await this.consumer.disconnect();
    await this.partitions.settle();
    // Best effort at shutdown: the admin client holds no state worth an error.
    await this.admin.disconnect().catch(() => undefined);
    await this.opts.job.close?.();
  }
}
