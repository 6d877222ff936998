import { isUtf8 } from 'node:buffer';
import { EVENT_TIME_UNIT } from '../../domain/event-time.js';
import { MalformedRecordError } from '../../errors/malformed-record-error.js';

/**
 * The `user-behavior` topic's record format (the app's tab-separated behaviour log). Key = uid;
 * value = ONE line of exactly 17 tab-separated fields, e.g. this sample line
 * (user 61024 opens the order page from the iOS app over Wi-Fi at
 * 2019-04-08 00:00 Asia/Shanghai):
 *
 *     61024\t61024\tM\t1\t0\tios\ttoutiao\twifi\t42.86.6.0\t18701461024\t0\t0\t0\t0\t2.0\tenterOrderPage\t1554652800
 *
 * | #  | name       | sample           | notes                                          |
 * |----|------------|------------------|------------------------------------------------|
 * | 0  | uid        | 61024            | user id; checked, used (also the record key)   |
 * | 1  | deviceId   | 61024            | a second user/device id; equals uid in sample  |
 * | 2  | gender     | M                | M / F                                          |
 * | 3  | attr3      | 1                | meaning unknown (a 0/1 attribute)              |
 * | 4  | attr4      | 0                | meaning unknown (a 0/1 attribute)              |
 * | 5  | os         | ios              | ios / android                                  |
 * | 6  | channel    | toutiao          | acquisition channel                            |
 * | 7  | network    | wifi             | wifi / 4g / 5g                                 |
 * | 8  | ip         | 42.86.6.0        | client IPv4, last octet masked                 |
 * | 9  | phone      | 18701461024      | checked, used                                  |
 * | 10 | flag10     | 0                | 0/1 flags, meaning unknown                     |
 * | 11 | flag11     | 0                |                                                |
 * | 12 | flag12     | 0                |                                                |
 * | 13 | flag13     | 0                |                                                |
 * | 14 | appVersion | 2.0              |                                                |
 * | 15 | eventKey   | enterOrderPage   | checked, used                                  |
 * | 16 | eventTime  | 1554652800       | epoch SECONDS (not milliseconds); checked, used|
 *
 * Only fields 0, 9, 15 and 16 are checked; the others are carried as they are.
 */
export const USER_BEHAVIOR_FIELD_COUNT = 17;

/** Zero-based index of each field of a `user-behavior` line (see {@link USER_BEHAVIOR_FIELD_COUNT} for the table). */
export const UserBehaviorField = {
  uid: 0,
  deviceId: 1,
  gender: 2,
  attr3: 3,
  attr4: 4,
  os: 5,
  channel: 6,
  network: 7,
  ip: 8,
  phone: 9,
  flag10: 10,
  flag11: 11,
  flag12: 12,
  flag13: 13,
  appVersion: 14,
  eventKey: 15,
  eventTime: 16,
} as const;

/** Field names in index order, as error messages print them. */
export const USER_BEHAVIOR_FIELD_NAMES: readonly string[] = Object.keys(UserBehaviorField);

/** Longest accepted uid, in characters (UTF-16 code units). */
export const MAX_UID_LENGTH = 128;
/** Most digits of a phone number (a leading `+` does not count). */
export const MAX_PHONE_DIGITS = 16;
/** Most digits of the event time in seconds: 11 digits keeps it before the year 5000. */
export const MAX_EVENT_TIME_DIGITS = 11;
/**
 * Most digits of an event time read as being in the wrong unit: 12 to 19
 * digits are epoch milliseconds, microseconds or nanoseconds of any year
 * from 1973 on (`event-time-unit`); longer is not a time at all (`bad-event-time`).
 */
const MAX_WRONG_UNIT_DIGITS = 19;

/** Whether `bytes[start..end)` are all ASCII digits. */
function allDigits(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] < 0x30 || bytes[i] > 0x39) return false;
  return true;
}

/** Every `reason` {@link parseUserBehavior} can put on a {@link MalformedRecordError}. */
export type UserBehaviorMalformedReason =
  | 'empty-value'
  | 'encoding'
  | 'field-count'
  | 'empty-uid'
  | 'uid-too-long'
  | 'bad-phone'
  | 'empty-event-key'
  | 'bad-event-time'
  | typeof EVENT_TIME_UNIT;

/** The four fields of a `user-behavior` record the jobs use ({@link parseUserBehaviorFields}). */
export interface UserBehaviorFields {
  /** Field 0, non-empty, at most 128 characters. */
  readonly uid: string;
  /** Field 9: 1 to 16 digits, optionally after a leading `+`. */
  readonly phone: string;
  /** Field 15, non-empty, e.g. `enterOrderPage`. */
  readonly eventKey: string;
  /** Field 16 converted to epoch MILLISECONDS (the line carries seconds; this is seconds * 1000). */
  readonly eventTimeMs: number;
}

/** One parsed `user-behavior` record: the used fields and all 17 raw ones. */
export interface UserBehaviorEvent extends UserBehaviorFields {
  /** All 17 raw fields, in line order (trailing CR/LF removed). Do not mutate. */
  readonly fields: readonly string[];
}

const UID = UserBehaviorField.uid;
const PHONE = UserBehaviorField.phone;
const EVENT_KEY = UserBehaviorField.eventKey;
const EVENT_TIME = UserBehaviorField.eventTime;

const CH_TAB = 9;
const CH_LF = 10;
const CH_CR = 13;
const CH_PLUS = 43;
const CH_0 = 48;
const CH_9 = 57;

/** Quotes a found value for a message; long values are cut so a bad record cannot flood the logs. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function fieldError(
  reason: UserBehaviorMalformedReason,
  index: number,
  expected: string,
  got: string,
): MalformedRecordError {
  return new MalformedRecordError(
    reason,
    `field ${index} (${USER_BEHAVIOR_FIELD_NAMES[index]}): expected ${expected}, got ${got}`,
    {
      field: index,
    },
  );
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads `user-behavior` record values one at a time, checking them exactly as
 * {@link parseUserBehavior} does (same reasons, same messages, same order),
 * straight on the UTF-8 bytes: one pass over the line finds the tabs, the
 * digits are checked and the event time computed from the bytes, and a string
 * is made only for a field the caller asks for (`uid()`, `phone()`,
 * `eventKey()`). This is the jobs' hot path: no string for the line, no array
 * of fields, no object per record. A tab, CR or LF byte never occurs inside a
 * multi-byte UTF-8 character, so splitting the bytes splits the text.
 *
 * One reader holds the last record read: its accessors refer to that record
 * until the next {@link read}. Not for concurrent use (the jobs process a
 * batch synchronously).
 */
export class UserBehaviorReader {
  private bytes: Buffer = EMPTY;
  private uidEnd = 0;
  private phoneStart = 0;
  private phoneEnd = 0;
  private keyStart = 0;
  private keyEnd = 0;
  /** Event time of the last record read, epoch MILLISECONDS (the line carries seconds). */
  eventTimeMs = 0;

  /**
   * Reads and checks one record value: UTF-8 bytes, or a string (checked as its UTF-8 encoding).
   * @throws {MalformedRecordError} exactly as {@link parseUserBehavior}; the reader then holds no record.
   */
  read(value: Buffer | string | null): void {
    let bytes: Buffer;
    if (typeof value === 'string') {
      bytes = Buffer.from(value, 'utf8');
    } else if (value == null || value.length === 0) {
      throw new MalformedRecordError(
        'empty-value',
        `value: expected one tab-separated line, got ${value == null ? 'null' : 'an empty value'}`,
      );
    } else {
      // toString('utf8') would silently turn bad bytes into U+FFFD and let a
      // corrupted uid through as a different user.
      if (!isUtf8(value)) {
        throw new MalformedRecordError(
          'encoding',
          `value: expected UTF-8 text, got ${value.length} bytes that are not valid UTF-8`,
        );
      }
      bytes = value;
    }
    this.bytes = EMPTY;

    let end = bytes.length;
    while (end > 0) {
      const c = bytes[end - 1];
      if (c !== CH_LF && c !== CH_CR) break;
      end--;
    }
    if (end === 0)
      throw new MalformedRecordError('empty-value', 'value: expected one tab-separated line, got an empty line');

    // Field k ends at tab k; these are the bounds of fields 0, 9, 15 and 16.
    let uidEnd = -1;
    let phoneStart = -1;
    let phoneEnd = -1;
    let keyStart = -1;
    let timeStart = -1;
    let tabs = 0;
    for (let i = 0; i < end; i++) {
      if (bytes[i] !== CH_TAB) continue;
      if (tabs === UID) uidEnd = i;
      else if (tabs === PHONE - 1) phoneStart = i + 1;
      else if (tabs === PHONE) phoneEnd = i;
      else if (tabs === EVENT_KEY - 1) keyStart = i + 1;
      else if (tabs === EVENT_KEY) timeStart = i + 1;
      tabs++;
    }
    if (tabs + 1 !== USER_BEHAVIOR_FIELD_COUNT) {
      throw new MalformedRecordError(
        'field-count',
        `value: expected ${USER_BEHAVIOR_FIELD_COUNT} tab-separated fields, got ${tabs + 1}`,
      );
    }

    if (uidEnd === 0) throw fieldError('empty-uid', UID, 'a non-empty user id', '""');
    // UTF-8 takes at least as many bytes as UTF-16 code units: only a long byte run needs the string.
    if (uidEnd > MAX_UID_LENGTH) {
      const uid = bytes.toString('utf8', 0, uidEnd);
      if (uid.length > MAX_UID_LENGTH) {
        throw fieldError(
          'uid-too-long',
          UID,
          `at most ${MAX_UID_LENGTH} characters`,
          `${uid.length} characters (${shown(uid)})`,
        );
      }
    }

    const digitsFrom = bytes[phoneStart] === CH_PLUS ? phoneStart + 1 : phoneStart;
    const digits = phoneEnd - digitsFrom;
    let phoneOk = digits >= 1 && digits <= MAX_PHONE_DIGITS;
    for (let i = digitsFrom; phoneOk && i < phoneEnd; i++) {
      const c = bytes[i];
      phoneOk = c >= CH_0 && c <= CH_9;
    }
    if (!phoneOk) {
      throw fieldError(
        'bad-phone',
        PHONE,
        `1 to ${MAX_PHONE_DIGITS} digits with an optional leading "+"`,
        shown(bytes.toString('utf8', phoneStart, phoneEnd)),
      );
    }

    const keyEnd = timeStart - 1;
    if (keyEnd === keyStart) throw fieldError('empty-event-key', EVENT_KEY, 'a non-empty event name', '""');

    const timeLength = end - timeStart;
    let seconds = 0;
    let timeOk = timeLength >= 1 && timeLength <= MAX_EVENT_TIME_DIGITS;
    for (let i = timeStart; timeOk && i < end; i++) {
      const d = bytes[i] - CH_0;
      timeOk = d >= 0 && d <= 9;
      seconds = seconds * 10 + d;
    }
    if (
      !timeOk &&
      timeLength > MAX_EVENT_TIME_DIGITS &&
      timeLength <= MAX_WRONG_UNIT_DIGITS &&
      allDigits(bytes, timeStart, end)
    ) {
      throw fieldError(
        EVENT_TIME_UNIT,
        EVENT_TIME,
        `epoch SECONDS (at most ${MAX_EVENT_TIME_DIGITS} digits)`,
        `${bytes.toString('latin1', timeStart, end)} (${timeLength} digits: milliseconds or microseconds, not seconds)`,
      );
    }
    if (!timeOk) {
      throw fieldError(
        'bad-event-time',
        EVENT_TIME,
        `epoch seconds as an integer (1 to ${MAX_EVENT_TIME_DIGITS} digits, no sign, no fraction)`,
        shown(bytes.toString('utf8', timeStart, end)),
      );
    }
    this.bytes = bytes;
    this.uidEnd = uidEnd;
    this.phoneStart = phoneStart;
    this.phoneEnd = phoneEnd;
    this.keyStart = keyStart;
    this.keyEnd = keyEnd;
    this.eventTimeMs = seconds * 1000;
  }

  /** Field 0 of the last record read. */
  uid(): string {
    return this.bytes.toString('utf8', 0, this.uidEnd);
  }

  /** Field 9 of the last record read. */
  phone(): string {
    return this.bytes.toString('utf8', this.phoneStart, this.phoneEnd);
  }

  /** Field 15 of the last record read. */
  eventKey(): string {
    return this.bytes.toString('utf8', this.keyStart, this.keyEnd);
  }

  /** True when field 15 of the last record read is `name` (an ASCII event name such as `enterOrderPage`), without making a string. */
  eventKeyIs(name: string): boolean {
    const { bytes, keyStart } = this;
    if (this.keyEnd - keyStart !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (bytes[keyStart + i] !== name.charCodeAt(i)) return false;
    return true;
  }
}

const sharedReader = new UserBehaviorReader();

/** The record value as text (after {@link UserBehaviorReader.read} accepted it): the trailing CR/LF run stripped. */
function lineOf(value: Buffer | string): string {
  const text = typeof value === 'string' ? value : value.toString('utf8');
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== CH_LF && c !== CH_CR) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

/**
 * Parses one `user-behavior` record value into the four fields the jobs use,
 * without the other 13 (see {@link parseUserBehavior} for the format, the
 * accepted input and every error: the checks are the same, in the same order).
 * One string per returned field (jobs that need fewer use {@link UserBehaviorReader}).
 *
 * @param value the Kafka record value: UTF-8 bytes, an already decoded
 *   string, or `null` (a tombstone).
 * @returns uid, phone, eventKey and `eventTimeMs` in epoch MILLISECONDS (the
 *   line carries epoch SECONDS).
 * @throws {MalformedRecordError} exactly as {@link parseUserBehavior}.
 */
export function parseUserBehaviorFields(value: Buffer | string | null): UserBehaviorFields {
  const r = sharedReader;
  r.read(value);
  return { uid: r.uid(), phone: r.phone(), eventKey: r.eventKey(), eventTimeMs: r.eventTimeMs };
}

/**
 * Parses one `user-behavior` record value (one tab-separated line of 17
 * fields, as in the sample line above; see the field table on
 * {@link USER_BEHAVIOR_FIELD_COUNT}). One trailing run of `\r` / `\n` is
 * tolerated and stripped (lines produced by text tools, CRLF files).
 *
 * @param value the Kafka record value: UTF-8 bytes, an already decoded
 *   string, or `null` (a tombstone).
 * @returns the checked fields; `eventTimeMs` is epoch MILLISECONDS (the line
 *   carries epoch SECONDS).
 * @throws {MalformedRecordError} code `MALFORMED_RECORD`; `reason` is one of
 *   {@link UserBehaviorMalformedReason}: `empty-value` (null, empty or only a
 *   line break), `encoding` (bytes that are not UTF-8), `field-count` (not
 *   exactly 17 fields), `empty-uid`, `uid-too-long` (over 128 characters),
 *   `bad-phone` (not 1 to 16 digits with an optional leading `+`),
 *   `empty-event-key`, `bad-event-time` (not 1 to 11 digits),
 *   `event-time-unit` (12 to 19 digits: milliseconds or finer where the
 *   format carries seconds). The message
 *   names the field, what was expected and what was found.
 */
export function parseUserBehavior(value: Buffer | string | null): UserBehaviorEvent {
  const used = parseUserBehaviorFields(value);
  // Accepted, so `value` is a non-empty line.
  return { ...used, fields: lineOf(value ?? '').split('\t') };
}

/**
 * What {@link formatUserBehavior} needs. Unset optional fields take the
 * values of the sample line above (`deviceId` defaults to `uid`).
 */
export interface UserBehaviorLineInput {
  uid: string;
  /** 1 to 16 digits, optionally after a leading `+`. */
  phone: string;
  eventKey: string;
  /** Event time in epoch SECONDS (not milliseconds): a non-negative integer of at most 11 digits. */
  eventTimeSec: number;
  /** @default uid */
  deviceId?: string;
  /** @default "M" */
  gender?: string;
  /** @default "1" */
  attr3?: string;
  /** @default "0" */
  attr4?: string;
  /** @default "ios" */
  os?: string;
  /** @default "toutiao" */
  channel?: string;
  /** @default "wifi" */
  network?: string;
  /** @default "42.86.6.0" */
  ip?: string;
  /** Fields 10 to 13. @default ["0", "0", "0", "0"] */
  flags?: readonly [string, string, string, string];
  /** @default "2.0" */
  appVersion?: string;
}

/**
 * Builds one valid `user-behavior` line (no trailing newline) for generators
 * and tests; `parseUserBehavior(formatUserBehavior(e))` gives back `e`'s
 * values, with `eventTimeMs = eventTimeSec * 1000`.
 *
 * @throws {MalformedRecordError} when the input could not make a valid line:
 *   a field holding a tab or line break (`reason` `field-count`), or any
 *   value {@link parseUserBehavior} would reject (same reasons and messages).
 */
export function formatUserBehavior(e: UserBehaviorLineInput): string {
  const flags = e.flags ?? ['0', '0', '0', '0'];
  const fields = [
    e.uid,
    e.deviceId ?? e.uid,
    e.gender ?? 'M',
    e.attr3 ?? '1',
    e.attr4 ?? '0',
    e.os ?? 'ios',
    e.channel ?? 'toutiao',
    e.network ?? 'wifi',
    e.ip ?? '42.86.6.0',
    e.phone,
    flags[0],
    flags[1],
    flags[2],
    flags[3],
    e.appVersion ?? '2.0',
    e.eventKey,
    // A fraction, sign, NaN or exponent form stringifies to something the parser rejects.
    String(e.eventTimeSec),
  ];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.includes('\t') || f.includes('\n') || f.includes('\r')) {
      throw fieldError('field-count', i, 'no tab or line break inside a field', shown(f));
    }
  }
  const line = fields.join('\t');
  // No field holds a tab or line break, so the line has exactly 17 fields and only the used ones can fail.
  sharedReader.read(line);
  return line;
}
