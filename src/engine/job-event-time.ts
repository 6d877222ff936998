import { MalformedRecordError } from '../errors/malformed-record-error.js';
import { DEFAULT_MAX_EVENT_TIME_AHEAD_MS, eventTimeAheadError } from '../stream/index.js';
import type { JobEventTime, SourceRecord } from './job.js';

/** How a job parses a record for its event time (the parts of `AdditiveHandler` that matter here). */
export interface EventTimeParser<E> {
  /**
   * Parses one record.
   * @returns the event, or null for a valid record that moves no watermark.
   * @throws {MalformedRecordError} for a bad record (no event time); anything else is a bug and is rethrown.
   */
  parse(record: SourceRecord): E | null;
  /** Event time of a parsed record, epoch MILLISECONDS. */
  eventTimeMs(event: E): number;
  /** Largest lead of an event time over its record's Kafka timestamp, MILLISECONDS. @default DEFAULT_MAX_EVENT_TIME_AHEAD_MS // 1 minute */
  maxEventTimeAheadMs?: number;
}

/**
 * A {@link JobEventTime} that reads a record as the job's processors do:
 * `parser.parse` (a {@link MalformedRecordError} or null: no event time),
 * `parser.eventTimeMs`, then the event-time guard (`eventTimeAheadError` with
 * `parser.maxEventTimeAheadMs`; refused: no event time).
 * @param graceMs grace period of the job's watermark, MILLISECONDS.
 * @param load reference data `parser.parse` needs (see {@link JobEventTime.load}).
 */
export function guardedEventTime<E>(
  parser: EventTimeParser<E>,
  graceMs: number,
  load?: () => Promise<void>,
): JobEventTime {
  const maxAheadMs = parser.maxEventTimeAheadMs ?? DEFAULT_MAX_EVENT_TIME_AHEAD_MS;
  return {
    graceMs,
    load,
    of: (record) => {
      let event: E | null;
      try {
        event = parser.parse(record);
      } catch (err) {
        if (err instanceof MalformedRecordError) return null;
        throw err;
      }
      if (event === null) return null;
      const t = parser.eventTimeMs(event);
      return eventTimeAheadError(t, record.timestampMs, maxAheadMs) ? null : t;
    },
  };
}
