import type { PositionWindowSpec } from '../stream/window-spec.js';
import type { Tx } from '../store/prisma-client.js';

/** A record as the consumer hands it to a job: Kafka's fields, offset as bigint. */
export interface SourceRecord {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Kafka record timestamp, epoch milliseconds. */
  timestampMs: number;
}

/** A record the job could not use; it goes to `<topic>.dlq` with its reason. */
export interface DeadLetter {
  record: SourceRecord;
  /** Stable short reason, e.g. `late`, `field-count`, `bad-event-time`. */
  reason: string;
  /** Human-readable detail (which field, expected what, got what). */
  detail: string;
}

/**
 * What one batch (or one idle tick) produced. `write` runs inside the batch
 * transaction, after the partition's row is locked and before its position is
 * advanced; `afterCommit` runs only once that transaction has committed.
 */
export interface BatchResult {
  write?: (tx: Tx) => Promise<void>;
  afterCommit?: () => Promise<void> | void;
  deadLetters: DeadLetter[];
  /** Late records in the batch (also in `deadLetters`, reason `late`). */
  lateRecords: number;
  /** Records read (replays excluded). */
  records: number;
  /** Wall-clock ms when the windows this result emits became final (for the emit-latency metric). */
  closedAtMs?: number;
  /**
   * Optional: the `write` and `afterCommit` of this result and of `later` (the
   * next result of the same partition's processor) as one, cheaper than running
   * both in turn, e.g. aggregated over both batches' records as if they had
   * been one batch; undefined when `later` cannot be combined with it. Used
   * when several batches are committed in one transaction; without it their
   * writes run one after the other in that transaction.
   */
  combineWrites?: (later: BatchResult) => Pick<BatchResult, 'write' | 'afterCommit' | 'combineWrites'> | undefined;
}

/** A partition's position as the job sees it after a batch. */
export interface JobPosition {
  nextOffset: bigint;
  replayFrom: bigint;
  /** Epoch milliseconds, or null before any event time. */
  watermarkMs: number | null;
}

/** The per-partition, in-memory half of a job: pure apart from `write`/`afterCommit`. */
export interface PartitionProcessor {
  /** Applies records (in offset order) and says what to commit. `nowMs` = wall clock, ms. */
  process(records: readonly SourceRecord[], nowMs: number): BatchResult;
  /** Wall-clock tick (idle partitions): a result when windows closed or the watermark moved, else null. */
  tick(nowMs: number): BatchResult | null;
  position(): JobPosition;
  /** Size of the in-memory window state, for the metrics; omitted by jobs that keep none between batches. */
  windowState?(): WindowStateSize;
}

/** How much window state a partition holds: what its memory is proportional to. */
export interface WindowStateSize {
  /** Distinct keys in the open windows now (after the last batch's windows closed). */
  distinctKeys: number;
  /** Sum over the open windows of their keys now (a key in two windows counts twice). */
  liveKeys: number;
  /** Most distinct keys at once since the processor was built, measured before each batch's windows closed. */
  peakDistinctKeys: number;
  /** Most live keys at once since the processor was built, measured like `peakDistinctKeys`. */
  peakLiveKeys: number;
}

/**
 * How a job's processors take event time from a record and turn it into a
 * watermark, for reading records outside the job's processors (the
 * OPEN_WINDOWS target of `repairWatermark`): the same parser, the same
 * event-time guard, the same formula.
 */
export interface JobEventTime {
  /**
   * The event time the job's processors take from `record`, epoch
   * MILLISECONDS: same parser and same event-time guard
   * (MAX_EVENT_TIME_AHEAD_MS) as the processors. Null for a record that moves
   * no watermark there: malformed, refused as `event-time-ahead`, or valid
   * but ignored by the job. Pure apart from reference data loaded by
   * {@link load}; never throws for a bad record.
   */
  of(record: SourceRecord): number | null;
  /** Grace period, MILLISECONDS: the watermark is the largest event time minus this (`watermarkOf`). */
  graceMs: number;
  /** Loads what {@link of} needs (reference data such as the city codes) before a read; omitted: nothing. */
  load?(): Promise<void>;
}

/** A job: one consumer group on one topic, with its own tables and offsets. */
export interface JobDefinition {
  /** Job name, e.g. `abnormal-orders`. */
  name: string;
  groupId: string;
  topic: string;
  /**
   * `idempotent`: replaying records rewrites the same results, so the job may be
   * rewound freely; `additive`: replaying would count records twice, so moving
   * it backwards is refused unless the operator accepts the recount.
   */
  results: 'idempotent' | 'additive';
  /**
   * The window size, advance and grace (milliseconds) the job's positions
   * depend on; stored with each partition's position at its claim, and a
   * claim under a different one is refused (`WINDOW_SPEC_CHANGED`) until a
   * `rebuildJob`. Omitted: nothing is stored or checked.
   */
  windowSpec?: PositionWindowSpec;
  /**
   * Empties the job's results, de-duplication state included, inside the
   * rebuild transaction (`rebuildJob`).
   */
  clearResults(tx: Tx): Promise<void>;
  /** After a rebuild committed: drop what the job mirrors outside the database (Redis). */
  afterClear?(): Promise<void>;
  /**
   * Loads what the processors need before the worker joins the group (reference
   * data such as the city codes of recharge-metrics): `createProcessor` is
   * synchronous. Called once per worker start, before `JobRunner.start`; a
   * rejection stops the start.
   */
  prepare?(): Promise<void>;
  /**
   * Stops what `prepare` started (timers, intervals, subscriptions): called
   * once when the worker stops, after the job's runner stopped (its last
   * batch committed). Must not throw; idempotent.
   */
  close?(): Promise<void>;
  /**
   * How the job's processors read event time (see {@link JobEventTime}).
   * Omitted: `repairWatermark` cannot compute a target for the job
   * (OPEN_WINDOWS is refused with `OPERATION_INPUT_INVALID`).
   */
  eventTime?: JobEventTime;
  /** Builds a partition's processor from its stored position (exactly-once restore). */
  createProcessor(ctx: {
    partition: number;
    nextOffset: bigint;
    replayFrom: bigint;
    watermarkMs: number | null;
    nowMs: number;
  }): PartitionProcessor;
}
