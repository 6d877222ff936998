import { isUtf8 } from 'node:buffer';
import { MalformedRecordError } from '../../errors/malformed-record-error.js';
import type { RechargeEvent } from '../../domain/recharge.js';
import type { ZonedCalendar } from '../../domain/zoned-calendar.js';

/**
 * The `recharge` topic's record format (the
 * field names of the well-known mobile-recharge log). Key = `orderId`; value =
 * one JSON object, e.g.
 *
 *     {"orderId":"384663617178945213","serviceName":"reChargeNotifyReq","bussinessRst":"0000",
 *      "chargefee":"100.00","requestId":"20170412030007090581518228485394",
 *      "receiveNotifyTime":"20170412030030017","provinceCode":"440000","cityCode":"440100"}
 *
 * | field               | type   | meaning                                                                        |
 * |---------------------|--------|--------------------------------------------------------------------------------|
 * | `serviceName`       | string | only `reChargeNotifyReq` (the recharge's final notification) is counted;       |
 * |                     |        | any other service name is a valid record that this job skips                   |
 * | `orderId`           | string | 1 to 64 of `A-Z a-z 0-9 _ . : -`; an order seen again is a duplicate          |
 * | `bussinessRst`      | string | business result: `"0000"` = success, anything else = failure (sic: "buss")    |
 * | `chargefee`         | string | amount in YUAN as a decimal string, at most 2 decimals: `"100"`, `"99.5"`     |
 * | `requestId`         | string | its first 17 characters are the request time `yyyyMMddHHmmssSSS` (local time)  |
 * | `receiveNotifyTime` | string | the notify time `yyyyMMddHHmmssSSS` (local time): the EVENT TIME               |
 * | `provinceCode`      | string | carried, not checked against the city                                          |
 * | `cityCode`          | string | a code of the seeded `city` table, e.g. `440100` (Guangzhou)                   |
 *
 * Local times are wall-clock times in the configured `TIME_ZONE` (Asia/Shanghai
 * by default). Duration of the whole recharge = notify time - request time.
 * Other fields are ignored. For a skipped (non-notify) record only the JSON and
 * `serviceName` are checked: other services' records carry other fields.
 */
export const RECHARGE_NOTIFY_SERVICE = 'reChargeNotifyReq';

/** `bussinessRst` of a successful recharge. */
export const RECHARGE_SUCCESS = '0000';

/** Longest accepted `orderId`, in characters (the `recharge_order.order_id` column). */
export const MAX_ORDER_ID_LENGTH = 64;

/** Most integer digits of `chargefee` (yuan): 99,999,999.99 at most, so fen sums stay exact JavaScript integers. */
export const MAX_AMOUNT_INTEGER_DIGITS = 8;

/** Length of a `yyyyMMddHHmmssSSS` time. */
export const LOCAL_TIME_LENGTH = 17;

/** Every `reason` {@link parseRecharge} can put on a {@link MalformedRecordError}. */
export type RechargeMalformedReason =
  | 'empty-value'
  | 'encoding'
  | 'bad-json'
  | 'missing-field'
  | 'bad-field'
  | 'bad-time'
  | 'bad-duration'
  | 'bad-amount'
  | 'unknown-city';

/** What {@link parseRecharge} needs besides the value. */
export interface RechargeParseContext {
  /** Time zone of the local times in the record (config `TIME_ZONE`). */
  calendar: ZonedCalendar;
  /** Whether a city code is one of the seeded cities. Omit to accept any non-empty code. */
  isKnownCity?: (cityCode: string) => boolean;
}

const CH_0 = 48;
const CH_9 = 57;
const ORDER_ID = /^[A-Za-z0-9_.:-]+$/;
const AMOUNT = /^(\d+)(?:\.(\d{1,2}))?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Quotes a found value for a message; long values are cut so a bad record cannot flood the logs. */
function shown(value: unknown): string {
  // JSON.stringify returns undefined for undefined and functions, which its declared type leaves out.
  const s = typeof value === 'string' ? value : ((JSON.stringify(value) as string | undefined) ?? String(value));
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

function missing(field: string, expected: string): MalformedRecordError {
  return new MalformedRecordError('missing-field', `${field}: expected ${expected}, got nothing`);
}

/** A required string field: absent, null or "" is `missing-field`, another type `bad-field`. */
function requireString(obj: Record<string, unknown>, field: string, expected: string): string {
  const v = obj[field];
  if (v === undefined || v === null || v === '') throw missing(field, expected);
  if (typeof v !== 'string') {
    throw new MalformedRecordError(
      'bad-field',
      `${field}: expected ${expected} as a JSON string, got ${typeof v} ${shown(v)}`,
    );
  }
  return v;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * `yyyyMMddHHmmssSSS` (the first 17 characters of `text`) as a local time of
 * `calendar`'s zone -> epoch MILLISECONDS, or null when it is not a real time
 * (non-digits, month 13, February 30, hour 24, ...). Char loop: hot path.
 */
export function parseLocalTime(text: string, calendar: ZonedCalendar): number | null {
  if (text.length < LOCAL_TIME_LENGTH) return null;
  for (let i = 0; i < LOCAL_TIME_LENGTH; i++) {
    const c = text.charCodeAt(i);
    if (c < CH_0 || c > CH_9) return null;
  }
  const n = (from: number, len: number): number => {
    let v = 0;
    for (let i = from; i < from + len; i++) v = v * 10 + (text.charCodeAt(i) - CH_0);
    return v;
  };
  const year = n(0, 4);
  const month = n(4, 2);
  const day = n(6, 2);
  const hour = n(8, 2);
  const minute = n(10, 2);
  const second = n(12, 2);
  const ms = n(14, 3);
  if (year < 1970 || month < 1 || month > 12 || day < 1) return null;
  const monthDays = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (day > monthDays || hour > 23 || minute > 59 || second > 59) return null;
  return calendar.fromLocal(Date.UTC(year, month - 1, day, hour, minute, second, ms));
}

/** Epoch MILLISECONDS -> `yyyyMMddHHmmssSSS` local time of `calendar`'s zone (the inverse of {@link parseLocalTime}). */
export function formatLocalTime(epochMs: number, calendar: ZonedCalendar): string {
  const iso = new Date(epochMs + calendar.offsetMs(epochMs)).toISOString();
  // 2026-01-01T00:00:00.000Z -> 20260101000000000
  return (
    iso.slice(0, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19) +
    iso.slice(20, 23)
  );
}

/**
 * A yuan decimal string (`"100"`, `"99.5"`, `"0.01"`) -> integer FEN, from the
 * digits: `"0.1"` is exactly 10 fen, where `Math.round(0.1 * 100)` only happens
 * to be right.
 * @throws {MalformedRecordError} reason `bad-amount` for a sign, an exponent,
 *   more than 2 decimals, more than {@link MAX_AMOUNT_INTEGER_DIGITS} integer
 *   digits, or anything that is not a decimal.
 */
export function parseYuanToFen(text: string, field = 'chargefee'): number {
  const m = AMOUNT.exec(text);
  const integer = m?.[1]?.replace(/^0+(?=\d)/, '');
  if (!m || integer === undefined || integer.length > MAX_AMOUNT_INTEGER_DIGITS) {
    throw new MalformedRecordError(
      'bad-amount',
      `${field}: expected a yuan amount as a decimal string with at most ${MAX_AMOUNT_INTEGER_DIGITS} integer digits and 2 decimals (e.g. "99.50"), got ${shown(text)}`,
    );
  }
  const fraction = (m.at(2) ?? '').padEnd(2, '0');
  return Number(integer) * 100 + Number(fraction);
}

/**
 * Parses one `recharge` record value (the JSON object above; see the
 * field table on {@link RECHARGE_NOTIFY_SERVICE}).
 *
 * @param value the Kafka record value: UTF-8 bytes, a decoded string, or null (a tombstone).
 * @returns the event, or `null` for a valid record of another service
 *   (`serviceName` other than `reChargeNotifyReq`): not counted, not dead-lettered.
 * @throws {MalformedRecordError} code `MALFORMED_RECORD`; `reason` is one of
 *   {@link RechargeMalformedReason}: `empty-value`, `encoding` (not UTF-8),
 *   `bad-json` (not JSON, or not an object), `missing-field` (absent, null or
 *   ""), `bad-field` (not a string, or an `orderId` longer than 64 characters
 *   or with other characters than `A-Z a-z 0-9 _ . : -`), `bad-time`
 *   (`receiveNotifyTime` or the start of `requestId` is not a real
 *   `yyyyMMddHHmmssSSS` time), `bad-duration` (notified before requested),
 *   `bad-amount` (see {@link parseYuanToFen}), `unknown-city` (not a seeded
 *   city). The message names the field, what was expected and what was found.
 */
export function parseRecharge(value: Buffer | string | null, ctx: RechargeParseContext): RechargeEvent | null {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else if (value == null || value.length === 0) {
    throw new MalformedRecordError(
      'empty-value',
      `value: expected one JSON object, got ${value == null ? 'null' : 'an empty value'}`,
    );
  } else {
    // toString('utf8') would silently turn bad bytes into U+FFFD and let a corrupted order id through.
    if (!isUtf8(value))
      throw new MalformedRecordError(
        'encoding',
        `value: expected UTF-8 text, got ${value.length} bytes that are not valid UTF-8`,
      );
    text = value.toString('utf8');
  }
  if (text.trim().length === 0)
    throw new MalformedRecordError('empty-value', 'value: expected one JSON object, got an empty value');

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MalformedRecordError(
      'bad-json',
      `value: expected one JSON object, got text that is not JSON (${(err as Error).message}): ${shown(text)}`,
      { cause: err },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MalformedRecordError(
      'bad-json',
      `value: expected one JSON object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`,
    );
  }
  const obj = parsed as Record<string, unknown>;

  const serviceName = requireString(obj, 'serviceName', 'the service name, e.g. "reChargeNotifyReq"');
  if (serviceName !== RECHARGE_NOTIFY_SERVICE) return null;

  const orderId = requireString(obj, 'orderId', 'the order id');
  if (orderId.length > MAX_ORDER_ID_LENGTH || !ORDER_ID.test(orderId)) {
    throw new MalformedRecordError(
      'bad-field',
      `orderId: expected 1 to ${MAX_ORDER_ID_LENGTH} of A-Z a-z 0-9 _ . : -, got ${shown(orderId)}`,
    );
  }
  const result = requireString(obj, 'bussinessRst', 'the business result, "0000" for success');
  const chargefee = requireString(obj, 'chargefee', 'the amount in yuan as a decimal string');
  const requestId = requireString(obj, 'requestId', 'the request id starting with the request time yyyyMMddHHmmssSSS');
  const receiveNotifyTime = requireString(obj, 'receiveNotifyTime', 'the notify time yyyyMMddHHmmssSSS');
  const provinceCode = requireString(obj, 'provinceCode', 'the province code');
  const cityCode = requireString(obj, 'cityCode', 'the city code');

  const notifyTimeMs =
    receiveNotifyTime.length === LOCAL_TIME_LENGTH ? parseLocalTime(receiveNotifyTime, ctx.calendar) : null;
  if (notifyTimeMs === null) {
    throw new MalformedRecordError(
      'bad-time',
      `receiveNotifyTime: expected a local time yyyyMMddHHmmssSSS (17 digits), got ${shown(receiveNotifyTime)}`,
    );
  }
  const requestTimeMs = parseLocalTime(requestId, ctx.calendar);
  if (requestTimeMs === null) {
    throw new MalformedRecordError(
      'bad-time',
      `requestId: expected the request time yyyyMMddHHmmssSSS in its first 17 characters, got ${shown(requestId)}`,
    );
  }
  const durationMs = notifyTimeMs - requestTimeMs;
  if (durationMs < 0) {
    throw new MalformedRecordError(
      'bad-duration',
      `receiveNotifyTime: expected at or after the request time ${requestId.slice(0, LOCAL_TIME_LENGTH)} (start of requestId), got ${receiveNotifyTime}`,
    );
  }
  const amountFen = parseYuanToFen(chargefee);
  if (ctx.isKnownCity && !ctx.isKnownCity(cityCode)) {
    throw new MalformedRecordError(
      'unknown-city',
      `cityCode: expected a code of the city table (e.g. "440100"), got ${shown(cityCode)}`,
    );
  }
  return {
    orderId,
    succeeded: result === RECHARGE_SUCCESS,
    amountFen,
    requestTimeMs,
    notifyTimeMs,
    durationMs,
    provinceCode,
    cityCode,
  };
}

/** What {@link formatRecharge} needs; times in epoch MILLISECONDS. */
export interface RechargeRecordInput {
  orderId: string;
  /** @default "reChargeNotifyReq" */
  serviceName?: string;
  /** @default "0000" (success) */
  bussinessRst?: string;
  /** Yuan as a decimal string, e.g. "100.00". */
  chargefee: string;
  requestTimeMs: number;
  notifyTimeMs: number;
  /** Appended to the request time to make `requestId` (32 characters in the real log). @default "000000000000000" */
  requestIdSuffix?: string;
  /** @default "440000" (Guangdong) */
  provinceCode?: string;
  cityCode: string;
}

/**
 * Builds one record value (JSON, field order of the real log) for generators
 * and tests. Times are written as local times of `calendar`'s zone, so
 * `parseRecharge(formatRecharge(e, c), { calendar: c })` gives back `e`'s values.
 */
export function formatRecharge(e: RechargeRecordInput, calendar: ZonedCalendar): string {
  return JSON.stringify({
    bussinessRst: e.bussinessRst ?? RECHARGE_SUCCESS,
    chargefee: e.chargefee,
    orderId: e.orderId,
    provinceCode: e.provinceCode ?? '440000',
    cityCode: e.cityCode,
    receiveNotifyTime: formatLocalTime(e.notifyTimeMs, calendar),
    requestId: formatLocalTime(e.requestTimeMs, calendar) + (e.requestIdSuffix ?? '000000000000000'),
    serviceName: e.serviceName ?? RECHARGE_NOTIFY_SERVICE,
  });
}
