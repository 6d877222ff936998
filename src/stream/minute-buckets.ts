/**
 * One-minute tumbling windows of event time and the running totals over them
 * (the buckets of the `productClicks` query). Pure; times are epoch MILLISECONDS.
 */
import { MINUTE_MS } from '../domain/time-units.js';

/** Start of the 1-minute tumbling window holding `ms`: [start, start + 1 min). */
export function minuteStart(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/**
 * The minutes that overlap [fromMs, toMs): from the minute holding `fromMs`
 * to the last minute starting before `toMs`. `count` is 0 when `toMs <= fromMs`.
 */
export function minuteRange(fromMs: number, toMs: number): { firstMs: number; count: number } {
  const firstMs = minuteStart(fromMs);
  if (toMs <= fromMs) return { firstMs, count: 0 };
  return { firstMs, count: Math.ceil((toMs - firstMs) / MINUTE_MS) };
}

/** One minute of one product. */
export interface MinuteBucket {
  /** Window start, epoch ms. */
  minuteMs: number;
  clicks: number;
  /** Every click of the product in minutes up to and including this one. */
  runningTotal: number;
}

/**
 * Dense minute buckets over [fromMs, toMs) (see {@link minuteRange}), empty
 * minutes as zeros, each with its running total: `clicksBefore` (the
 * product's clicks in every minute before the first bucket) plus the clicks
 * of the buckets up to and including it. Computed from the stored minutes,
 * so a late click into an earlier minute shows in every later running total.
 * Minutes of `clicksByMinute` outside the range are ignored.
 */
export function minuteBuckets(
  fromMs: number,
  toMs: number,
  clicksByMinute: ReadonlyMap<number, number>,
  clicksBefore: number,
): MinuteBucket[] {
  const { firstMs, count } = minuteRange(fromMs, toMs);
  const out: MinuteBucket[] = new Array<MinuteBucket>(count);
  let running = clicksBefore;
  for (let i = 0; i < count; i++) {
    const minuteMs = firstMs + i * MINUTE_MS;
    const clicks = clicksByMinute.get(minuteMs) ?? 0;
    running += clicks;
    out[i] = { minuteMs, clicks, runningTotal: running };
  }
  return out;
}
