import { ZonedCalendar } from '../../domain/zoned-calendar.js';
import type { JobModule } from '../../engine/job-module.js';
import { DAILY_ACTIVE_USERS_SNAPSHOT } from './testing.js';
import { dailyActiveUsersSettings, type DailyActiveUsersSettings } from './daily-active-users-settings.js';
import { createDailyActiveUsersJob } from './daily-active-users-job.js';
import { DailyActiveUsersResolver } from './daily-active-users-resolver.js';
import { DailyActiveUserStore } from './daily-active-user-store.js';
import { DAILY_ACTIVE_USERS_SERVICES } from './daily-active-users-services.js';

/** Exact distinct users per calendar day and each day's new users (on the behaviour stream). */
export const dailyActiveUsersModule: JobModule<DailyActiveUsersSettings> = {
  name: 'daily-active-users',
  settings: dailyActiveUsersSettings,
  sourceTopics: (config) => [config.USER_BEHAVIOR_TOPIC],
  createJob: (config, { db }) =>
    createDailyActiveUsersJob({
      maxEventTimeAheadMs: config.MAX_EVENT_TIME_AHEAD_MS,
      groupId: config.DAU_GROUP,
      topic: config.USER_BEHAVIOR_TOPIC,
      graceMs: config.GRACE_MS,
      calendar: new ZonedCalendar(config.TIME_ZONE),
      store: new DailyActiveUserStore(db),
    }),
  api: {
    register: (registry, _config, { db }) => registry.add(DAILY_ACTIVE_USERS_SERVICES, new DailyActiveUserStore(db)),
  },
  snapshotQueries: DAILY_ACTIVE_USERS_SNAPSHOT,
  resolvers: [DailyActiveUsersResolver],
};
