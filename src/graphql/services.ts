import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import type { Config } from '../config/config.js';
import type { JobDefinition } from '../engine/job.js';
import { JobOperations } from '../engine/job-operations.js';
import type { EventBus } from '../publish/event-bus.js';
import { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import { UnpaidUserStore } from '../jobs/abnormal-orders/unpaid-user-store.js';
import { DailyActiveUserStore } from '../jobs/daily-active-users/daily-active-user-store.js';
import { HotProductStore } from '../jobs/hot-products/hot-product-store.js';
import { ChangeFeeds } from '../subscriptions/change-feeds.js';
import { TOPIC_ABNORMAL_USER_DETECTED, TOPIC_RECHARGE_CITY_METRICS_CHANGED } from '../publish/event-bus.js';
import { ChangeLogStore } from '../store/change-log-store.js';
import { CitySnapshotStore } from '../jobs/recharge-metrics/city-snapshot-store.js';
import { RechargeMetricsReader } from '../jobs/recharge-metrics/recharge-metrics-reader.js';
import { RechargeMetricsStore } from '../jobs/recharge-metrics/recharge-metrics-store.js';
import { RechargeServingCache } from '../jobs/recharge-metrics/recharge-serving-cache.js';
import { RechargeServingState } from '../jobs/recharge-metrics/recharge-serving-state.js';
import { ZonedCalendar } from '../domain/zoned-calendar.js';
import type { Metrics } from '../observability/metrics.js';
import { TOPIC_BOUNDS_TTL_MS, type ApiServices } from './context.js';
import { partitionBounds } from '../ingest/kafka-client.js';
import { kafkaPartitionRangeReader } from '../ingest/partition-range-reader.js';
import { ShortLivedCache } from '../store/short-lived-cache.js';
import { CallbackStatusUpdater } from '../jobs/abnormal-orders/callback-status-updater.js';
import { CallbackHistoryStore } from '../jobs/abnormal-orders/callback-history-store.js';
import { ClientMutationStore } from '../store/client-mutation-store.js';

/** The services resolvers use, built once per API process. */
export function createApiServices(
  config: Config,
  deps: {
    db: Db;
    redis: Redis;
    kafka: Kafka;
    kafkaAdmin: Admin;
    jobs: JobDefinition[];
    bus: EventBus;
    metrics?: Metrics;
  },
): ApiServices {
  const offsets = new OffsetStore(deps.db);
  const calendar = new ZonedCalendar(config.TIME_ZONE);
  const changeLog = new ChangeLogStore(deps.db);
  const metrics = deps.metrics;
  const changeFeeds = new ChangeFeeds({
    store: changeLog,
    pollMs: config.CHANGE_LOG_POLL_MS,
    retentionHours: config.CHANGE_LOG_RETENTION_HOURS,
    onRead: metrics
      ? (stream, changes, atMs) => {
          for (const c of changes)
            metrics.changeLogReadLatency.observe({ stream }, Math.max(0, atMs - c.committedAtMs) / 1000);
        }
      : undefined,
    // The workers' post-commit messages on Redis wake the tailer of their group at once.
    listenForWakeUps: (stream, onWake) => {
      for (const topic of [TOPIC_ABNORMAL_USER_DETECTED, TOPIC_RECHARGE_CITY_METRICS_CHANGED] as const) {
        const iterator = deps.bus.pubSub.subscribe(topic, stream)[Symbol.asyncIterator]();
        void (async () => {
          for (let next = await iterator.next(); !next.done; next = await iterator.next()) onWake();
          // A lost wake-up only delays a change: the tailer's poll still reads every one.
        })().catch(() => undefined);
      }
    },
  });
  // Started with the process, not with the first subscriber: "live from now" then begins at the
  // process's current head without a database round trip, and the first subscriber waits for nothing.
  for (const stream of [config.ABNORMAL_ORDERS_GROUP, config.RECHARGE_GROUP]) void changeFeeds.tailer(stream);
  const unpaidUsers = new UnpaidUserStore(deps.db);
  return {
    unpaidUsers,
    callbackStatuses: new CallbackStatusUpdater(deps.db, {
      users: unpaidUsers,
      changeLog,
      mutations: new ClientMutationStore(deps.db),
      stream: config.ABNORMAL_ORDERS_GROUP,
    }),
    callbackHistory: new CallbackHistoryStore(deps.db),
    changeLogRetentionHours: config.CHANGE_LOG_RETENTION_HOURS,
    hotProducts: new HotProductStore(deps.db),
    dailyActiveUsers: new DailyActiveUserStore(deps.db),
    offsets,
    offsetRows: new ShortLivedCache({
      ttlMs: TOPIC_BOUNDS_TTL_MS,
      max: 64,
      load: async (group) => ({ rows: await offsets.list(group === '*' ? undefined : group) }),
    }),
    kafkaAdmin: deps.kafkaAdmin,
    topicBounds: new ShortLivedCache({
      ttlMs: TOPIC_BOUNDS_TTL_MS,
      max: 64,
      load: (topic) => partitionBounds(deps.kafkaAdmin, topic),
    }),
    jobs: deps.jobs.map((j) => ({ name: j.name, groupId: j.groupId, topic: j.topic, results: j.results })),
    operations: new JobOperations(deps.db, offsets, deps.kafkaAdmin, deps.jobs, deps.bus, deps.redis, {
      readRanges: kafkaPartitionRangeReader(deps.kafka, deps.kafkaAdmin),
    }),
    redis: deps.redis,
    eventTimeWarningPercent: config.EVENT_TIME_WARNING_PERCENT,
    recharge: {
      reader: new RechargeMetricsReader(
        new RechargeMetricsStore(deps.db),
        new RechargeServingCache({
          redis: deps.redis,
          namespace: config.RECHARGE_GROUP,
          state: new RechargeServingState(deps.db, config.RECHARGE_GROUP),
          dateOf: (ms) => calendar.dateOf(ms),
        }),
        calendar,
      ),
      snapshots: new CitySnapshotStore(deps.db, changeLog),
      publishIntervalMs: config.PUBLISH_INTERVAL_MS,
      calendar,
    },
    changeFeeds,
  };
}
