import { isUtf8 } from 'node:buffer';
import { MalformedRecordError } from '../../errors/malformed-record-error.js';
import type { RechargeEvent } from './recharge.js';
import type { ZonedCalendar } from '../../domain/zoned-calendar.js';
import {
  asBytes,
  bytesEqual,
  CH_0,
  CH_9,
  CLOSE,
  COLON,
  COMMA,
  OPEN,
  plainStringEnd,
  Q,
} from '../../ingest/formats/json-bytes.js';

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

const DOT = 0x2e;

const K_ORDER_ID = asBytes('orderId');
const K_CITY_CODE = asBytes('cityCode');
const K_CHARGEFEE = asBytes('chargefee');
const K_REQUEST_ID = asBytes('requestId');
const K_SERVICE_NAME = asBytes('serviceName');
const K_BUSSINESS_RST = asBytes('bussinessRst');
const K_PROVINCE_CODE = asBytes('provinceCode');
const K_RECEIVE_NOTIFY_TIME = asBytes('receiveNotifyTime');
const V_NOTIFY_SERVICE = asBytes(RECHARGE_NOTIFY_SERVICE);
const V_SUCCESS = asBytes(RECHARGE_SUCCESS);

/** Whether `c` is one of `A-Z a-z 0-9 _ . : -` (the order id alphabet). */
function isOrderIdByte(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= CH_0 && c <= CH_9) ||
    (c >= 0x41 && c <= 0x5a) ||
    c === 0x5f ||
    c === DOT ||
    c === COLON ||
    c === 0x2d
  );
}

/** {@link parseLocalTime} on bytes `[start, start + 17)` of `b` (all present), or null. */
function localTimeOfBytes(b: Uint8Array, start: number, calendar: ZonedCalendar): number | null {
  for (let i = start; i < start + LOCAL_TIME_LENGTH; i++) if (b[i] < CH_0 || b[i] > CH_9) return null;
  const n = (from: number, len: number): number => {
    let v = 0;
    for (let i = start + from; i < start + from + len; i++) v = v * 10 + (b[i] - CH_0);
    return v;
  };
  const year = n(0, 4);
  const month = n(4, 2);
  const day = n(6, 2);
  const hour = n(8, 2);
  const minute = n(10, 2);
  const second = n(12, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1) return null;
  const monthDays = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (day > monthDays || hour > 23 || minute > 59 || second > 59) return null;
  return calendar.fromLocal(Date.UTC(year, month - 1, day, hour, minute, second, n(14, 3)));
}

/** {@link parseYuanToFen} on bytes `[start, end)` of `b`, or -1 where it would throw. */
function fenOfBytes(b: Uint8Array, start: number, end: number): number {
  let i = start;
  // Leading zeros do not count towards the integer digits ("007" is 7 yuan).
  while (i < end - 1 && b[i] === CH_0 && b[i + 1] !== DOT) i++;
  let integer = 0;
  let digits = 0;
  for (; i < end && b[i] !== DOT; i++) {
    if (b[i] < CH_0 || b[i] > CH_9) return -1;
    integer = integer * 10 + (b[i] - CH_0);
    digits++;
  }
  if (digits === 0 || digits > MAX_AMOUNT_INTEGER_DIGITS) return -1;
  let fraction = 0;
  if (i < end) {
    const decimals = end - i - 1;
    if (decimals < 1 || decimals > 2) return -1;
    for (let j = i + 1; j < end; j++) {
      if (b[j] < CH_0 || b[j] > CH_9) return -1;
      fraction = fraction * 10 + (b[j] - CH_0);
    }
    if (decimals === 1) fraction *= 10;
  }
  return integer * 100 + fraction;
}

/**
 * The lean path of {@link parseRecharge}, on the raw bytes: no UTF-8
 * decoding, no JSON.parse, no object, and strings made only for the fields
 * the event keeps (this was a third of the job's CPU per record). It takes
 * only the shape producers write: one flat JSON object of string values, no
 * whitespace, ASCII without escapes (so the bytes are valid UTF-8 and JSON,
 * and the text is what JSON.parse would read; a key given twice counts last,
 * as in JSON.parse), and only records that pass every check.
 *
 * @returns the event or `null` (another service), exactly as
 *   {@link parseFull} would; `undefined` when the value is not of that shape
 *   or fails a check: {@link parseFull} then decides, and throws its error.
 *
 * Exported for the tests that check it takes every valid record the producers write.
 */
export function parseLean(b: Uint8Array, ctx: RechargeParseContext): RechargeEvent | null | undefined {
  const n = b.length;
  if (n < 2 || b[0] !== OPEN || b[n - 1] !== CLOSE) return undefined;
  // [start, end) of each needed value; -1: absent.
  let serviceS = -1;
  let serviceE = -1;
  let orderS = -1;
  let orderE = -1;
  let rstS = -1;
  let rstE = -1;
  let feeS = -1;
  let feeE = -1;
  let requestS = -1;
  let requestE = -1;
  let notifyS = -1;
  let notifyE = -1;
  let provinceS = -1;
  let provinceE = -1;
  let cityS = -1;
  let cityE = -1;
  let i = 1;
  for (;;) {
    if (b[i] !== Q) return undefined;
    const ks = i + 1;
    const ke = plainStringEnd(b, ks, n);
    if (ke < 0) return undefined;
    i = ke + 1;
    if (b[i++] !== COLON || b[i] !== Q) return undefined;
    const vs = i + 1;
    const ve = plainStringEnd(b, vs, n);
    if (ve < 0) return undefined;
    i = ve + 1;
    switch (ke - ks) {
      case 7:
        if (bytesEqual(b, ks, ke, K_ORDER_ID)) {
          orderS = vs;
          orderE = ve;
        }
        break;
      case 8:
        if (bytesEqual(b, ks, ke, K_CITY_CODE)) {
          cityS = vs;
          cityE = ve;
        }
        break;
      case 9:
        if (bytesEqual(b, ks, ke, K_CHARGEFEE)) {
          feeS = vs;
          feeE = ve;
        } else if (bytesEqual(b, ks, ke, K_REQUEST_ID)) {
          requestS = vs;
          requestE = ve;
        }
        break;
      case 11:
        if (bytesEqual(b, ks, ke, K_SERVICE_NAME)) {
          serviceS = vs;
          serviceE = ve;
        }
        break;
      case 12:
        if (bytesEqual(b, ks, ke, K_BUSSINESS_RST)) {
          rstS = vs;
          rstE = ve;
        } else if (bytesEqual(b, ks, ke, K_PROVINCE_CODE)) {
          provinceS = vs;
          provinceE = ve;
        }
        break;
      case 17:
        if (bytesEqual(b, ks, ke, K_RECEIVE_NOTIFY_TIME)) {
          notifyS = vs;
          notifyE = ve;
        }
        break;
    }
    if (b[i] === COMMA) {
      i++;
      continue;
    }
    if (i === n - 1) break; // the closing brace, checked above
    return undefined;
  }
  // Absent or "" fields, and any failed check, go to the full path for their error.
  if (serviceS < 0 || serviceE === serviceS) return undefined;
  if (!bytesEqual(b, serviceS, serviceE, V_NOTIFY_SERVICE)) return null;
  if (orderS < 0 || orderE === orderS || orderE - orderS > MAX_ORDER_ID_LENGTH) return undefined;
  for (let j = orderS; j < orderE; j++) if (!isOrderIdByte(b[j])) return undefined;
  if (rstS < 0 || rstE === rstS || feeS < 0 || feeE === feeS || provinceS < 0 || provinceE === provinceS)
    return undefined;
  if (cityS < 0 || cityE === cityS || requestS < 0 || requestE - requestS < LOCAL_TIME_LENGTH) return undefined;
  if (notifyS < 0 || notifyE - notifyS !== LOCAL_TIME_LENGTH) return undefined;
  const notifyTimeMs = localTimeOfBytes(b, notifyS, ctx.calendar);
  const requestTimeMs = localTimeOfBytes(b, requestS, ctx.calendar);
  if (notifyTimeMs === null || requestTimeMs === null || notifyTimeMs < requestTimeMs) return undefined;
  const amountFen = fenOfBytes(b, feeS, feeE);
  if (amountFen < 0) return undefined;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const cityCode = buf.toString('latin1', cityS, cityE);
  if (ctx.isKnownCity && !ctx.isKnownCity(cityCode)) return undefined;
  return {
    orderId: buf.toString('latin1', orderS, orderE),
    succeeded: bytesEqual(b, rstS, rstE, V_SUCCESS),
    amountFen,
    requestTimeMs,
    notifyTimeMs,
    durationMs: notifyTimeMs - requestTimeMs,
    provinceCode: buf.toString('latin1', provinceS, provinceE),
    cityCode,
  };
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
  if (typeof value !== 'string' && value != null) {
    const fast = parseLean(value, ctx);
    if (fast !== undefined) return fast;
  }
  return parseFull(value, ctx);
}

/**
 * The reference parse (JSON.parse, then every check with its message): what
 * {@link parseRecharge} returns or throws for every value, the values the lean
 * path declines included.
 */
export function parseFull(value: Buffer | string | null, ctx: RechargeParseContext): RechargeEvent | null {
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
