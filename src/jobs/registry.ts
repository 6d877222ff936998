import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors/config-error.js';
import { TOPIC_ABNORMAL_USER_DETECTED, type EventBus } from '../publish/event-bus.js';
import type { Db } from '../store/prisma-client.js';
import { UnpaidUserStore } from '../store/unpaid-user-store.js';
import { ChangeLogStore } from '../store/change-log-store.js';
import { createAbnormalOrdersJob } from './abnormal-orders-job.js';
import type { JobDefinition } from './job.js';
import { topicPartitionCount } from '../ingest/topic-partition-count.js';
import { createLogger } from '../observability/logger.js';
import { TOPIC_HOT_PRODUCTS_UPDATED } from '../publish/event-bus.js';
import { DailyActiveUserStore } from '../store/daily-active-user-store.js';
import { HotProductStore } from '../store/hot-product-store.js';
import { ZonedCalendar } from '../domain/zoned-calendar.js';
import { createDailyActiveUsersJob } from './daily-active-users-job.js';
import { HotProductsEmitter } from './hot-products-emitter.js';
import { createHotProductsJob } from './hot-products-job.js';
import { TOPIC_RECHARGE_CITY_METRICS_CHANGED } from '../publish/event-bus.js';
import { RechargeMetricsStore } from '../store/recharge-metrics-store.js';
import { RechargeServingCache } from '../store/recharge-serving-cache.js';
import { RechargeServingState } from '../store/recharge-serving-state.js';
import { createRechargeMetricsJob } from './recharge-metrics-job.js';

/** What jobs are built from: one of each per process. */
export interface JobDeps {
  db: Db;
  /** Serving store for hot values (absolute, idempotent writes after commit). */
  redis: Redis;
  bus: EventBus;
}

type JobFactory = (config: Config, deps: JobDeps) => JobDefinition;

/** The change log the jobs append to, unless `CHANGE_LOG=off` (benchmark comparison only). */
const changeLogOf = (config: Config, db: Db) => (config.CHANGE_LOG === 'on' ? new ChangeLogStore(db) : undefined);

/** Every job this service knows, by name. */
export const JOB_FACTORIES: Record<string, JobFactory> = {
  'abnormal-orders': (config, { db, bus }) =>
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
      changeLog: changeLogOf(config, db),
      publish: (events) => {
        // A wake-up of the API processes' change-log tailers, which read every detection from the
        // log: one per committed batch does it. One per detection would queue tens of thousands of
        // Redis commands at once when a window of a million users closes.
        const last = events.at(-1);
        if (last) bus.pubSub.publish(TOPIC_ABNORMAL_USER_DETECTED, config.ABNORMAL_ORDERS_GROUP, last);
      },
    }),
  'hot-products': (config, { db, bus }) => {
    const store = new HotProductStore(db);
    const logger = createLogger(config.LOG_LEVEL).child({ job: 'hot-products' });
    return createHotProductsJob({
      maxEventTimeAheadMs: config.MAX_EVENT_TIME_AHEAD_MS,
      groupId: config.HOT_PRODUCTS_GROUP,
      topic: config.PRODUCT_CLICKS_TOPIC,
      graceMs: config.GRACE_MS,
      idleTimeoutMs: config.IDLE_TIMEOUT_MS ?? 60_000,
      store,
      emitter: new HotProductsEmitter({
        store,
        groupId: config.HOT_PRODUCTS_GROUP,
        topic: config.PRODUCT_CLICKS_TOPIC,
        partitionCount: topicPartitionCount(config.KAFKA_BROKERS, config.PRODUCT_CLICKS_TOPIC, logger),
        changeLog: changeLogOf(config, db),
        publish: (event) => bus.pubSub.publish(TOPIC_HOT_PRODUCTS_UPDATED, config.HOT_PRODUCTS_GROUP, event),
        logger,
        claimedBy: `${hostname()}:${process.pid}`,
      }),
    });
  },
  'daily-active-users': (config, { db }) =>
    createDailyActiveUsersJob({
      maxEventTimeAheadMs: config.MAX_EVENT_TIME_AHEAD_MS,
      groupId: config.DAU_GROUP,
      topic: config.USER_BEHAVIOR_TOPIC,
      graceMs: config.GRACE_MS,
      calendar: new ZonedCalendar(config.TIME_ZONE),
      store: new DailyActiveUserStore(db),
    }),
  'recharge-metrics': (config, { db, redis, bus }) => {
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
      changeLog: changeLogOf(config, db),
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
};

/**
 * The jobs named in `config.JOBS`.
 * @throws {ConfigError} for an unknown job name.
 */
export function createJobs(config: Config, deps: JobDeps): JobDefinition[] {
  return config.JOBS.map((name) => {
    const factory = JOB_FACTORIES[name] as JobFactory | undefined;
    if (!factory)
      throw new ConfigError(`JOBS: unknown job "${name}" (known: ${Object.keys(JOB_FACTORIES).join(', ')})`);
    return factory(config, deps);
  });
}
