import type { CityDayDelta, MinuteDelta, RechargeEvent } from './recharge.js';
import { DAY_MS, MINUTE_MS } from '../../domain/time-units.js';
import type { ZonedCalendar } from '../../domain/zoned-calendar.js';

/**
 * The orders of a batch with each `orderId` kept once, at its first
 * occurrence (offset order): a producer's retry inside one batch counts once.
 */
export function firstOfEachOrder(events: readonly RechargeEvent[]): RechargeEvent[] {
  const seen = new Set<string>();
  const out: RechargeEvent[] = [];
  for (const e of events) {
    if (seen.has(e.orderId)) continue;
    seen.add(e.orderId);
    out.push(e);
  }
  return out;
}

/** Start of the UTC minute holding `epochMs`, epoch MILLISECONDS. */
export function minuteStartOf(epochMs: number): number {
  return Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;
}

/**
 * The local calendar date (`YYYY-MM-DD`) of epoch MILLISECONDS, through a
 * cache per local day: formatting a date per event was a third of the
 * aggregation, and a batch spans a day or two.
 */
export function localDayOf(calendar: ZonedCalendar): (epochMs: number) => string {
  const dates = new Map<number, string>();
  return (epochMs) => {
    const dayIndex = Math.floor((epochMs + calendar.offsetMs(epochMs)) / DAY_MS);
    let day = dates.get(dayIndex);
    if (day === undefined) {
      day = calendar.dateOf(epochMs);
      dates.set(dayIndex, day);
    }
    return day;
  };
}

/**
 * Folds new (already de-duplicated) orders into per city-day and per minute
 * deltas, keyed by the notify time (the event time). Failed recharges count
 * in `orders`, `failed` and the duration sum, never in `amountFen`. Both
 * lists are sorted by primary key (day, city code / minute start) so that
 * concurrent batch transactions lock the rows in one order (no deadlocks
 * between partitions).
 *
 * Fen sums are exact: an amount is below 10^10 fen, so even 900,000 orders
 * stay below 2^53.
 */
export function aggregateRecharges(
  events: readonly RechargeEvent[],
  calendar: ZonedCalendar,
): { daily: CityDayDelta[]; minutes: MinuteDelta[] } {
  const daily = new Map<string, CityDayDelta>();
  const minutes = new Map<number, MinuteDelta>();
  const dayOf = localDayOf(calendar);
  for (const e of events) {
    const day = dayOf(e.notifyTimeMs);
    const key = `${day}|${e.cityCode}`;
    let d = daily.get(key);
    if (!d) {
      d = { day, cityCode: e.cityCode, orders: 0, succeeded: 0, failed: 0, amountFen: 0, durationMsSum: 0 };
      daily.set(key, d);
    }
    d.orders++;
    d.durationMsSum += e.durationMs;
    const minuteStartMs = minuteStartOf(e.notifyTimeMs);
    let m = minutes.get(minuteStartMs);
    if (!m) {
      m = { minuteStartMs, orders: 0, succeeded: 0, amountFen: 0 };
      minutes.set(minuteStartMs, m);
    }
    m.orders++;
    if (e.succeeded) {
      d.succeeded++;
      d.amountFen += e.amountFen;
      m.succeeded++;
      m.amountFen += e.amountFen;
    } else {
      d.failed++;
    }
  }
  return {
    daily: [...daily.values()].sort((a, b) =>
      a.day === b.day ? compare(a.cityCode, b.cityCode) : compare(a.day, b.day),
    ),
    minutes: [...minutes.values()].sort((a, b) => a.minuteStartMs - b.minuteStartMs),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
