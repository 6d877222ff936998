/**
 * Time units shared by every layer, in MILLISECONDS (epoch milliseconds are the
 * service's one representation of instants).
 */

/** One minute, milliseconds: the tumbling windows of clicks and the recharge minute buckets. */
export const MINUTE_MS = 60_000;
/** One hour, milliseconds. */
export const HOUR_MS = 3_600_000;
/** One day of 24 hours (UTC days; calendar days of a time zone come from `ZonedCalendar`), milliseconds. */
export const DAY_MS = 86_400_000;
