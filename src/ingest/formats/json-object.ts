import { isUtf8 } from 'node:buffer';
import { EVENT_TIME_UNIT } from '../../domain/event-time.js';
import { MalformedRecordError } from '../../errors/malformed-record-error.js';

/**
 * The first 40 characters of `value` as JSON (a string quoted, an object as
 * its JSON text), for error messages: enough to recognise a bad value, never
 * a whole payload.
 */
export function shownValue(value: unknown): string {
  let text: string;
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify returns undefined for undefined and functions, which its declared type leaves out
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** What kind of JSON value `value` is, for error messages: `null`, `an array`, or `a <type> (<value>)`. */
export function kindOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value} (${shownValue(value)})`;
}

/**
 * The JSON object a record value holds, checked the same way for every JSON
 * record format: UTF-8 bytes (a decode would silently turn bad bytes into
 * U+FFFD and merge distinct ids), JSON, an object.
 *
 * @param value the Kafka record value: bytes, an already decoded string, or `null` (a tombstone).
 * @returns the parsed object (its fields unchecked).
 * @throws {MalformedRecordError} reason `empty-value` (null or empty), `encoding`
 *   (not UTF-8), `bad-json` (not JSON; the parse error is the cause) or
 *   `not-an-object` (JSON of another kind); the message names what was expected and found.
 */
export function parseJsonObject(value: Buffer | string | null): Record<string, unknown> {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else if (value == null || value.length === 0) {
    throw new MalformedRecordError(
      'empty-value',
      `value: expected a JSON object, got ${value == null ? 'null' : 'an empty value'}`,
    );
  } else {
    if (!isUtf8(value))
      throw new MalformedRecordError(
        'encoding',
        `value: expected UTF-8 JSON, got ${value.length} bytes that are not valid UTF-8`,
      );
    text = value.toString('utf8');
  }
  if (text.length === 0)
    throw new MalformedRecordError('empty-value', 'value: expected a JSON object, got an empty value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MalformedRecordError(
      'bad-json',
      `value: expected a JSON object, got text that is not JSON (${(err as Error).message}): ${shownValue(text)}`,
      { cause: err },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new MalformedRecordError('not-an-object', `value: expected a JSON object, got ${kindOfValue(parsed)}`);
  return parsed as Record<string, unknown>;
}

/**
 * The string field `field` of a parsed record, 1 to `max` characters.
 * @throws {MalformedRecordError} reason `missing-field` when it is absent;
 *   `reason` when it is not a string or its length is out of range.
 */
export function requireText(obj: Record<string, unknown>, field: string, reason: string, max: number): string {
  const value = obj[field];
  if (value === undefined)
    throw new MalformedRecordError('missing-field', `${field}: expected a string, got nothing (the field is missing)`);
  if (typeof value !== 'string')
    throw new MalformedRecordError(
      reason,
      `${field}: expected a string of 1 to ${max} characters, got ${kindOfValue(value)}`,
    );
  if (value.length === 0 || value.length > max)
    throw new MalformedRecordError(
      reason,
      `${field}: expected 1 to ${max} characters, got ${value.length} (${shownValue(value)})`,
    );
  return value;
}

/**
 * The unit an out-of-range epoch time is in when it can only be that unit,
 * for times from 2001-09-09 on: `seconds` for 10^9 up to `minMs` (1973 in
 * milliseconds), `microseconds` from 10^15 and `nanoseconds` from 10^18
 * (while the time in milliseconds is at most `maxMs`); null when it is no
 * time at all (e.g. just past `maxMs` in milliseconds).
 */
export function wrongTimeUnitOf(
  time: number,
  minMs: number,
  maxMs: number,
): 'seconds' | 'microseconds' | 'nanoseconds' | null {
  if (time >= 1e9 && time < minMs) return 'seconds';
  if (time >= 1e18 && time / 1e6 <= maxMs) return 'nanoseconds';
  if (time >= 1e15 && time / 1e3 <= maxMs) return 'microseconds';
  return null;
}

/**
 * The integer epoch-MILLISECONDS field `field` of a parsed record, between
 * `minMs` and `maxMs` (epoch milliseconds; their dates are named in messages
 * as `minLabel` and `maxLabel`).
 * @throws {MalformedRecordError} reason `missing-field` when absent,
 *   `bad-event-time` when not an integer or out of range, `event-time-unit`
 *   ({@link EVENT_TIME_UNIT}) when out of range in a way only seconds,
 *   microseconds or nanoseconds explain ({@link wrongTimeUnitOf}).
 */
export function requireEpochMillis(
  obj: Record<string, unknown>,
  field: string,
  range: { minMs: number; maxMs: number; minLabel: string; maxLabel: string },
): number {
  const time = obj[field];
  if (time === undefined)
    throw new MalformedRecordError(
      'missing-field',
      `${field}: expected epoch milliseconds, got nothing (the field is missing)`,
    );
  if (typeof time !== 'number' || !Number.isInteger(time))
    throw new MalformedRecordError(
      'bad-event-time',
      `${field}: expected epoch milliseconds as an integer number, got ${kindOfValue(time)}`,
    );
  if (time < range.minMs || time > range.maxMs) {
    const unit = wrongTimeUnitOf(time, range.minMs, range.maxMs);
    throw new MalformedRecordError(
      unit === null ? 'bad-event-time' : EVENT_TIME_UNIT,
      `${field}: expected epoch milliseconds between ${range.minMs} (${range.minLabel}) and ${range.maxMs} (${range.maxLabel}), got ${time}${unit === null ? '' : ` (epoch ${unit}? the format carries milliseconds)`}`,
    );
  }
  return time;
}
