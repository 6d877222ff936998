import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';

/** An operator changed a job: workers owning its partitions act on it at a batch boundary. */
export interface JobControlEvent {
  kind: 'reset' | 'pause' | 'resume';
  job: string;
  /** With `reset`: the partitions moved. */
  partitions?: number[];
}

/**
 * Routing keys and payloads of the bus: the engine's job control, and every
 * job module's topics (each module declares its topic names and payload types
 * in its folder; channels are per consumer group of the job, `<TOPIC>:<group>`,
 * so deployments, tests and benchmarks sharing one Redis stay apart).
 */
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- a type alias gets the implicit index signature that graphql-yoga's PubSubPublishArgsByKey constraint requires; an interface does not
export type BusEvents = {
  JOB_CONTROL: [groupId: string, event: JobControlEvent];
  [moduleTopic: string]: [groupId: string, event: unknown];
};

/** Control-plane events between API and worker processes (not a GraphQL subscription). */
export const TOPIC_JOB_CONTROL = 'JOB_CONTROL' as const;

export interface EventBus {
  pubSub: PubSub<BusEvents>;
  close(): Promise<void>;
}

/**
 * Subscription events fanned out through Redis pub/sub, so that an event
 * published by any worker reaches the subscribers of every API process
 * (workers and API processes scale apart). A process that both publishes and serves
 * receives its own events through Redis too, hence exactly once.
 */
export function createEventBus(redisUrl: string): EventBus {
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl);
  // Reconnection is ioredis's job; an unhandled 'error' event would kill the process.
  publishClient.on('error', () => undefined);
  subscribeClient.on('error', () => undefined);
  // The event target neither awaits nor catches these calls: a rejection (Redis down for
  // longer than the client's retries) would be an unhandled rejection and end the process.
  // An event published while Redis is down is lost; the database still has the values.
  const ignore = () => 0;
  const publisher = {
    publish: (channel: string, message: string) => publishClient.publish(channel, message).catch(ignore),
  };
  const subscriber = {
    on: (event: 'message', listener: (channel: string, message: string) => void) => subscribeClient.on(event, listener),
    subscribe: (channel: string) => subscribeClient.subscribe(channel).catch(ignore),
    unsubscribe: (channel: string) => subscribeClient.unsubscribe(channel).catch(ignore),
  };
  const eventTarget = // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the event target carries every channel's payload; the typed PubSub on top checks them
    createRedisEventTarget<any>({
      publishClient: publisher as unknown as Redis,
      subscribeClient: subscriber as unknown as Redis,
    });
  const pubSub = createPubSub<BusEvents>({ eventTarget });
  return {
    pubSub,
    close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
      return Promise.resolve();
    },
  };
}
