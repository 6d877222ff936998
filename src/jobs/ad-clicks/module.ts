import type { JobModule } from '../../engine/job-module.js';
import { jobChangeLog } from '../../engine/job-module.js';
import { CommitOrderStore } from '../../store/commit-order-store.js';
import { AdClickStore } from './ad-click-store.js';
import { adClicksSample } from './ad-click-sample.js';
import { TOPIC_AD_CLICKS_CHANGED } from './ad-clicks-events.js';
import { createAdClicksJob } from './ad-clicks-job.js';
import { AdClicksResolver } from './ad-clicks-resolver.js';
import { AD_CLICKS_SERVICES } from './ad-clicks-services.js';
import { adClicksSettings, type AdClicksSettings } from './ad-clicks-settings.js';
import { seedSampleBlacklist } from './blacklist-seed.js';
import { AD_CLICKS_SNAPSHOT } from './testing.js';

/** Ad clicks per ad per minute, robots' clicks (blacklisted users and IPs) dropped and counted apart. */
export const adClicksModule: JobModule<AdClicksSettings> = {
  name: 'ad-clicks',
  settings: adClicksSettings,
  sourceTopics: (config) => [config.AD_CLICKS_TOPIC],
  createJob: (config, { db, bus }) =>
    createAdClicksJob({
      groupId: config.AD_CLICKS_GROUP,
      topic: config.AD_CLICKS_TOPIC,
      graceMs: config.GRACE_MS,
      maxEventTimeAheadMs: config.MAX_EVENT_TIME_AHEAD_MS,
      store: new AdClickStore(db),
      changeLog: jobChangeLog(config, db),
      commitOrder: new CommitOrderStore(db),
      // A wake-up only: the tailers read the changes from the log.
      publish: () => {
        bus.pubSub.publish(TOPIC_AD_CLICKS_CHANGED, config.AD_CLICKS_GROUP, {});
      },
    }),
  api: {
    register: (registry, _config, { db }) => registry.add(AD_CLICKS_SERVICES, new AdClickStore(db)),
    changeStreams: (config) => [{ stream: config.AD_CLICKS_GROUP, wakeTopic: TOPIC_AD_CLICKS_CHANGED }],
  },
  snapshotQueries: AD_CLICKS_SNAPSHOT,
  resolvers: [AdClicksResolver],
  seedSample: (db) => seedSampleBlacklist(db),
  samples: [adClicksSample],
};
