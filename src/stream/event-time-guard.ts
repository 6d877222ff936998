import { EVENT_TIME_AHEAD, EVENT_TIME_UNIT } from '../domain/event-time.js';
import { MalformedRecordError } from '../errors/malformed-record-error.js';

export { EVENT_TIME_AHEAD, EVENT_TIME_UNIT };

/** Default of MAX_EVENT_TIME_AHEAD_MS, MILLISECONDS (1 minute; the configuration explains why). */
export const DEFAULT_MAX_EVENT_TIME_AHEAD_MS = 60_000;

/**
 * Kafka's "no timestamp" (-1), and any timestamp before 1973-03-03 (below
 * 10^11 epoch MILLISECONDS): no record carries one in practice, so there is
 * nothing to compare an event time with.
 */
const NO_TIMESTAMP_BELOW_MS = 100_000_000_000;

/**
 * The event-time guard of every job, after the parse and before the event
 * reaches a window or a bucket: an event time more than `maxAheadMs`
 * MILLISECONDS after the record's own Kafka timestamp (its producer's create
 * time, or the broker's append time, stored with the record) is a wrong
 * clock, not an event of the future. The reference is stored with the
 * record, so a replay (crash, rebuild, reset) decides the same; the worker's
 * wall clock would not. Flink's and Kafka Streams' watermarks follow the
 * largest timestamp seen, so one such record blinds them; here it is
 * dead-lettered instead.
 *
 * @param eventTimeMs the parsed event time, epoch MILLISECONDS.
 * @param recordTimestampMs the Kafka record's timestamp, epoch MILLISECONDS
 *   (-1 or anything before 1973: no reference, the record passes).
 * @param maxAheadMs the allowance, MILLISECONDS (MAX_EVENT_TIME_AHEAD_MS).
 * @returns null when the event time may be used; else the error to
 *   dead-letter the record with (reason {@link EVENT_TIME_AHEAD}, the event
 *   time and the reference in its message).
 */
export function eventTimeAheadError(
  eventTimeMs: number,
  recordTimestampMs: number,
  maxAheadMs: number,
): MalformedRecordError | null {
  if (!(recordTimestampMs >= NO_TIMESTAMP_BELOW_MS) || eventTimeMs - recordTimestampMs <= maxAheadMs) return null;
  return new MalformedRecordError(
    EVENT_TIME_AHEAD,
    `event time ${iso(eventTimeMs)} is ${eventTimeMs - recordTimestampMs} ms ahead of the record's Kafka timestamp ${iso(recordTimestampMs)} (at most ${maxAheadMs} ms allowed, MAX_EVENT_TIME_AHEAD_MS): a wrong clock`,
  );
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
