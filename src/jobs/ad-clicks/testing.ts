// What tests and benchmarks use of this job: its feed for runs with faults and
// its result tables read whole (the module's `snapshotQueries`).
import type { JobFeed } from '../../sample/job-feed.js';
import { withPartitions } from '../../sample/job-feed.js';
import { generateAdClicks } from './ad-click-generator.js';

/** The (ad, minute) counts (each key's partition-local rows summed), as text. */
export const AD_CLICKS_SNAPSHOT = {
  minutes:
    'SELECT ad_id, window_start, window_end, CAST(SUM(clicks) AS SIGNED) AS clicks, CAST(SUM(blocked_user) AS SIGNED) AS blocked_user, CAST(SUM(blocked_ip) AS SIGNED) AS blocked_ip FROM ad_click_minute GROUP BY ad_id, window_start, window_end ORDER BY ad_id, window_start',
} as const;

/** `count` ad clicks (0.2% malformed, 10% from robots). */
export function adClicksJob(count: number, seed = 4242): JobFeed {
  const generator = {
    seed,
    ads: 300,
    users: 3_000,
    startTimeMs: Date.UTC(2026, 0, 1),
    eventsPerSecond: 250,
    count,
    malformedShare: 0.002,
  };
  return {
    name: 'ad-clicks',
    topicVar: 'AD_CLICKS_TOPIC',
    groupVar: 'AD_CLICKS_GROUP',
    windowed: false,
    feed: withPartitions([...generateAdClicks(generator)].map((r) => ({ key: r.key, value: r.value }))),
  };
}
