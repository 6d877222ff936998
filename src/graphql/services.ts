import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { Config } from '../config/config.js';
import type { JobDefinition } from '../jobs/job.js';
import { JobOperations } from '../jobs/job-operations.js';
import type { EventBus } from '../publish/event-bus.js';
import { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import { UnpaidUserStore } from '../store/unpaid-user-store.js';
import { DailyActiveUserStore } from '../store/daily-active-user-store.js';
import { HotProductStore } from '../store/hot-product-store.js';
import { CityMetricsFeed } from '../publish/city-metrics-feed.js';
import { RechargeMetricsReader } from '../store/recharge-metrics-reader.js';
import { RechargeMetricsStore } from '../store/recharge-metrics-store.js';
import { RechargeServingCache } from '../store/recharge-serving-cache.js';
import { RechargeServingState } from '../store/recharge-serving-state.js';
import { ZonedCalendar } from '../domain/zoned-calendar.js';
import { TOPIC_BOUNDS_TTL_MS, type ApiServices } from './context.js';
import { partitionBounds } from '../ingest/kafka-client.js';
import { ShortLivedCache } from '../store/short-lived-cache.js';

/** The services resolvers use, built once per API process. */
export function createApiServices(config: Config, deps: { db: Db; redis: Redis; kafkaAdmin: Admin; jobs: JobDefinition[]; bus: EventBus }): ApiServices {
  const offsets = new OffsetStore(deps.db);
  const calendar = new ZonedCalendar(config.TIME_ZONE);
  return {
    unpaidUsers: new UnpaidUserStore(deps.db),
    hotProducts: new HotProductStore(deps.db),
    dailyActiveUsers: new DailyActiveUserStore(deps.db),
    offsets,
    kafkaAdmin: deps.kafkaAdmin,
    topicBounds: new ShortLivedCache({ ttlMs: TOPIC_BOUNDS_TTL_MS, max: 64, load: (topic) => partitionBounds(deps.kafkaAdmin, topic) }),
    jobs: deps.jobs.map((j) => ({ name: j.name, groupId: j.groupId, topic: j.topic, results: j.results })),
    operations: new JobOperations(deps.db, offsets, deps.kafkaAdmin, deps.jobs, deps.bus, deps.redis),
    redis: deps.redis,
    recharge: {
      reader: new RechargeMetricsReader(
        new RechargeMetricsStore(deps.db),
        new RechargeServingCache({ redis: deps.redis, namespace: config.RECHARGE_GROUP, state: new RechargeServingState(deps.db, config.RECHARGE_GROUP), dateOf: (ms) => calendar.dateOf(ms) }),
        calendar,
      ),
      feed: new CityMetricsFeed(deps.bus.pubSub, config.RECHARGE_GROUP, config.PUBLISH_INTERVAL_MS),
      calendar,
    },
  };
}
