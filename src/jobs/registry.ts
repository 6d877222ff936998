import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import { TOPIC_ABNORMAL_USER_DETECTED, type EventBus } from '../publish/event-bus.js';
import type { Db } from '../store/prisma-client.js';
import { UnpaidUserStore } from '../store/unpaid-user-store.js';
import { createAbnormalOrdersJob } from './abnormal-orders-job.js';
import type { JobDefinition } from './job.js';

/** What jobs are built from: one of each per process. */
export interface JobDeps {
  db: Db;
  /** Serving store for hot values (absolute, idempotent writes after commit). */
  redis: Redis;
  bus: EventBus;
}

type JobFactory = (config: Config, deps: JobDeps) => JobDefinition;

/** Every job this service knows, by name. */
export const JOB_FACTORIES: Record<string, JobFactory> = {
  'abnormal-orders': (config, { db, bus }) => createAbnormalOrdersJob({
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
    publish: (events) => {
      for (const e of events) bus.pubSub.publish(TOPIC_ABNORMAL_USER_DETECTED, e);
    },
  }),
};

/**
 * The jobs named in `config.JOBS`.
 * @throws {ConfigError} for an unknown job name.
 */
export function createJobs(config: Config, deps: JobDeps): JobDefinition[] {
  return config.JOBS.map((name) => {
    const factory = JOB_FACTORIES[name];
    if (!factory) throw new ConfigError(`JOBS: unknown job "${name}" (known: ${Object.keys(JOB_FACTORIES).join(', ')})`);
    return factory(config, deps);
  });
}
