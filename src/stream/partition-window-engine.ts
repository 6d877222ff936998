import { WindowEngineInputError } from '../errors/window-engine-input-error.js';
import { latestWindowStart, type TimeWindow } from './hopping-windows.js';
import { validateWindowSpec, type WindowSpec } from './window-spec.js';

/**
 * How a job folds the values of one key within one window into an aggregate.
 *
 * `create` is called once per (window, key) — a record belongs to
 * `sizeMs / advanceMs` windows, so it must return a fresh accumulator that
 * is not shared with another window (do not return `value` itself if `add`
 * mutates). `add` may mutate `acc` and return it, or return a new value.
 * An aggregate must never be `undefined`.
 */
export interface Aggregator<V, A> {
  create(value: V): A;
  add(acc: A, value: V): A;
}

/**
 * One parsed record of one partition.
 *
 * `key` is compared with SameValueZero (it is a `Map` key): use a string,
 * number or bigint, not an object.
 */
export interface WindowRecord<K, V> {
  /** Kafka offset within the partition. */
  offset: bigint;
  /** Event time, epoch ms (validated `>= 0` by the parser). */
  eventTimeMs: number;
  key: K;
  value: V;
}

/**
 * What `PartitionWindowEngine.add` did with a record.
 *
 * - `aggregated`: added to at least one open window.
 * - `late`: every window of the record was already final; not aggregated.
 *   The caller counts it and dead-letters it.
 * - `replayed`: an already-processed record (offset below the restored
 *   `nextOffset`) re-added to rebuild an open window.
 * - `replayed-late`: an already-processed record whose windows are all
 *   final; ignored silently (it was counted and dead-lettered the first time).
 */
export type AddOutcome = 'aggregated' | 'late' | 'replayed' | 'replayed-late';

/** A final window handed out by `closeDue`, with the aggregate of every key seen in it (never empty). */
export interface ClosedWindow<K, A> {
  window: TimeWindow;
  entries: Map<K, A>;
}

/**
 * Per-partition progress read back from the database after a restart, as
 * stored in the same transaction as the last emitted windows.
 */
export interface RestoredPartitionState {
  /** First offset not yet processed; records below it are replays. `0n` (or the log start) for a fresh partition. */
  nextOffset: bigint;
  /** Watermark, epoch ms, at the time of the store; `null` if none was ever computed. */
  watermarkMs: number | null;
  /**
   * Optional (an addition to the minimal state): the `replayFrom` stored
   * with `nextOffset`. When given, `replayFrom` never reports more than
   * this until the replay is complete (the first non-replayed record was
   * added), so a store that happens before the replayed records arrive
   * cannot move the seek position past records that open windows still need.
   */
  replayFrom?: bigint;
}

interface OpenWindow<K, A> {
  readonly window: TimeWindow;
  readonly entries: Map<K, A>;
  /**
   * Offsets only increase within a partition (enforced by `checkOffset`), so the
   * record that created the window has its smallest offset.
   */
  readonly minOffset: bigint;
}

/**
 * Event-time hopping-window aggregation of ONE Kafka partition, with
 * emit-final output and exactly-once restore. Pure: no I/O, no clock, no
 * timers — wall-clock time (epoch ms) is passed into every call.
 *
 * Semantics:
 * - Windows: epoch-aligned hopping windows `[k * advanceMs, k * advanceMs + sizeMs)`
 *   (Kafka Streams `TimeWindows`, Flink `SlidingEventTimeWindows`); see `windowsFor`.
 * - Watermark = max event time seen in the partition - `graceMs`, never
 *   decreasing, never below the restored watermark. A window is final once
 *   watermark >= its end. A record first advances the max event time
 *   (Kafka Streams stream time), then is added to each of its windows that
 *   is not final; if all are final it is `late`.
 * - Idleness (Flink `WatermarkStrategy.withIdleness`): after `idleTimeoutMs`
 *   of wall-clock time without a record with an event time (`add` or
 *   `observe`), the watermark follows wall-clock
 *   time: `maxEventTime + (nowMs - lastRecordWallMs) - graceMs` (or
 *   `restoredWatermark + (nowMs - lastRecordWallMs)` before any record).
 *   Applied at the start of every call that takes a `nowMs`.
 * - Output (Kafka Streams `Suppressed.untilWindowCloses`): only `closeDue`
 *   hands out windows, each exactly once, once final; a final window is
 *   never re-created.
 * - Restore: records below the restored `nextOffset` rebuild the open
 *   windows (`replayed`) and are never reported `late` again. Store
 *   `nextOffset`, `watermarkMs` and `replayFrom` in the same transaction as
 *   the windows `closeDue` returned; after a crash, construct with them
 *   (`replayFrom` is optional) and seek the consumer to `replayFrom`.
 *
 * Every record of the partition goes through exactly one of `add`,
 * `observe` (has an event time, not aggregated) or `skip` (no event time),
 * so offsets stay contiguous for the exactly-once bookkeeping.
 *
 * Memory is proportional to `liveKeyCount`; handed-out windows are dropped.
 */
export class PartitionWindowEngine<K, V, A> {
  private readonly sizeMs: number;
  private readonly advanceMs: number;
  private readonly graceMs: number;
  private readonly idleTimeoutMs: number;
  private readonly aggregator: Aggregator<V, A>;
  private readonly restoredNextOffset: bigint;
  private readonly restoredWatermarkMs: number | null;
  private readonly restoredReplayFrom: bigint;
  /** Open (not yet handed out) windows by start. */
  private readonly windows = new Map<number, OpenWindow<K, A>>();
  private maxEventTimeMs: number | null = null;
  private watermark: number | null;
  private lastRecordWallMs: number;
  private lastOffset: bigint | null = null;
  private next: bigint;
  private liveKeys = 0;
  /** A non-replayed offset was taken, so every replayed record has been seen. */
  private replayDone = false;

  /**
   * @param spec window shape, all in ms; validated here.
   * @param aggregator folds values per (window, key).
   * @param restored progress read back from the database (`{ nextOffset: 0n, watermarkMs: null }` for a fresh partition).
   * @param nowMs wall-clock epoch ms at creation; the idle timer starts here.
   * @throws {InvalidWindowSpecError} (`WINDOW_SPEC_INVALID`) for a bad spec.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) for a
   *   negative offset, a non-finite watermark or `nowMs`, or a restored
   *   `replayFrom` above `nextOffset`.
   */
  constructor(spec: WindowSpec, aggregator: Aggregator<V, A>, restored: RestoredPartitionState, nowMs: number) {
    const valid = validateWindowSpec(spec);
    this.sizeMs = valid.sizeMs;
    this.advanceMs = valid.advanceMs;
    this.graceMs = valid.graceMs;
    this.idleTimeoutMs = valid.idleTimeoutMs;
    this.aggregator = aggregator;

    const { nextOffset, watermarkMs, replayFrom = nextOffset } = restored;
    if (typeof nextOffset !== 'bigint' || nextOffset < 0n) {
      throw new WindowEngineInputError(`restored nextOffset must be a bigint >= 0, got ${String(nextOffset)}`);
    }
    if (watermarkMs !== null && !Number.isFinite(watermarkMs)) {
      throw new WindowEngineInputError(
        `restored watermarkMs must be a finite number of ms or null, got ${String(watermarkMs)}`,
      );
    }
    if (typeof replayFrom !== 'bigint' || replayFrom < 0n || replayFrom > nextOffset) {
      throw new WindowEngineInputError(
        `restored replayFrom must be a bigint between 0 and nextOffset (${nextOffset}), got ${String(replayFrom)}`,
      );
    }
    if (!Number.isFinite(nowMs)) {
      throw new WindowEngineInputError(`nowMs must be a finite number of ms, got ${String(nowMs)}`);
    }
    this.restoredNextOffset = nextOffset;
    this.restoredWatermarkMs = watermarkMs;
    this.restoredReplayFrom = replayFrom;
    this.watermark = watermarkMs;
    this.next = nextOffset;
    this.lastRecordWallMs = nowMs;
  }

  /**
   * Takes one record of this partition at wall-clock `nowMs` (epoch ms).
   *
   * Applies idle advance for `nowMs`, advances the max event time and the
   * watermark with the record, then adds it to each of its windows that is
   * not final. Replayed records (offset below the restored `nextOffset`)
   * go through the same path but report `replayed` / `replayed-late`.
   *
   * @returns what happened to the record; see `AddOutcome`.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when
   *   `offset` is not greater than the previously added offset (replayed or
   *   not), or `eventTimeMs` / `nowMs` is not finite. The engine is unchanged then.
   */
  add(record: WindowRecord<K, V>, nowMs: number): AddOutcome {
    const { offset, eventTimeMs } = record;
    const replay = this.take(offset, eventTimeMs, nowMs);

    const sizeMs = this.sizeMs;
    const advanceMs = this.advanceMs;
    const last = latestWindowStart(eventTimeMs, advanceMs);
    let start = last - sizeMs + advanceMs;
    const watermark = this.watermark;
    if (watermark !== null) {
      // Final windows are a prefix of the (end-ordered) windows: skip it.
      while (start <= last && start + sizeMs <= watermark) start += advanceMs;
    }
    if (start > last) return replay ? 'replayed-late' : 'late';

    const { key, value } = record;
    const aggregator = this.aggregator;
    for (; start <= last; start += advanceMs) {
      let open = this.windows.get(start);
      if (open === undefined) {
        open = { window: { start, end: start + sizeMs }, entries: new Map<K, A>(), minOffset: offset };
        this.windows.set(start, open);
      }
      const entries = open.entries;
      const acc = entries.get(key);
      if (acc === undefined) {
        entries.set(key, aggregator.create(value));
        this.liveKeys++;
      } else {
        const updated = aggregator.add(acc, value);
        if (updated !== acc) entries.set(key, updated);
      }
    }
    return replay ? 'replayed' : 'aggregated';
  }

  /**
   * Takes a record of this partition that has an event time but is not
   * aggregated by the job (e.g. another event type). Like `add` without the
   * aggregation: applies idle advance for `nowMs`, advances the max event time
   * and the watermark (Kafka Streams: every record of the partition advances
   * stream time), restarts the idle timer and moves `nextOffset` on. Never late.
   *
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) like `add`.
   */
  observe(record: Pick<WindowRecord<K, V>, 'offset' | 'eventTimeMs'>, nowMs: number): void {
    this.take(record.offset, record.eventTimeMs, nowMs);
  }

  /**
   * Takes a record of this partition that has no usable event time (e.g.
   * malformed): only moves `nextOffset` on, so a restart does not see it as
   * new again. Stream time is untouched, and so is the idle timer: a partition
   * that carries nothing but unparseable records must not hold windows open.
   *
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when
   *   `offset` is not greater than the previously added offset, or `nowMs` is not finite.
   */
  skip(offset: bigint, nowMs: number): void {
    this.checkOffset(offset);
    if (!Number.isFinite(nowMs)) {
      throw new WindowEngineInputError(`nowMs must be a finite number of ms, got ${nowMs} at offset ${offset}`);
    }
    this.applyIdleAdvance(nowMs);
    this.lastOffset = offset;
    if (offset >= this.restoredNextOffset) {
      this.next = offset + 1n;
      this.replayDone = true;
    }
  }

  /**
   * Hands out every window that is final at wall-clock `nowMs` (epoch ms),
   * after applying idle advance for `nowMs`: those with end <= watermark.
   * Ordered by end, then start. Each window is returned exactly once and
   * then forgotten; its entries map is handed over (the engine keeps no
   * reference). Windows never seen by a record do not exist and are not
   * returned. Returns `[]` when nothing is due.
   *
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when `nowMs` is not finite.
   */
  closeDue(nowMs: number): ClosedWindow<K, A>[] {
    if (!Number.isFinite(nowMs)) {
      throw new WindowEngineInputError(`nowMs must be a finite number of ms, got ${nowMs}`);
    }
    this.applyIdleAdvance(nowMs);
    const watermark = this.watermark;
    const closed: ClosedWindow<K, A>[] = [];
    if (watermark === null) return closed;
    for (const open of this.windows.values()) {
      if (open.window.end <= watermark) closed.push({ window: open.window, entries: open.entries });
    }
    if (closed.length === 0) return closed;
    // Out-of-order records can create windows in any order.
    closed.sort((a, b) => a.window.end - b.window.end || a.window.start - b.window.start);
    for (const { window, entries } of closed) {
      this.windows.delete(window.start);
      this.liveKeys -= entries.size;
    }
    return closed;
  }

  /**
   * Current watermark, epoch ms, as of the last `add` / `closeDue` (idle
   * advance is only applied by those calls). `null` before any record when
   * no watermark was restored.
   */
  get watermarkMs(): number | null {
    return this.watermark;
  }

  /**
   * First offset not yet processed: last non-replayed offset taken by
   * `add` / `observe` / `skip` + 1, or the restored `nextOffset` before that. Replayed records do not lower it:
   * everything below the restored value was already processed.
   */
  get nextOffset(): bigint {
    return this.next;
  }

  /**
   * Offset to seek to after a crash to rebuild exactly the windows not yet
   * handed out: the smallest offset that contributed to one of them, or
   * `nextOffset` when none is open. Before the replay is complete it is
   * never above the restored `replayFrom` (when one was given).
   */
  get replayFrom(): bigint {
    let min = this.replayDone ? this.next : this.restoredReplayFrom;
    for (const open of this.windows.values()) {
      if (open.minOffset < min) min = open.minOffset;
    }
    return min;
  }

  /** Number of windows created and not yet handed out (including final ones `closeDue` has not taken yet). */
  get openWindowCount(): number {
    return this.windows.size;
  }

  /** Sum over open windows of their number of keys: what the engine's memory is proportional to. */
  get liveKeyCount(): number {
    return this.liveKeys;
  }

  /** Whether a record at `offset` is a replay, i.e. below the restored `nextOffset`. */
  isReplaying(offset: bigint): boolean {
    return offset < this.restoredNextOffset;
  }

  private checkOffset(offset: bigint): void {
    if (this.lastOffset !== null && offset <= this.lastOffset) {
      throw new WindowEngineInputError(
        `offset ${offset} is not after the last added offset ${this.lastOffset}: records of a partition must arrive in offset order`,
      );
    }
  }

  /**
   * Common part of `add` and `observe`: checks the input, then moves the
   * clock, the offsets and stream time. Returns whether the record is a replay.
   */
  private take(offset: bigint, eventTimeMs: number, nowMs: number): boolean {
    this.checkOffset(offset);
    if (!Number.isFinite(eventTimeMs) || !Number.isFinite(nowMs)) {
      throw new WindowEngineInputError(
        `eventTimeMs and nowMs must be finite numbers of ms, got eventTimeMs=${eventTimeMs}, nowMs=${nowMs} at offset ${offset}`,
      );
    }
    const replay = offset < this.restoredNextOffset;

    this.applyIdleAdvance(nowMs);
    this.lastRecordWallMs = nowMs;
    this.lastOffset = offset;
    if (!replay) {
      this.next = offset + 1n;
      this.replayDone = true;
    }
    // Stream time moves before the record is placed (Kafka Streams order),
    // so a record can never land in a window its own timestamp finalised.
    if (this.maxEventTimeMs === null || eventTimeMs > this.maxEventTimeMs) {
      this.maxEventTimeMs = eventTimeMs;
      const candidate = eventTimeMs - this.graceMs;
      if (this.watermark === null || candidate > this.watermark) this.watermark = candidate;
    }
    return replay;
  }

  private applyIdleAdvance(nowMs: number): void {
    const idleForMs = nowMs - this.lastRecordWallMs;
    if (idleForMs < this.idleTimeoutMs) return;
    let candidate: number;
    if (this.maxEventTimeMs !== null) candidate = this.maxEventTimeMs + idleForMs - this.graceMs;
    else if (this.restoredWatermarkMs !== null) candidate = this.restoredWatermarkMs + idleForMs;
    else return;
    if (this.watermark === null || candidate > this.watermark) this.watermark = candidate;
  }
}
