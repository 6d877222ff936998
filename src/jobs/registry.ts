import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import { TOPIC_ABNORMAL_USER_DETECTED, type EventBus } from '../publish/event-bus.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { UnpaidUserStore } from '../store/unpaid-user-store.js';
import { createAbnormalOrdersJob } from './abnormal-orders-job.js';
import type { JobDefinition } from './job.js';

/** Names of the jobs this service knows. */
export const JOB_NAMES = ['abnormal-orders'] as const;

/**
 * The jobs named in `config.JOBS`, wired to their stores and the event bus.
 * @throws {ConfigError} for an unknown job name.
 */
export function createJobs(config: Config, stores: { offsets: OffsetStore; unpaidUsers: UnpaidUserStore }, bus: EventBus): JobDefinition[] {
  return config.JOBS.map((name) => {
    switch (name) {
      case 'abnormal-orders':
        return createAbnormalOrdersJob({
          groupId: config.ABNORMAL_ORDERS_GROUP,
          topic: config.USER_BEHAVIOR_TOPIC,
          threshold: config.ABNORMAL_THRESHOLD,
          window: {
            sizeMs: config.ABNORMAL_WINDOW_SIZE_MS,
            advanceMs: config.ABNORMAL_WINDOW_ADVANCE_MS,
            graceMs: config.GRACE_MS,
            idleTimeoutMs: config.IDLE_TIMEOUT_MS ?? config.ABNORMAL_WINDOW_ADVANCE_MS,
          },
          store: stores.unpaidUsers,
          publish: (events) => {
            for (const e of events) bus.pubSub.publish(TOPIC_ABNORMAL_USER_DETECTED, e);
          },
        });
      default:
        throw new ConfigError(`JOBS: unknown job "${name}" (known: ${JOB_NAMES.join(', ')})`);
    }
  });
}
