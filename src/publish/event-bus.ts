import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';

/**
 * A user detected in one window, as published after the commit.
 * Times are ISO-8601 strings (UTC) because the payload crosses Redis as JSON.
 */
export interface AbnormalUserDetectedEvent {
  uid: string;
  phone: string;
  enterOrderCount: number;
  windowStart: string;
  windowEnd: string;
}

/** Routing keys and payloads of every subscription event. */
export type BusEvents = {
  ABNORMAL_USER_DETECTED: [AbnormalUserDetectedEvent];
};

export const TOPIC_ABNORMAL_USER_DETECTED = 'ABNORMAL_USER_DETECTED' as const;

export interface EventBus {
  pubSub: PubSub<BusEvents>;
  close(): Promise<void>;
}

/**
 * Subscription events fanned out through Redis pub/sub, so that an event
 * published by any worker reaches the subscribers of every API process
 * (ARCHITECTURE.md, "Scale"). A process that both publishes and serves
 * receives its own events through Redis too, hence exactly once.
 */
export function createEventBus(redisUrl: string): EventBus {
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl);
  // Reconnection is ioredis's job; an unhandled 'error' event would kill the process.
  publishClient.on('error', () => {});
  subscribeClient.on('error', () => {});
  const eventTarget = createRedisEventTarget<any>({ publishClient, subscribeClient });
  const pubSub = createPubSub<BusEvents>({ eventTarget });
  return {
    pubSub,
    async close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
