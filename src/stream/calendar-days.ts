/** Calendar dates as `YYYY-MM-DD` strings (a local date, no time zone attached). Pure. */

import { DAY_MS } from '../domain/time-units.js';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `date` is a real calendar date written `YYYY-MM-DD`. */
export function isCalendarDate(date: string): boolean {
  if (!DATE_RE.test(date)) return false;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === date;
}

/**
 * Number of dates in [from, to], both inclusive: 1 when equal, 0 when `to`
 * is before `from`.
 * @throws {RangeError} when either is not a `YYYY-MM-DD` calendar date.
 */
export function daysInclusive(from: string, to: string): number {
  for (const d of [from, to])
    if (!isCalendarDate(d)) throw new RangeError(`expected a YYYY-MM-DD calendar date, got ${JSON.stringify(d)}`);
  const n = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  return Math.max(0, n);
}

/**
 * Every date in [from, to], both inclusive, ascending; `[]` when `to` is before `from`.
 * @throws {RangeError} when either is not a `YYYY-MM-DD` calendar date.
 */
export function calendarDays(from: string, to: string): string[] {
  const n = daysInclusive(from, to);
  const start = Date.parse(`${from}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10));
}
