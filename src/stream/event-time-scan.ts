import { WindowEngineInputError } from '../errors/window-engine-input-error.js';

/**
 * What the records of ONE partition, offered in offset order, tell about its
 * event time as of a wall clock, in constant memory (a few numbers, never the
 * records): the largest event time at or before the wall clock, and the
 * records whose event time is after it (a wrong clock) with the offset of the
 * last of them. Pure: the wall clock is passed in.
 *
 * Used by `repairWatermark`'s OPEN_WINDOWS target: the largest event time at
 * or before the wall clock among the stored open windows' records is the
 * newest time the job can trust; a later one comes from a wrong clock.
 */
export class EventTimeScan {
  /** Records offered. */
  records = 0;
  /** Records offered without an event time (malformed, refused by the event-time guard, or moving no watermark). */
  withoutEventTime = 0;
  /** Records whose event time is after the wall clock. */
  afterWallClock = 0;
  private latest: number | null = null;
  private lastAfter: bigint | null = null;

  /**
   * @param wallClockMs the wall clock of the scan, epoch MILLISECONDS: event times after it are not trusted.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when `wallClockMs` is not finite.
   */
  constructor(readonly wallClockMs: number) {
    if (!Number.isFinite(wallClockMs)) {
      throw new WindowEngineInputError(`wallClockMs must be a finite number of ms, got ${String(wallClockMs)}`);
    }
  }

  /**
   * One record: its offset and the event time the job takes from it, epoch
   * MILLISECONDS, or null when it takes none (a non-finite time counts as none).
   */
  offer(offset: bigint, eventTimeMs: number | null): void {
    this.records++;
    if (eventTimeMs === null || !Number.isFinite(eventTimeMs)) {
      this.withoutEventTime++;
      return;
    }
    if (eventTimeMs > this.wallClockMs) {
      this.afterWallClock++;
      if (this.lastAfter === null || offset > this.lastAfter) this.lastAfter = offset;
      return;
    }
    if (this.latest === null || eventTimeMs > this.latest) this.latest = eventTimeMs;
  }

  /** The largest event time offered at or before the wall clock, epoch milliseconds; null when none was. */
  get latestEventTimeMs(): number | null {
    return this.latest;
  }

  /** Offset of the last record whose event time is after the wall clock; null when none was. */
  get lastAfterWallClockOffset(): bigint | null {
    return this.lastAfter;
  }
}
