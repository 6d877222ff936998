import { WindowEngineInputError } from '../errors/window-engine-input-error.js';
import { watermarkOf } from './watermark.js';

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

/**
 * The event-time and offset bookkeeping of ONE Kafka partition, shared by the
 * window engine (`WindowKeyCounter`) and the reference model its tests compare it with: max event
 * time, watermark (max event time - grace, never decreasing, never below the
 * restored one), idle advance (Flink `WatermarkStrategy.withIdleness`), the
 * next offset, and which offsets are replays of the restored position. Pure:
 * wall-clock time (epoch milliseconds) is passed in.
 *
 * Every record of the partition goes through exactly one of `take` (it has an
 * event time) or `skip` (it has none), so offsets stay contiguous for the
 * exactly-once bookkeeping.
 */
export class PartitionClock {
  private readonly graceMs: number;
  private readonly idleTimeoutMs: number;
  private readonly restoredNextOffset: bigint;
  private readonly restoredWatermarkMs: number | null;
  private readonly restoredReplayFrom: bigint;
  private maxEventTimeMs: number | null = null;
  private watermark: number | null;
  private lastRecordWallMs: number;
  private lastOffset: bigint | null = null;
  private next: bigint;
  /** A non-replayed offset was taken, so every replayed record has been seen. */
  private replayDone = false;

  /**
   * @param graceMs grace period, milliseconds (already validated).
   * @param idleTimeoutMs idle timeout, milliseconds of wall clock (already validated).
   * @param restored progress read back from the database.
   * @param nowMs wall-clock epoch milliseconds at creation; the idle timer starts here.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) for a
   *   negative offset, a non-finite watermark or `nowMs`, or a restored
   *   `replayFrom` above `nextOffset`.
   */
  constructor(graceMs: number, idleTimeoutMs: number, restored: RestoredPartitionState, nowMs: number) {
    this.graceMs = graceMs;
    this.idleTimeoutMs = idleTimeoutMs;
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

  /** Current watermark, epoch milliseconds; `null` before any record when none was restored. */
  get watermarkMs(): number | null {
    return this.watermark;
  }

  /** First offset not yet processed (replays do not lower it). */
  get nextOffset(): bigint {
    return this.next;
  }

  /**
   * The replay position when no window is open: `nextOffset`, or the restored
   * `replayFrom` until the replay is complete (the first non-replayed offset
   * was taken), so a store before the replayed records arrive cannot move the
   * seek position past records that open windows still need.
   */
  get replayBase(): bigint {
    return this.replayDone ? this.next : this.restoredReplayFrom;
  }

  /** Whether a record at `offset` is a replay, i.e. below the restored `nextOffset`. */
  isReplaying(offset: bigint): boolean {
    return offset < this.restoredNextOffset;
  }

  /**
   * A record with an event time: checks the input, applies idle advance for
   * `nowMs`, restarts the idle timer, moves the offsets and then stream time
   * (max event time and watermark), in Kafka Streams' order, so a record can
   * never land in a window its own timestamp finalised.
   * @returns whether the record is a replay.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when
   *   `offset` is not after the previous one, or a time is not finite; nothing changes then.
   */
  take(offset: bigint, eventTimeMs: number, nowMs: number): boolean {
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
    if (this.maxEventTimeMs === null || eventTimeMs > this.maxEventTimeMs) {
      this.maxEventTimeMs = eventTimeMs;
      const candidate = watermarkOf(eventTimeMs, this.graceMs);
      if (this.watermark === null || candidate > this.watermark) this.watermark = candidate;
    }
    return replay;
  }

  /**
   * A record without a usable event time: only moves `nextOffset` on. Stream
   * time and the idle timer are untouched: a partition that carries nothing
   * but unparseable records must not hold windows open.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) like `take`.
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
   * After `idleTimeoutMs` of wall clock without a record with an event time,
   * the watermark follows wall-clock time: `maxEventTime + idle - grace` (or
   * `restoredWatermark + idle` before any record).
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when `nowMs` is not finite.
   */
  advanceIdle(nowMs: number): void {
    if (!Number.isFinite(nowMs)) {
      throw new WindowEngineInputError(`nowMs must be a finite number of ms, got ${nowMs}`);
    }
    this.applyIdleAdvance(nowMs);
  }

  private checkOffset(offset: bigint): void {
    if (this.lastOffset !== null && offset <= this.lastOffset) {
      throw new WindowEngineInputError(
        `offset ${offset} is not after the last added offset ${this.lastOffset}: records of a partition must arrive in offset order`,
      );
    }
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
