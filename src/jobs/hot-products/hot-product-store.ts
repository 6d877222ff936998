import { Prisma } from '../../generated/prisma/client.js';
import { MINUTE_MS } from '../../domain/time-units.js';
import type { ProductClicks } from './hot-ranking.js';
import type { Db, Tx } from '../../store/prisma-client.js';
import { ShortLivedCache } from '../../store/short-lived-cache.js';
import { sqlDatetime } from '../../store/sql-datetime.js';

/**
 * How long the API serves a ranking from memory, MILLISECONDS: a boundary's
 * ranking changes only when late clicks land in its hour, which then show up
 * at most this late.
 */
export const RANKING_TTL_MS = 1_000;

/** One product's clicks in one 1-minute tumbling window, as one batch adds them. */
export interface MinuteClicks {
  productId: string;
  /** Window start, epoch ms (a multiple of 60,000). */
  minuteMs: number;
  clicks: number;
}

/** One product's events of one other action in one minute. */
export interface MinuteActions {
  productId: string;
  minuteMs: number;
  action: string;
  events: number;
}

/** One product's contribution of one batch to its running total. */
export interface TotalClicks {
  productId: string;
  clicks: number;
  /** Latest click event time in the batch, epoch ms. */
  lastClickMs: number;
  /** Category of the batch's latest click that had one (ties: greatest name), or null. */
  category: string | null;
  /** Event time of that click, epoch ms; null with `category`. */
  categoryAtMs: number | null;
}

/** What one batch of the hot-products job adds. Rows must be sorted by key (lock order). */
export interface ClickBatch {
  minutes: readonly MinuteClicks[];
  actions: readonly MinuteActions[];
  totals: readonly TotalClicks[];
}

/** The job's watermark as the stored partitions see it. */
export interface StoredJobWatermark {
  /** Partitions with a `consumer_offset` row. */
  partitions: number;
  /** Partitions whose row has a watermark. */
  withWatermark: number;
  /** The smallest watermark among them, epoch ms; null when none has one. */
  minWatermarkMs: number | null;
  /** The newest boundary published so far, epoch ms, or null. */
  lastEmittedMs: number | null;
}

/**
 * Rows per statement. Each statement carries its rows as ONE JSON parameter
 * (unpacked by JSON_TABLE, MySQL 8 / MariaDB 10.6+): binding thousands of
 * placeholders one by one cost more CPU in Prisma's query pipeline than
 * everything else the job does per record. 5,000 rows stay far below
 * max_allowed_packet (~300 KiB).
 */
const CHUNK = 5_000;

/** `YYYY-MM-DD HH:MM:SS.mmm` (UTC), the literal JSON_TABLE converts to DATETIME(3). */
function sqlDateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/**
 * The current category of the product named by `productIdColumn` (a column of
 * the enclosing query, never user input), as a scalar subquery over its
 * partitions' `product_click_total` rows (primary-key prefix): the category
 * with the latest `category_at`, ties at one millisecond to the greatest name
 * (a DATETIME(3) reads as 23 characters, so the maximum of time and name
 * concatenated orders by time, then by name), exactly the rule each row's
 * upsert applies within its partition. Null when no click carried one.
 */
export function categoryOf(productIdColumn: 'a.productId' | 'r.productId'): Prisma.Sql {
  return Prisma.raw(`(SELECT SUBSTRING(MAX(CONCAT(t.category_at, t.category)), 24)
    FROM product_click_total t WHERE t.product_id = ${productIdColumn})`);
}

/**
 * The tables of the hot-products job: `product_click_minute`,
 * `product_action_minute`, `product_click_total` (written inside the batch
 * transaction, additive) and `hot_products_emission`; plus the reads of the
 * GraphQL API. Every time is event time in UTC.
 *
 * The three result tables are local-global: each row belongs to one Kafka
 * partition (`partition` in its key), and a transaction adds to the rows of
 * ONE partition it carries (the caller's `owner`), whose `consumer_offset` row
 * it holds locked. So two transactions never write the same row at once (no
 * lock waits, no deadlocks, whatever the workers), and every read sums a
 * key's rows over the partitions in the same one query. A key has at most
 * one row per partition of the topic.
 */
export class HotProductStore {
  /** Rankings by (start, end, limit), each for at most {@link RANKING_TTL_MS} (1,000) MILLISECONDS after its read started. */
  private readonly rankings: ShortLivedCache<string, ProductClicks[]>;

  constructor(
    private readonly db: Db,
    opts: { rankingTtlMs?: number; now?: () => number } = {},
  ) {
    this.rankings = new ShortLivedCache({
      ttlMs: opts.rankingTtlMs ?? RANKING_TTL_MS,
      max: 64,
      now: opts.now,
      load: (key) => {
        const [startMs, endMs, limit] = key.split(':').map(Number) as [number, number, number];
        return this.ranking(startMs, endMs, limit);
      },
    });
  }

  /**
   * {@link ranking} for the API: the same rows, served from memory for at
   * most {@link RANKING_TTL_MS} MILLISECONDS (one read per hour, limit and bound).
   */
  servedRanking(startMs: number, endMs: number, limit: number): Promise<ProductClicks[]> {
    return this.rankings.get(`${startMs}:${endMs}:${limit}`);
  }

  /**
   * Adds the batches of one transaction (aggregated as one) to the rows of
   * partition `owner`, inside the batch transaction: one multi-row upsert per
   * table and {@link CHUNK} rows.
   * @param owner a partition this transaction carries (its `consumer_offset` row locked): the rows it adds to.
   */
  async addBatch(tx: Tx, owner: number, batch: ClickBatch): Promise<void> {
    const minuteText = new Map<number, string>();
    const minute = (ms: number) => {
      let text = minuteText.get(ms);
      if (text === undefined) minuteText.set(ms, (text = sqlDateTime(ms)));
      return text;
    };
    for (let i = 0; i < batch.minutes.length; i += CHUNK) {
      const rows = JSON.stringify(
        batch.minutes.slice(i, i + CHUNK).map((m) => [m.productId, minute(m.minuteMs), m.clicks]),
      );
      await tx.$executeRaw`INSERT INTO product_click_minute (product_id, window_start, \`partition\`, window_end, clicks)
        SELECT j.product_id, j.window_start, ${owner}, j.window_start + INTERVAL ${MINUTE_MS / 1000} SECOND, j.clicks
        FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (product_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', window_start DATETIME(3) PATH '$[1]', clicks INT PATH '$[2]')) AS j
        ON DUPLICATE KEY UPDATE clicks = product_click_minute.clicks + VALUES(clicks)`;
    }
    for (let i = 0; i < batch.actions.length; i += CHUNK) {
      const rows = JSON.stringify(
        batch.actions.slice(i, i + CHUNK).map((a) => [a.productId, minute(a.minuteMs), a.action, a.events]),
      );
      await tx.$executeRaw`INSERT INTO product_action_minute (product_id, window_start, action, \`partition\`, window_end, events)
        SELECT j.product_id, j.window_start, j.action, ${owner}, j.window_start + INTERVAL ${MINUTE_MS / 1000} SECOND, j.events
        FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (product_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', window_start DATETIME(3) PATH '$[1]',
          action VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[2]', events INT PATH '$[3]')) AS j
        ON DUPLICATE KEY UPDATE events = product_action_minute.events + VALUES(events)`;
    }
    for (let i = 0; i < batch.totals.length; i += CHUNK) {
      const rows = JSON.stringify(
        batch.totals
          .slice(i, i + CHUNK)
          .map((t) => [
            t.productId,
            t.clicks,
            t.category,
            t.categoryAtMs === null ? null : sqlDateTime(t.categoryAtMs),
            sqlDateTime(t.lastClickMs),
          ]),
      );
      // The category of the latest click wins, whatever order batches commit in (ties at one
      // millisecond: the greatest name), so a crash-and-replay run ends with the same category
      // as an uninterrupted one; reads apply the same rule across a product's partitions
      // ({@link categoryOf}). MySQL assigns left to right: category must be decided
      // before category_at changes.
      await tx.$executeRaw`INSERT INTO product_click_total (product_id, \`partition\`, clicks, category, category_at, last_click_at)
        SELECT j.product_id, ${owner}, j.clicks, j.category, j.category_at, j.last_click_at
        FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (product_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]', clicks BIGINT PATH '$[1]',
          category VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[2]', category_at DATETIME(3) PATH '$[3]', last_click_at DATETIME(3) PATH '$[4]')) AS j
        ON DUPLICATE KEY UPDATE
          category = IF(VALUES(category) IS NOT NULL AND (product_click_total.category_at IS NULL OR VALUES(category_at) > product_click_total.category_at
            OR (VALUES(category_at) = product_click_total.category_at AND VALUES(category) > product_click_total.category)), VALUES(category), product_click_total.category),
          category_at = IF(VALUES(category_at) IS NOT NULL AND (product_click_total.category_at IS NULL OR VALUES(category_at) > product_click_total.category_at),
            VALUES(category_at), product_click_total.category_at),
          clicks = product_click_total.clicks + VALUES(clicks),
          last_click_at = GREATEST(product_click_total.last_click_at, VALUES(last_click_at))`;
    }
  }

  /**
   * The `limit` products with the most clicks in minutes starting in
   * [startMs, endMs), by clicks descending, ties by productId ascending, each
   * with its current category. Same ordering as `assignRanks`.
   */
  async ranking(startMs: number, endMs: number, limit: number, db: Db | Tx = this.db): Promise<ProductClicks[]> {
    // Grouped in a derived table and ordered outside it: MariaDB 10.11 takes ~5x longer
    // for GROUP BY ... ORDER BY SUM(...) LIMIT in one block (measured: 80 vs 15 ms for
    // 22,000 minute rows). The category is looked up for the ranked products only.
    const rows = await db.$queryRaw<{ productId: string; clicks: bigint; category: string | null }[]>`
      SELECT r.productId, r.clicks, ${categoryOf('r.productId')} AS category FROM (
        SELECT a.productId, a.clicks FROM (
          SELECT product_id AS productId, CAST(SUM(clicks) AS SIGNED) AS clicks FROM product_click_minute
          WHERE window_start >= ${sqlDatetime(startMs)} AND window_start < ${sqlDatetime(endMs)}
          GROUP BY product_id
        ) a
        ORDER BY a.clicks DESC, a.productId ASC
        LIMIT ${limit}
      ) r
      ORDER BY r.clicks DESC, r.productId ASC`;
    return rows.map((r) => ({ productId: r.productId, clicks: Number(r.clicks), category: r.category }));
  }

  /**
   * Per category (products without one are left out), the `limit` products
   * with the most clicks in minutes starting in [startMs, endMs), ordered by
   * category name, then clicks descending, ties by productId. A product counts
   * under its current category (that of its latest click).
   */
  async rankingByCategory(
    startMs: number,
    endMs: number,
    limit: number,
  ): Promise<(ProductClicks & { category: string })[]> {
    const rows = await this.db.$queryRaw<{ productId: string; clicks: bigint; category: string }[]>`
      SELECT category, productId, clicks FROM (
        SELECT c.category, c.productId, c.clicks,
          ROW_NUMBER() OVER (PARTITION BY c.category ORDER BY c.clicks DESC, c.productId ASC) AS rn
        FROM (
          SELECT a.productId, a.clicks, ${categoryOf('a.productId')} AS category FROM (
            SELECT product_id AS productId, CAST(SUM(clicks) AS SIGNED) AS clicks FROM product_click_minute
            WHERE window_start >= ${sqlDatetime(startMs)} AND window_start < ${sqlDatetime(endMs)}
            GROUP BY product_id
          ) a
        ) c
        WHERE c.category IS NOT NULL
      ) ranked
      WHERE rn <= ${limit}
      ORDER BY category ASC, rn ASC`;
    return rows.map((r) => ({ productId: r.productId, clicks: Number(r.clicks), category: r.category }));
  }

  /**
   * A product's clicks per minute for minutes starting in [fromMs, toMs), and
   * its clicks in every minute before `fromMs` (the base of the running total).
   */
  async productMinutes(
    productId: string,
    fromMs: number,
    toMs: number,
  ): Promise<{ before: number; minutes: Map<number, number> }> {
    const [before, rows] = await Promise.all([
      this.db.$queryRaw<
        { clicks: bigint | null }[]
      >`SELECT CAST(SUM(clicks) AS SIGNED) AS clicks FROM product_click_minute
        WHERE product_id = ${productId} AND window_start < ${new Date(fromMs)}`,
      this.db.$queryRaw<
        { windowStart: Date; clicks: number | bigint }[]
      >`SELECT window_start AS windowStart, CAST(SUM(clicks) AS SIGNED) AS clicks FROM product_click_minute
        WHERE product_id = ${productId} AND window_start >= ${new Date(fromMs)} AND window_start < ${new Date(toMs)}
        GROUP BY window_start`,
    ]);
    return {
      before: Number(before[0]?.clicks ?? 0),
      minutes: new Map(rows.map((r) => [new Date(r.windowStart).getTime(), Number(r.clicks)])),
    };
  }

  /**
   * The stored watermarks of `groupId` on `topic` and the newest boundary
   * published for the group: one small query (a few rows).
   */
  async jobWatermark(groupId: string, topic: string): Promise<StoredJobWatermark> {
    const [row] = await this.db.$queryRaw<
      (
        { partitions: bigint; withWatermark: bigint; minWatermark: bigint | null; lastEmitted: Date | null } | undefined
      )[]
    >`
      SELECT COUNT(*) AS partitions, COUNT(watermark_ms) AS withWatermark, MIN(watermark_ms) AS minWatermark,
        (SELECT MAX(window_end) FROM hot_products_emission WHERE group_id = ${groupId}) AS lastEmitted
      FROM consumer_offset WHERE group_id = ${groupId} AND topic = ${topic}`;
    return {
      partitions: Number(row?.partitions ?? 0),
      withWatermark: Number(row?.withWatermark ?? 0),
      minWatermarkMs: row?.minWatermark == null ? null : Number(row.minWatermark),
      lastEmittedMs: row?.lastEmitted == null ? null : new Date(row.lastEmitted).getTime(),
    };
  }

  /**
   * Claims the boundary `windowEndMs` for `groupId` and, when this caller won
   * the claim, computes its ranking (top `limit` of the hour before it) in
   * the same short transaction. Exactly one caller across all workers gets the
   * ranking; the others get null. A failure rolls the claim back, so the
   * boundary can be claimed again.
   */
  async claimEmission(
    groupId: string,
    windowEndMs: number,
    spanMs: number,
    limit: number,
    claimedBy: string,
    inClaim?: (tx: Tx, ranking: ProductClicks[]) => Promise<void>,
  ): Promise<ProductClicks[] | null> {
    const windowEnd = new Date(windowEndMs);
    return this.db.$transaction(
      async (tx) => {
        // A second worker's insert waits on this row lock until commit, then is ignored.
        const inserted =
          await tx.$executeRaw`INSERT IGNORE INTO hot_products_emission (group_id, window_end, products, claimed_by)
        VALUES (${groupId}, ${windowEnd}, 0, ${claimedBy})`;
        if (inserted !== 1) return null;
        const ranking = await this.ranking(windowEndMs - spanMs, windowEndMs, limit, tx);
        await tx.$executeRaw`UPDATE hot_products_emission SET products = ${ranking.length} WHERE group_id = ${groupId} AND window_end = ${windowEnd}`;
        await inClaim?.(tx, ranking);
        return ranking;
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
  }

  /** Empties every table of the job (a rebuild), inside the rebuild transaction. */
  async clear(tx: Tx, groupId: string): Promise<void> {
    await tx.$executeRaw`DELETE FROM product_click_minute`;
    await tx.$executeRaw`DELETE FROM product_action_minute`;
    await tx.$executeRaw`DELETE FROM product_click_total`;
    await tx.$executeRaw`DELETE FROM hot_products_emission WHERE group_id = ${groupId}`;
  }
}
