import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { CityDailyStats } from '../domain/recharge.js';

/**
 * A user detected in one window, as published after the commit (a wake-up
 * for the API processes' change-log tailers) and as stored in the change log.
 * Times are ISO-8601 strings (UTC) because the payload crosses Redis and the log as JSON.
 */
export interface AbnormalUserDetectedEvent {
  uid: string;
  phone: string;
  enterOrderCount: number;
  windowStart: string;
  windowEnd: string;
  /**
   * The callback status a CRM had set when the user was detected (a
   * re-detection); absent when none was ever set.
   */
  callbackStatus?: string;
}

/** An operator changed a job: workers owning its partitions act on it at a batch boundary. */
export interface JobControlEvent {
  kind: 'reset' | 'pause' | 'resume';
  job: string;
  /** With `reset`: the partitions moved. */
  partitions?: number[];
}

/** One product of a published hot-products ranking. */
export interface HotProductPayload {
  productId: string;
  clicks: number;
  /** 1-based; equal clicks get consecutive ranks, the smaller productId first. */
  rank: number;
  category: string | null;
}

/**
 * The ranking of the hour ending at a 5-minute boundary of event time,
 * published once per boundary when the job's watermark passed it.
 * Times are ISO-8601 strings (UTC); `products` holds the top 100.
 */
export interface HotProductsUpdatedEvent {
  windowStart: string;
  windowEnd: string;
  products: HotProductPayload[];
}

/**
 * One city's recharge stats of one calendar day as absolute values (a lost or repeated event does no harm),
 * as the store reads them back after the commit.
 */
export type CityDailyStatsPayload = CityDailyStats;

/**
 * Published by a recharge-metrics worker after each commit that changed
 * cities' daily stats: every changed (date, city), absolute values. API
 * processes take it as a wake-up of their change-log tailer: the events of
 * `cityMetricsUpdated` are read from the change log.
 */
export interface RechargeCityMetricsChangedEvent {
  cities: CityDailyStatsPayload[];
}

/** Routing keys and payloads of every subscription event. */
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- a type alias gets the implicit index signature that graphql-yoga's PubSubPublishArgsByKey constraint requires; an interface does not
export type BusEvents = {
  // Every channel is per consumer group of the job (`<TOPIC>:<group>`): deployments, tests and
  // benchmarks sharing one Redis stay apart.
  ABNORMAL_USER_DETECTED: [groupId: string, event: AbnormalUserDetectedEvent];
  HOT_PRODUCTS_UPDATED: [groupId: string, event: HotProductsUpdatedEvent];
  JOB_CONTROL: [groupId: string, event: JobControlEvent];
  RECHARGE_CITY_METRICS_CHANGED: [groupId: string, event: RechargeCityMetricsChangedEvent];
};

export const TOPIC_ABNORMAL_USER_DETECTED = 'ABNORMAL_USER_DETECTED' as const;
export const TOPIC_HOT_PRODUCTS_UPDATED = 'HOT_PRODUCTS_UPDATED' as const;
/** Worker -> API processes: absolute stats of the cities a recharge-metrics commit changed (coalesced before `cityMetricsUpdated`). */
export const TOPIC_RECHARGE_CITY_METRICS_CHANGED = 'RECHARGE_CITY_METRICS_CHANGED' as const;
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
