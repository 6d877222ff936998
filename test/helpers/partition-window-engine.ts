// The reference model of the window engine: a general windowed aggregation
// over one partition (any key, any aggregate), written for clarity, that
// `WindowKeyCounter` (src/stream/window-key-counter.ts, the engine the
// windowed job runs) must match record for record. Kept with the tests, not in
// src/: no job runs it; test/unit/window-key-counter.test.ts compares the two
// on random streams, and window-engine.test.ts and window-restore.test.ts pin
// the semantics both share.
import { latestWindowStart, type TimeWindow } from '../../src/stream/hopping-windows.js';
import { PartitionClock, type RestoredPartitionState } from '../../src/stream/partition-clock.js';
import type { AddOutcome } from '../../src/stream/window-key-counter.js';
import { validateWindowSpec, type WindowSpec } from '../../src/stream/window-spec.js';

export type { RestoredPartitionState } from '../../src/stream/partition-clock.js';
export type { AddOutcome } from '../../src/stream/window-key-counter.js';

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

/** A final window handed out by `closeDue`, with the aggregate of every key seen in it (never empty). */
export interface ClosedWindow<K, A> {
  window: TimeWindow;
  entries: Map<K, A>;
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
  private readonly aggregator: Aggregator<V, A>;
  private readonly clock: PartitionClock;
  /** Open (not yet handed out) windows by start. */
  private readonly windows = new Map<number, OpenWindow<K, A>>();
  private liveKeys = 0;

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
    this.aggregator = aggregator;
    this.clock = new PartitionClock(valid.graceMs, valid.idleTimeoutMs, restored, nowMs);
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
    const replay = this.clock.take(offset, eventTimeMs, nowMs);

    const sizeMs = this.sizeMs;
    const advanceMs = this.advanceMs;
    const last = latestWindowStart(eventTimeMs, advanceMs);
    let start = last - sizeMs + advanceMs;
    const watermark = this.clock.watermarkMs;
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
    this.clock.take(record.offset, record.eventTimeMs, nowMs);
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
    this.clock.skip(offset, nowMs);
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
    this.clock.advanceIdle(nowMs);
    const watermark = this.clock.watermarkMs;
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
    return this.clock.watermarkMs;
  }

  /**
   * First offset not yet processed: last non-replayed offset taken by
   * `add` / `observe` / `skip` + 1, or the restored `nextOffset` before that. Replayed records do not lower it:
   * everything below the restored value was already processed.
   */
  get nextOffset(): bigint {
    return this.clock.nextOffset;
  }

  /**
   * Offset to seek to after a crash to rebuild exactly the windows not yet
   * handed out: the smallest offset that contributed to one of them, or
   * `nextOffset` when none is open. Before the replay is complete it is
   * never above the restored `replayFrom` (when one was given).
   */
  get replayFrom(): bigint {
    let min = this.clock.replayBase;
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
    return this.clock.isReplaying(offset);
  }
}
