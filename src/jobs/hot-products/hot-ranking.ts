/**
 * Event-time arithmetic of the hot-products ranking: the hottest products of
 * the last hour, refreshed every 5 minutes. Pure; all times are
 * epoch MILLISECONDS, windows are [start, end): start inclusive, end exclusive,
 * aligned to the epoch.
 */

/** Refresh interval of the ranking: a new ranking at every multiple of this, in MILLISECONDS (5 minutes). */
export const RANKING_REFRESH_MS = 300_000;
/** Span of event time a ranking covers, in MILLISECONDS (1 hour). */
export const RANKING_SPAN_MS = 3_600_000;

/** `ms` rounded down to a multiple of `stepMs` (also below the epoch). */
export function floorTo(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs;
}

/**
 * The hour a ranking asked for at `atMs` covers: it ends at the last 5-minute
 * boundary at or before `atMs` and starts an hour earlier. A click at exactly
 * the end belongs to the next ranking.
 */
export function rankingWindowAt(atMs: number): { startMs: number; endMs: number } {
  const endMs = floorTo(atMs, RANKING_REFRESH_MS);
  return { startMs: endMs - RANKING_SPAN_MS, endMs };
}

/**
 * The 5-minute boundaries to publish, oldest first, when the job's watermark
 * is `watermarkMs` and the last boundary published is `lastEmittedMs` (null:
 * none yet): every boundary after the last one, up to the last boundary at or
 * before the watermark (a boundary the watermark has reached is final).
 * Without a previous one only the newest boundary is due, and a catch-up
 * (after downtime or while replaying a backlog) is cut to the newest
 * `maxCatchUp` boundaries: older rankings are still served by `hotProducts(at:)`.
 */
export function boundariesToEmit(lastEmittedMs: number | null, watermarkMs: number, maxCatchUp: number): number[] {
  const newest = floorTo(watermarkMs, RANKING_REFRESH_MS);
  if (lastEmittedMs !== null && newest <= lastEmittedMs) return [];
  let first = lastEmittedMs === null ? newest : lastEmittedMs + RANKING_REFRESH_MS;
  first = Math.max(first, newest - (Math.max(1, maxCatchUp) - 1) * RANKING_REFRESH_MS);
  const out: number[] = [];
  for (let b = first; b <= newest; b += RANKING_REFRESH_MS) out.push(b);
  return out;
}

/** One product's clicks over a ranking's hour. */
export interface ProductClicks {
  productId: string;
  clicks: number;
  category: string | null;
}

/** A ranked product: `rank` is 1-based. */
export interface RankedProduct extends ProductClicks {
  rank: number;
}

/**
 * Code-unit order, the order of the `utf8mb4_bin` product_id column for the
 * ids the format allows in practice (the database sorts by code point; the two
 * differ only between astral characters and U+E000..U+FFFF).
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders by clicks (descending), ties by productId (ascending), and numbers
 * the products 1, 2, 3, … : products with equal clicks get consecutive ranks,
 * the smaller productId first (a row number, not a dense or competition rank),
 * so a top-N list always has exactly N entries. Does not mutate `rows`.
 */
export function assignRanks<T extends ProductClicks>(rows: readonly T[]): (T & { rank: number })[] {
  return [...rows]
    .sort((a, b) => b.clicks - a.clicks || compareIds(a.productId, b.productId))
    .map((row, i) => ({ ...row, rank: i + 1 }));
}
