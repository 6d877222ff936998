// What tests and benchmarks use of this job: its feed for runs with faults and
// its result tables read whole (the module's `snapshotQueries`).
import type { JobFeed } from '../../sample/job-feed.js';
import { withPartitions } from '../../sample/job-feed.js';
import { flushRecords } from '../user-behavior/testing.js';
import { generateUserBehavior, sampleVipUids } from '../user-behavior/user-behavior-generator.js';

/** Table `unpayment_record`, as text in uid order. */
export const ABNORMAL_ORDERS_SNAPSHOT = {
  rows: 'SELECT uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end FROM unpayment_record ORDER BY uid',
} as const;

/** `count` user-behaviour records (+ one far-future flush record per partition that closes every window) and the sample's VIP uids. */
export function abnormalOrdersJob(count: number, seed = 4242): JobFeed & { vips: string[] } {
  const generator = { seed, users: 2000, startTimeMs: Date.UTC(2026, 0, 1), eventsPerSecond: 250, count };
  const records = [...generateUserBehavior(generator)].map((r) => ({ key: r.key, value: r.value }));
  const feed = [...withPartitions(records), ...flushRecords(Math.floor((generator.startTimeMs + 86_400_000) / 1000))];
  return {
    name: 'abnormal-orders',
    topicVar: 'USER_BEHAVIOR_TOPIC',
    groupVar: 'ABNORMAL_ORDERS_GROUP',
    windowed: true,
    feed,
    vips: sampleVipUids(generator),
  };
}
