import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import type { Config } from '../config/config.js';
import type { JobDefinition } from '../engine/job.js';
import type { JobModule } from '../engine/job-module.js';
import { ServiceRegistry } from '../engine/service-registry.js';
import { JobOperations } from '../engine/job-operations.js';
import type { EventBus } from '../publish/event-bus.js';
import { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import { ChangeFeeds } from '../subscriptions/change-feeds.js';
import { ChangeLogStore } from '../store/change-log-store.js';
import type { Metrics } from '../observability/metrics.js';
import { TOPIC_BOUNDS_TTL_MS, type ApiServices } from './context.js';
import { partitionBounds } from '../ingest/kafka-client.js';
import { kafkaPartitionRangeReader } from '../ingest/partition-range-reader.js';
import { ShortLivedCache } from '../store/short-lived-cache.js';

/** The services resolvers use, built once per API process: the engine's and every job module's (`modules`). */
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
  modules: readonly JobModule[],
): ApiServices {
  const offsets = new OffsetStore(deps.db);
  const changeLog = new ChangeLogStore(deps.db);
  const metrics = deps.metrics;
  const streams = modules.flatMap((m) => m.api?.changeStreams?.(config) ?? []);
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
      for (const topic of new Set(streams.map((s) => s.wakeTopic))) {
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
  for (const { stream } of streams) void changeFeeds.tailer(stream);
  const registry = new ServiceRegistry();
  for (const m of modules) m.api?.register(registry, config, { db: deps.db, redis: deps.redis, changeLog });
  return {
    modules: registry,
    changeLogRetentionHours: config.CHANGE_LOG_RETENTION_HOURS,
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
    changeFeeds,
  };
}
