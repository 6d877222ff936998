// What tests and benchmarks use of this job: its feed for runs with faults and
// its result tables read whole (the module's `snapshotQueries`).
import type { JobFeed } from '../../sample/job-feed.js';

/** Per-day users, counts and first days, as text (users as counts and checksums). */
export const DAILY_ACTIVE_USERS_SNAPSHOT = {
  active:
    "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, COUNT(*) AS users, SUM(CRC32(uid)) AS checksum FROM user_daily_active GROUP BY day ORDER BY day",
  counts:
    "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, CAST(SUM(active_users) AS SIGNED) AS active_users FROM user_daily_count GROUP BY day ORDER BY day",
  firstSeen:
    "SELECT DATE_FORMAT(first_day, '%Y-%m-%d') AS day, COUNT(*) AS users, SUM(CRC32(uid)) AS checksum FROM user_first_seen GROUP BY first_day ORDER BY first_day",
} as const;

/** daily-active-users over the feed of `behaviour` (a behaviour feed of another job): the two jobs may share its topic. */
export function dailyActiveUsersJob(behaviour: JobFeed): JobFeed {
  return {
    name: 'daily-active-users',
    topicVar: 'USER_BEHAVIOR_TOPIC',
    groupVar: 'DAU_GROUP',
    windowed: false,
    feed: behaviour.feed,
  };
}
