import { MINUTE_MS } from '../../domain/time-units.js';
import type { AdClickEvent } from './ad-click-format.js';

/**
 * The clicks of one batch that share an ad, a minute, a user and an IP: the
 * unit the store judges against the blacklist (a user or an IP decides every
 * click of the group alike).
 */
export interface AdClickGroup {
  adId: string;
  /** Window start, epoch ms (a multiple of 60,000). */
  minuteMs: number;
  userId: string;
  ip: string;
  clicks: number;
}

/** Byte-wise comparison of ids, as the utf8mb4_bin columns order them for ASCII ids (the store's lock order). */
export function compareAdIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Folds a batch of clicks into groups of (ad, minute, user, IP) with their
 * counts, sorted by ad, then minute, then user and IP (the store upserts the
 * (ad, minute) rows in this order, so concurrent transactions lock rows in one
 * order). Pure; no judgement here: the blacklist is read in the transaction.
 */
export function groupAdClicks(events: readonly AdClickEvent[]): AdClickGroup[] {
  const groups = new Map<string, AdClickGroup>();
  for (const e of events) {
    const t = e.eventTimeMs;
    // Event times are >= 1e11 (the parser checks), so % is a floor here.
    const minuteMs = t - (t % MINUTE_MS);
    const key = `${e.adId}\u0000${minuteMs}\u0000${e.userId}\u0000${e.ip}`;
    const group = groups.get(key);
    if (group) group.clicks++;
    else groups.set(key, { adId: e.adId, minuteMs, userId: e.userId, ip: e.ip, clicks: 1 });
  }
  return [...groups.values()].sort(
    (a, b) =>
      compareAdIds(a.adId, b.adId) ||
      a.minuteMs - b.minuteMs ||
      compareAdIds(a.userId, b.userId) ||
      compareAdIds(a.ip, b.ip),
  );
}

/** The distinct (ad, minute) keys of `groups`, in their order, as `adId|minuteMs` strings. */
export function adMinuteKeys(groups: readonly AdClickGroup[]): string[] {
  const keys: string[] = [];
  let last = '';
  for (const g of groups) {
    const key = `${g.adId}|${g.minuteMs}`;
    if (key !== last) keys.push((last = key));
  }
  return keys;
}
