import type { EventTimeScan } from '../stream/index.js';

/**
 * Where `repairWatermark` sets watermarks back to: `GIVEN_TIME`, the
 * operator's `to` for every partition; `OPEN_WINDOWS`, per partition, the
 * largest event time at or before the wall clock among the records of its
 * stored open windows, as a watermark (minus the grace period).
 */
export type WatermarkTarget = 'GIVEN_TIME' | 'OPEN_WINDOWS';

/**
 * What the repair does to one partition: `SET_BACK`, its watermark is set
 * back to the target (a dry run: would be); `NOT_LATER`, left: its watermark
 * is already at or before the target (a repair never moves one forward);
 * `NO_WATERMARK`, left: it has none; `NO_EVENT_TIME`, left: no record read
 * has an event time at or before the wall clock, so no target could be
 * computed (OPEN_WINDOWS only).
 */
export type WatermarkOutcome = 'SET_BACK' | 'NOT_LATER' | 'NO_WATERMARK' | 'NO_EVENT_TIME';

/**
 * Which records OPEN_WINDOWS reads for a partition: `OPEN_WINDOWS`, those
 * of its stored open windows, `[replay_from, next_offset)`, the records a
 * claim replays to rebuild them; `PARTITION_TAIL`, when that range is empty
 * (an additive job, whose `replay_from` always equals `next_offset`, or a
 * windowed job with no open window), the last {@link TAIL_READ_RECORDS}
 * records before `next_offset`: the newest records the job already read.
 */
export type WatermarkReadKind = 'OPEN_WINDOWS' | 'PARTITION_TAIL';

/** Records read before `next_offset` of a partition whose open-window range is empty, records. @default 10000 */
export const TAIL_READ_RECORDS = 10_000;

/** The offsets `[from, to)` OPEN_WINDOWS reads of one partition, and why these. */
export interface WatermarkReadRange {
  kind: WatermarkReadKind;
  /** First offset read. */
  from: bigint;
  /** End of the read, exclusive: the stored `next_offset` (or the log's end, if lower). */
  to: bigint;
}

/**
 * The records OPEN_WINDOWS reads of a partition (see {@link WatermarkReadKind}),
 * within what the log still holds: a start below the earliest offset
 * (retention) begins there, an end past the latest (a shorter log) ends
 * there; empty when nothing is left.
 * @param position the stored `next_offset` and `replay_from` (a negative offset counts as none read).
 * @param bounds the partition's earliest and latest (high watermark) offsets.
 * @param tailRecords records of a tail read, >= 1. @default TAIL_READ_RECORDS
 */
export function readRangeOf(
  position: { nextOffset: bigint; replayFrom: bigint },
  bounds: { earliest: bigint; latest: bigint },
  tailRecords: number = TAIL_READ_RECORDS,
): WatermarkReadRange {
  const to = min(max(position.nextOffset, 0n), bounds.latest);
  const replayFrom = max(position.replayFrom, 0n);
  const kind: WatermarkReadKind = replayFrom < to ? 'OPEN_WINDOWS' : 'PARTITION_TAIL';
  const start = kind === 'OPEN_WINDOWS' ? replayFrom : to - BigInt(Math.max(1, Math.floor(tailRecords)));
  const from = min(max(start, bounds.earliest), to);
  return { kind, from, to: max(to, from) };
}

/** What one partition's repair is: the answer of a dry run, and what an applied repair writes. */
export interface WatermarkPartitionPlan {
  partition: number;
  outcome: WatermarkOutcome;
  /** The stored watermark, epoch milliseconds; null when there is none. */
  beforeMs: number | null;
  /** The watermark aimed at, epoch milliseconds: `to`, or the latest event time read minus the grace period; null when none could be computed. */
  targetMs: number | null;
  /** The watermark after the repair (a dry run: would be), epoch milliseconds: the target when SET_BACK, else the stored one. */
  afterMs: number | null;
  /** The stored `replay_from`. */
  replayFromBefore: bigint;
  /**
   * `replay_from` after the repair: past the last record read whose event
   * time is after the wall clock, when the open-window range holds one and
   * the partition is set back (a claim would replay that record and move the
   * watermark ahead again); else the stored one.
   */
  replayFromAfter: bigint;
  /** OPEN_WINDOWS: what was read; null for GIVEN_TIME and for a partition with no watermark (nothing read). */
  read: (WatermarkReadRange & WatermarkReadSummary) | null;
}

/** What the records read of one partition said (from an {@link EventTimeScan}). */
export interface WatermarkReadSummary {
  /** Records read. */
  records: number;
  /** The largest event time at or before the wall clock, epoch milliseconds; null when none. */
  latestEventTimeMs: number | null;
  /** Records whose event time is after the wall clock (a wrong clock): not trusted. */
  afterWallClock: number;
  /** Records without an event time (malformed, refused by the event-time guard, or ignored by the job). */
  withoutEventTime: number;
}

/**
 * The repair of one partition (pure): never forward, nothing without a
 * watermark or a target.
 * @param stored the partition's stored watermark (epoch ms or null), `next_offset` and `replay_from`.
 * @param targetMs the watermark aimed at, epoch MILLISECONDS; null when none could be computed.
 * @param read OPEN_WINDOWS: the range read and its scan; omitted for GIVEN_TIME or when nothing was read.
 */
export function planPartition(
  partition: number,
  stored: { watermarkMs: number | null; nextOffset: bigint; replayFrom: bigint },
  targetMs: number | null,
  read?: { range: WatermarkReadRange; scan: EventTimeScan },
): WatermarkPartitionPlan {
  const beforeMs = stored.watermarkMs;
  const outcome: WatermarkOutcome =
    beforeMs === null
      ? 'NO_WATERMARK'
      : targetMs === null
        ? 'NO_EVENT_TIME'
        : beforeMs > targetMs
          ? 'SET_BACK'
          : 'NOT_LATER';
  const lastAhead = read?.scan.lastAfterWallClockOffset ?? null;
  const replayFromAfter =
    outcome === 'SET_BACK' && read?.range.kind === 'OPEN_WINDOWS' && lastAhead !== null
      ? min(max(lastAhead + 1n, stored.replayFrom), stored.nextOffset)
      : stored.replayFrom;
  return {
    partition,
    outcome,
    beforeMs,
    targetMs,
    afterMs: outcome === 'SET_BACK' ? targetMs : beforeMs,
    replayFromBefore: stored.replayFrom,
    replayFromAfter,
    read: read
      ? {
          ...read.range,
          records: read.scan.records,
          latestEventTimeMs: read.scan.latestEventTimeMs,
          afterWallClock: read.scan.afterWallClock,
          withoutEventTime: read.scan.withoutEventTime,
        }
      : null,
  };
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
