// What tests and benchmarks use of this job: its feed for runs with faults and
// its result tables read whole (the module's `snapshotQueries`).
import type { JobFeed } from '../../sample/job-feed.js';
import { withPartitions } from '../../sample/job-feed.js';
import { generateProductClicks } from './product-click-generator.js';

/**
 * Click minutes, other actions and running totals, as text: each key's rows
 * summed over the partitions that wrote them (the answers the API gives),
 * the category of a total by the same rule as the API's reads.
 */
export const HOT_PRODUCTS_SNAPSHOT = {
  minutes:
    'SELECT product_id, window_start, window_end, CAST(SUM(clicks) AS SIGNED) AS clicks FROM product_click_minute GROUP BY product_id, window_start, window_end ORDER BY product_id, window_start',
  actions:
    'SELECT product_id, window_start, action, window_end, CAST(SUM(events) AS SIGNED) AS events FROM product_action_minute GROUP BY product_id, window_start, action, window_end ORDER BY product_id, window_start, action',
  totals:
    'SELECT product_id, CAST(SUM(clicks) AS SIGNED) AS clicks, SUBSTRING(MAX(CONCAT(category_at, category)), 24) AS category, MAX(category_at) AS category_at, MAX(last_click_at) AS last_click_at FROM product_click_total GROUP BY product_id ORDER BY product_id',
} as const;

/** `count` product clicks (0.2% malformed). */
export function hotProductsJob(count: number, seed = 4242): JobFeed {
  const generator = {
    seed,
    products: 1_000,
    users: 3_000,
    startTimeMs: Date.UTC(2026, 0, 1),
    eventsPerSecond: 250,
    count,
    malformedShare: 0.002,
  };
  return {
    name: 'hot-products',
    topicVar: 'PRODUCT_CLICKS_TOPIC',
    groupVar: 'HOT_PRODUCTS_GROUP',
    windowed: false,
    feed: withPartitions([...generateProductClicks(generator)].map((r) => ({ key: r.key, value: r.value }))),
  };
}
