import { ZonedCalendar } from '../../domain/zoned-calendar.js';
import type { JobModule } from '../../engine/job-module.js';
import { RECHARGE_METRICS_SNAPSHOT } from './testing.js';
import { rechargeMetricsSettings, type RechargeMetricsSettings } from './recharge-metrics-settings.js';
import { jobChangeLog } from '../../engine/job-module.js';
import { createLogger } from '../../observability/logger.js';
import { TOPIC_RECHARGE_CITY_METRICS_CHANGED } from './recharge-events.js';
import { createRechargeMetricsJob } from './recharge-metrics-job.js';
import { RechargeMetricsStore } from './recharge-metrics-store.js';
import { RechargeResolver } from './recharge-resolver.js';
import { createRechargeServices, RECHARGE_SERVICES } from './recharge-services.js';
import { rechargeSample } from './recharge-sample.js';
import { RechargeServingCache } from './recharge-serving-cache.js';
import { RechargeServingState } from './recharge-serving-state.js';

/** Recharge figures per city and day and per minute, each order counted once. */
export const rechargeMetricsModule: JobModule<RechargeMetricsSettings> = {
  name: 'recharge-metrics',
  settings: rechargeMetricsSettings,
  sourceTopics: (config) => [config.RECHARGE_TOPIC],
  createJob: (config, { db, redis, bus }) => {
    const calendar = new ZonedCalendar(config.TIME_ZONE);
    const logger = createLogger(config.LOG_LEVEL).child({ job: 'recharge-metrics' });
    const state = new RechargeServingState(db, config.RECHARGE_GROUP);
    return createRechargeMetricsJob({
      maxEventTimeAheadMs: config.MAX_EVENT_TIME_AHEAD_MS,
      groupId: config.RECHARGE_GROUP,
      topic: config.RECHARGE_TOPIC,
      calendar,
      graceMs: config.GRACE_MS,
      store: new RechargeMetricsStore(db),
      changeLog: jobChangeLog(config, db),
      cache: new RechargeServingCache({
        redis,
        namespace: config.RECHARGE_GROUP,
        state,
        dateOf: (ms) => calendar.dateOf(ms),
        logger,
      }),
      state,
      dedupHorizonMs: config.RECHARGE_DEDUP_HORIZON_DAYS * 86_400_000,
      pruneIntervalMs: config.RECHARGE_DEDUP_PRUNE_INTERVAL_MS,
      publish: (event) => bus.pubSub.publish(TOPIC_RECHARGE_CITY_METRICS_CHANGED, config.RECHARGE_GROUP, event),
      logger,
    });
  },
  api: {
    register: (registry, config, deps) => {
      const services = createRechargeServices(config, deps);
      // The recount of a rebuild starts from zero: this process's in-memory copy must not outlive it.
      registry.add(RECHARGE_SERVICES, services, { afterRebuild: () => services.reader.forgetCityDaily() });
    },
    changeStreams: (config) => [{ stream: config.RECHARGE_GROUP, wakeTopic: TOPIC_RECHARGE_CITY_METRICS_CHANGED }],
  },
  snapshotQueries: RECHARGE_METRICS_SNAPSHOT,
  resolvers: [RechargeResolver],
  samples: [rechargeSample],
};
