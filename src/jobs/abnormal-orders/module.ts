import type { JobModule } from '../../engine/job-module.js';
import { ABNORMAL_ORDERS_SNAPSHOT } from './testing.js';
import { abnormalOrdersSettings, type AbnormalOrdersSettings } from './abnormal-orders-settings.js';
import { jobChangeLog } from '../../engine/job-module.js';
import { TOPIC_ABNORMAL_USER_DETECTED } from './abnormal-orders-events.js';
import { userBehaviorSample } from '../user-behavior/user-behavior-sample.js';
import { sampleVipUids } from '../user-behavior/user-behavior-generator.js';
import { seedVipUsers } from './vip-user-seed.js';
import { createAbnormalOrdersJob } from './abnormal-orders-job.js';
import { CallbackStatusResolver } from './callback-status-resolver.js';
import { UnpaidUserChangeResolver } from './unpaid-user-change-resolver.js';
import { UnpaidUserResolver } from './unpaid-user-resolver.js';
import { UnpaidUserStore } from './unpaid-user-store.js';
import { ABNORMAL_ORDERS_SERVICES, createAbnormalOrdersServices } from './abnormal-orders-services.js';

/** Users who keep opening the order page without paying (hopping windows over the behaviour stream). */
export const abnormalOrdersModule: JobModule<AbnormalOrdersSettings> = {
  name: 'abnormal-orders',
  settings: abnormalOrdersSettings,
  sourceTopics: (config) => [config.USER_BEHAVIOR_TOPIC],
  createJob: (config, { db, bus }) =>
    createAbnormalOrdersJob({
      maxEventTimeAheadMs: config.MAX_EVENT_TIME_AHEAD_MS,
      groupId: config.ABNORMAL_ORDERS_GROUP,
      topic: config.USER_BEHAVIOR_TOPIC,
      threshold: config.ABNORMAL_THRESHOLD,
      window: {
        sizeMs: config.ABNORMAL_WINDOW_SIZE_MS,
        advanceMs: config.ABNORMAL_WINDOW_ADVANCE_MS,
        graceMs: config.GRACE_MS,
        idleTimeoutMs: config.IDLE_TIMEOUT_MS ?? config.ABNORMAL_WINDOW_ADVANCE_MS,
      },
      store: new UnpaidUserStore(db),
      changeLog: jobChangeLog(config, db),
      publish: (events) => {
        // A wake-up of the API processes' change-log tailers, which read every detection from the
        // log: one per committed batch does it. One per detection would queue tens of thousands of
        // Redis commands at once when a window of a million users closes.
        const last = events.at(-1);
        if (last) bus.pubSub.publish(TOPIC_ABNORMAL_USER_DETECTED, config.ABNORMAL_ORDERS_GROUP, last);
      },
    }),
  api: {
    register: (registry, config, deps) =>
      registry.add(ABNORMAL_ORDERS_SERVICES, createAbnormalOrdersServices(config, deps)),
    changeStreams: (config) => [{ stream: config.ABNORMAL_ORDERS_GROUP, wakeTopic: TOPIC_ABNORMAL_USER_DETECTED }],
  },
  snapshotQueries: ABNORMAL_ORDERS_SNAPSHOT,
  seedSample: async (db, options) => {
    const uids = sampleVipUids(options);
    const added = await seedVipUsers(db, uids);
    return `${uids.length} sample VIPs in vip_user (${added} added now)`;
  },
  resolvers: [UnpaidUserResolver, CallbackStatusResolver, UnpaidUserChangeResolver],
  samples: [userBehaviorSample],
};
