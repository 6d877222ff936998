import { MalformedRecordError } from '../errors/malformed-record-error.js';
import { DEFAULT_MAX_EVENT_TIME_AHEAD_MS, eventTimeAheadError, watermarkOf } from '../stream/index.js';
import type { Tx } from '../store/prisma-client.js';
import type { BatchResult, DeadLetter, JobPosition, PartitionProcessor, SourceRecord } from './job.js';

/** What an additive job does with the parsed records of one batch. */
export interface AdditiveHandler<E> {
  /**
   * Parses one record.
   * @returns the event, or `null` for a valid record this job does not count
   *   (e.g. another service name): its offset advances, nothing else happens.
   * @throws {MalformedRecordError} for a bad record: it is dead-lettered with the error's reason.
   */
  parse(record: SourceRecord): E | null;
  /**
   * A well-formed event the job still refuses (e.g. one too old to be
   * de-duplicated), as a value: its dead-letter reason and detail, or null to
   * count it. Checked after `parse` and before the event-time guard; a
   * refused event moves nothing (no watermark, no idle timer). @default none refused
   */
  reject?(event: E): { reason: string; detail: string } | null;
  /** Event time of a parsed record, epoch milliseconds. */
  eventTimeMs(event: E): number;
  /**
   * Largest lead of an event time over its record's Kafka timestamp,
   * MILLISECONDS (MAX_EVENT_TIME_AHEAD_MS): an event further ahead is
   * dead-lettered as `event-time-ahead` and moves nothing (`eventTimeAheadError`).
   * @default DEFAULT_MAX_EVENT_TIME_AHEAD_MS // 1 minute
   */
  maxEventTimeAheadMs?: number;
  /**
   * Folds events into additive upserts (`write`, inside the batch
   * transaction) and post-commit work (`afterCommit`). Called with one part
   * per partition, in partition order, each with at least one event in
   * offset order: one part for one batch; with
   * {@link aggregatesAcrossBatches}, the parts of every batch committed in
   * the same transaction (of one partition or of several), aggregated as one.
   */
  aggregate(parts: readonly AggregatePart<E>[]): Pick<BatchResult, 'write' | 'afterCommit'>;
  /**
   * Only with {@link AdditiveIdleOptions}: post-commit work after an idle
   * advance moved the watermark (a tick with no records, no `write`), e.g. to
   * check whether the job's watermark passed an event-time boundary.
   */
  onIdleAdvance?(ctx: { partition: number; watermarkMs: number }): Pick<BatchResult, 'afterCommit'>;
  /**
   * True when `aggregate` over the events of several batches, of one
   * partition or of several, writes the same as their writes run in turn in
   * one transaction: additive or idempotent upserts that do not depend on the
   * batch boundaries. Batches committed together (a partition's consecutive
   * batches, the partitions a worker commits in one transaction) are then
   * aggregated as one, at write time: each table written once per
   * transaction, however many batches and partitions it carries. @default false
   */
  aggregatesAcrossBatches?: boolean;
}

/** What `aggregate` is told about a partition's batch: the partition, its watermark (epoch ms) and next offset after the batch. */
export interface AggregateContext {
  partition: number;
  watermarkMs: number | null;
  nextOffset: bigint;
}

/** One partition's events in an `aggregate` call, with the context of its last batch. */
export interface AggregatePart<E> extends AggregateContext {
  /** The partition's events, in offset order (at least one). */
  events: readonly E[];
}

/**
 * The parts of each lazily aggregated result, by its `write` function (see
 * `AdditiveProcessor.lazyAggregate`), with the handler that aggregates them:
 * results of different partitions of one job combine through it.
 */
const pendingAggregates = new WeakMap<
  object,
  { handler: AdditiveHandler<unknown>; parts: AggregatePart<unknown>[]; built: () => boolean }
>();

/**
 * Opt-in idle advance of the watermark (Flink `WatermarkStrategy.withIdleness`),
 * for additive jobs that emit at event-time boundaries over several partitions:
 * a quiet partition must not hold the job's watermark back forever. Mirrors
 * the window engine (`PartitionClock`), where a partition with no records for
 * `idleTimeout` moves its watermark on with wall-clock time.
 */
export interface AdditiveIdleOptions {
  /**
   * Wall-clock silence, in MILLISECONDS, after which the partition's watermark
   * follows wall-clock time: `max event time + (now - last record) - grace`, or
   * `restored watermark + (now - last record)` when no record arrived since
   * the restore. A partition that never had a watermark (never saw a record,
   * nothing restored) holds back until it has been idle this long, then takes
   * `now - grace`: wall-clock time stands in for the event time it never saw.
   * Must be > 0.
   */
  idleTimeoutMs: number;
  /** Wall clock at creation, epoch MILLISECONDS: the idle timer starts here. */
  nowMs: number;
}

/**
 * The partition processor of an additive job (event time, no window state):
 * counts, sums and distinct-inserts need no window state, so each
 * batch adds its contribution inside the batch transaction (emit-changes), a
 * record of any age lands in its own bucket, nothing is late, and
 * `replayFrom` always equals `nextOffset`: after a crash nothing is replayed
 * and nothing is counted twice. The watermark (max event time - grace, never
 * decreasing) is kept for jobs that emit at event-time boundaries.
 *
 * Without `idle` the watermark moves with records only and `tick` always
 * returns null. With `idle` (see {@link AdditiveIdleOptions}) idle advance is
 * applied at the start of `process` and in `tick`; `tick` then returns a
 * result with no `write` whenever the watermark moved, so the consumer
 * commits the new watermark with the position. Malformed records do not
 * restart the idle timer: a partition carrying only garbage is idle.
 */
export class AdditiveProcessor<E> implements PartitionProcessor {
  private next: bigint;
  /** Max event time seen, or restored watermark + grace; epoch ms. */
  private maxEventTimeMs: number | null;
  private watermark: number | null;
  private readonly idleTimeoutMs: number | null;
  /** Wall clock of the last record with an event time (or of creation), epoch ms. */
  private lastRecordWallMs: number;
  /** See {@link AdditiveHandler.maxEventTimeAheadMs}, milliseconds. */
  private readonly maxAheadMs: number;

  /**
   * @param restored the partition's committed position (`watermarkMs` in epoch ms, or null).
   * @param graceMs grace period, milliseconds (>= 0).
   * @param idle opt-in idle advance; omitted: the watermark moves with records only.
   * @throws {RangeError} when `idle.idleTimeoutMs` is not a positive number or `idle.nowMs` is not finite.
   */
  constructor(
    private readonly handler: AdditiveHandler<E>,
    private readonly partition: number,
    restored: { nextOffset: bigint; watermarkMs: number | null },
    private readonly graceMs: number,
    idle?: AdditiveIdleOptions,
  ) {
    if (idle && !(idle.idleTimeoutMs > 0))
      throw new RangeError(`idleTimeoutMs must be greater than 0 (milliseconds), got ${idle.idleTimeoutMs}`);
    if (idle && !Number.isFinite(idle.nowMs))
      throw new RangeError(`nowMs must be a finite number of epoch milliseconds, got ${idle.nowMs}`);
    this.maxAheadMs = handler.maxEventTimeAheadMs ?? DEFAULT_MAX_EVENT_TIME_AHEAD_MS;
    this.next = restored.nextOffset;
    this.watermark = restored.watermarkMs;
    this.maxEventTimeMs = restored.watermarkMs === null ? null : restored.watermarkMs + graceMs;
    this.idleTimeoutMs = idle ? idle.idleTimeoutMs : null;
    this.lastRecordWallMs = idle ? idle.nowMs : 0;
  }

  process(records: readonly SourceRecord[], nowMs: number = Date.now()): BatchResult {
    if (this.idleTimeoutMs !== null) this.applyIdleAdvance(nowMs);
    const events: E[] = [];
    const deadLetters: DeadLetter[] = [];
    let fresh = 0;
    for (const record of records) {
      // Already committed: counting it again would double it.
      if (record.offset < this.next) continue;
      this.next = record.offset + 1n;
      fresh++;
      let event: E | null;
      try {
        event = this.handler.parse(record);
      } catch (err) {
        if (!(err instanceof MalformedRecordError)) throw err;
        deadLetters.push({ record, reason: err.reason, detail: err.message });
        continue;
      }
      if (event === null) continue;
      const refused = this.handler.reject?.(event);
      if (refused) {
        deadLetters.push({ record, reason: refused.reason, detail: refused.detail });
        continue;
      }
      const t = this.handler.eventTimeMs(event);
      const ahead = eventTimeAheadError(t, record.timestampMs, this.maxAheadMs);
      if (ahead) {
        // A wrong clock: counted nowhere, moves neither the watermark nor the idle timer.
        deadLetters.push({ record, reason: ahead.reason, detail: ahead.message });
        continue;
      }
      if (this.maxEventTimeMs === null || t > this.maxEventTimeMs) {
        this.maxEventTimeMs = t;
        const candidate = watermarkOf(t, this.graceMs);
        if (this.watermark === null || candidate > this.watermark) this.watermark = candidate;
      }
      events.push(event);
    }
    if (events.length > 0) this.lastRecordWallMs = nowMs;
    const ctx = { partition: this.partition, watermarkMs: this.watermark, nextOffset: this.next };
    const out =
      events.length === 0
        ? {}
        : this.handler.aggregatesAcrossBatches
          ? lazyAggregate(this.handler, [{ ...ctx, events }])
          : this.handler.aggregate([{ ...ctx, events }]);
    return { ...out, deadLetters, lateRecords: 0, records: fresh };
  }

  /**
   * Without idle advance: always null. With it: applies idle advance at
   * `nowMs` (epoch ms) and returns a result with no `write` (plus the
   * handler's `onIdleAdvance` post-commit work) when the watermark moved, so
   * the new watermark is committed; null when it did not.
   */
  tick(nowMs: number): BatchResult | null {
    if (this.idleTimeoutMs === null) return null;
    const before = this.watermark;
    this.applyIdleAdvance(nowMs);
    if (this.watermark === before || this.watermark === null) return null;
    const out = this.handler.onIdleAdvance?.({ partition: this.partition, watermarkMs: this.watermark }) ?? {};
    return { ...out, deadLetters: [], lateRecords: 0, records: 0 };
  }

  position(): JobPosition {
    return { nextOffset: this.next, replayFrom: this.next, watermarkMs: this.watermark };
  }

  private applyIdleAdvance(nowMs: number): void {
    // Callers check that idle advance is configured; without it there is nothing to do.
    if (this.idleTimeoutMs === null) return;
    const idleForMs = nowMs - this.lastRecordWallMs;
    if (idleForMs < this.idleTimeoutMs) return;
    const candidate =
      this.maxEventTimeMs !== null ? this.maxEventTimeMs + idleForMs - this.graceMs : nowMs - this.graceMs;
    if (this.watermark === null || candidate > this.watermark) this.watermark = candidate;
  }
}

/**
 * A result part that aggregates `parts` only when written, and combines with
 * another lazily aggregated result of the same handler (the same job): the
 * next batch of the same partition, or a batch of another partition
 * committed in the same transaction, into one aggregate over both as if they
 * had been one batch (a partition in both: its events in turn, with the
 * later context).
 */
function lazyAggregate<E>(
  handler: AdditiveHandler<E>,
  parts: AggregatePart<E>[],
): Pick<BatchResult, 'write' | 'afterCommit' | 'combineWrites'> {
  let built: Pick<BatchResult, 'write' | 'afterCommit'> | null = null;
  const build = () => (built ??= handler.aggregate(parts));
  const write = async (tx: Tx) => {
    await build().write?.(tx);
  };
  pendingAggregates.set(write, {
    handler,
    parts,
    built: () => built !== null,
  });
  return {
    write,
    afterCommit: async () => {
      await build().afterCommit?.();
    },
    combineWrites: (later) => {
      const next = later.write ? pendingAggregates.get(later.write) : undefined;
      // Another job's result, or one already aggregated (written): too late to combine.
      if (next?.handler !== handler || built !== null || next.built()) return undefined;
      return lazyAggregate(handler, mergeParts(parts, next.parts as AggregatePart<E>[]));
    },
  };
}

/** `a`'s parts then `later`'s, one per partition in partition order: a partition in both gets its events in turn and `later`'s context. */
function mergeParts<E>(a: readonly AggregatePart<E>[], later: readonly AggregatePart<E>[]): AggregatePart<E>[] {
  const byPartition = new Map<number, AggregatePart<E>>();
  for (const p of a) byPartition.set(p.partition, p);
  for (const p of later) {
    const earlier = byPartition.get(p.partition);
    byPartition.set(p.partition, earlier ? { ...p, events: earlier.events.concat(p.events) } : p);
  }
  return [...byPartition.values()].sort((x, y) => x.partition - y.partition);
}
