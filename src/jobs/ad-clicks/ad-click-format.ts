import { isIP } from 'node:net';
import { EVENT_TIME_UNIT } from '../../domain/event-time.js';
import { MalformedRecordError } from '../../errors/malformed-record-error.js';
import {
  parseJsonObject,
  requireEpochMillis,
  requireText,
  shownValue,
  wrongTimeUnitOf,
} from '../../ingest/formats/json-object.js';

/**
 * The `ad-clicks` topic's record format. Any key; value = one JSON object, e.g.
 *
 *     {"event_time": 1767268800123, "ad_id": "ad17", "user_id": "u_42", "ip": "203.0.113.7"}
 *
 * | field        | type   | required | notes                                                              |
 * |--------------|--------|----------|--------------------------------------------------------------------|
 * | `event_time` | number | yes      | epoch MILLISECONDS, an integer >= 1e11 (1973-03-03); seconds, microseconds or nanoseconds are refused as `event-time-unit` |
 * | `ad_id`      | string | yes      | 1 to 64 characters                                                 |
 * | `user_id`    | string | yes      | 1 to 128 characters                                                |
 * | `ip`         | string | yes      | an IPv4 or IPv6 address as text (`node:net` isIP), at most 45 characters; compared with the blacklist as sent |
 *
 * Other fields are ignored.
 */
export const AD_CLICK_FIELDS = ['event_time', 'ad_id', 'user_id', 'ip'] as const;

/** Longest accepted `ad_id`, in characters; the column is VARCHAR(64). */
export const MAX_AD_ID_LENGTH = 64;
/** Longest accepted `user_id`, in characters; the blacklist's value column is VARCHAR(128). */
export const MAX_AD_USER_ID_LENGTH = 128;
/** Longest accepted `ip`, in characters (the longest IPv6 text form). */
export const MAX_IP_LENGTH = 45;
/** Smallest accepted `event_time`, epoch MILLISECONDS (1973-03-03T09:46:40Z): epoch seconds of any later date are below it. */
export const MIN_AD_EVENT_TIME_MS = 100_000_000_000;
/** Largest accepted `event_time`, epoch MILLISECONDS (9999-12-31T23:59:59.999Z, the DATETIME range). */
export const MAX_AD_EVENT_TIME_MS = 253_402_300_799_999;

/** Every `reason` {@link parseAdClick} can put on a {@link MalformedRecordError}. */
export type AdClickMalformedReason =
  | 'empty-value'
  | 'encoding'
  | 'bad-json'
  | 'not-an-object'
  | 'missing-field'
  | 'bad-event-time'
  | typeof EVENT_TIME_UNIT
  | 'bad-ad-id'
  | 'bad-user-id'
  | 'bad-ip';

/** One parsed `ad-clicks` record. */
export interface AdClickEvent {
  /** Epoch MILLISECONDS. */
  readonly eventTimeMs: number;
  readonly adId: string;
  readonly userId: string;
  readonly ip: string;
}

/**
 * The unit an out-of-range `event_time` is in when it can only be that unit:
 * `seconds` for 10^9 to 10^11, `microseconds` from 10^15, `nanoseconds` from
 * 10^18 (while the time in milliseconds is at most 9999-12-31); null when it
 * is no time at all.
 */
export function wrongUnitOf(time: number): 'seconds' | 'microseconds' | 'nanoseconds' | null {
  return wrongTimeUnitOf(time, MIN_AD_EVENT_TIME_MS, MAX_AD_EVENT_TIME_MS);
}

/**
 * Parses one `ad-clicks` record value (see {@link AD_CLICK_FIELDS}).
 *
 * @param value the Kafka record value: UTF-8 bytes, an already decoded string, or `null` (a tombstone).
 * @returns the checked fields; `eventTimeMs` is epoch MILLISECONDS as sent.
 * @throws {MalformedRecordError} code `MALFORMED_RECORD`; `reason` is one of
 *   {@link AdClickMalformedReason}. The message names the field, what was
 *   expected and what was found.
 */
export function parseAdClick(value: Buffer | string | null): AdClickEvent {
  const obj = parseJsonObject(value);

  const time = requireEpochMillis(obj, 'event_time', {
    minMs: MIN_AD_EVENT_TIME_MS,
    maxMs: MAX_AD_EVENT_TIME_MS,
    minLabel: '1973-03-03',
    maxLabel: '9999-12-31',
  });
  const adId = requireText(obj, 'ad_id', 'bad-ad-id', MAX_AD_ID_LENGTH);
  const userId = requireText(obj, 'user_id', 'bad-user-id', MAX_AD_USER_ID_LENGTH);
  const ip = requireText(obj, 'ip', 'bad-ip', MAX_IP_LENGTH);
  if (isIP(ip) === 0)
    throw new MalformedRecordError('bad-ip', `ip: expected an IPv4 or IPv6 address, got ${shownValue(ip)}`);
  return { eventTimeMs: time, adId, userId, ip };
}

/**
 * Builds one valid `ad-clicks` value for generators and tests;
 * `parseAdClick(formatAdClick(e))` gives back `e`.
 * @throws {MalformedRecordError} for any value {@link parseAdClick} would reject.
 */
export function formatAdClick(e: AdClickEvent): string {
  const text = JSON.stringify({ event_time: e.eventTimeMs, ad_id: e.adId, user_id: e.userId, ip: e.ip });
  parseAdClick(text);
  return text;
}
