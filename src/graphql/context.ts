import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import type { JobOperations } from '../engine/job-operations.js';
import type { ServiceRegistry } from '../engine/service-registry.js';
import type { Caller } from './auth.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { ChangeFeeds } from '../subscriptions/change-feeds.js';
import type { ShortLivedCache } from '../store/short-lived-cache.js';

/** Earliest and latest offset of one partition (latest = the high watermark). */
export interface OffsetBounds {
  earliest: bigint;
  latest: bigint;
}

/**
 * How long `consumerOffsets` serves a topic's earliest/latest offsets from
 * memory, MILLISECONDS (one Kafka admin call per topic and bound, concurrent
 * requests sharing the one in flight): `latest` and `lag` are at most this old.
 */
export const TOPIC_BOUNDS_TTL_MS = 1_000;

/** What resolvers need, shared by every request of one API process. */
export interface ApiServices {
  /** Every job module's services, by the module's key (`ctx.services.modules.get(KEY)`). */
  modules: ServiceRegistry;
  offsets: OffsetStore;
  kafkaAdmin: Admin;
  /**
   * The `consumer_offset` rows of one group (key: the group id, `*` for all),
   * served from memory for at most {@link TOPIC_BOUNDS_TTL_MS} MILLISECONDS like the
   * topic bounds they are shown with, and cleared by this process's offset resets
   * and rebuilds; the table stays the source of truth.
   */
  offsetRows: ShortLivedCache<string, { rows: Awaited<ReturnType<OffsetStore['list']>> }>;
  /** Earliest and latest offset per partition of a topic (Kafka admin), served from memory for a short bound (see {@link TOPIC_BOUNDS_TTL_MS}). */
  topicBounds: ShortLivedCache<string, Map<number, OffsetBounds>>;
  /** Consumer groups and topics of the configured jobs, for `consumerOffsets`. */
  jobs: { name: string; groupId: string; topic: string; results: 'idempotent' | 'additive' }[];
  /** Offset resets, rebuilds, pause and resume. */
  operations: JobOperations;
  /** Live per-partition stats of the workers (`jobs` query). */
  redis: Redis;
  /** Share of late or ahead records over the last minute that makes a job warn, percent (EVENT_TIME_WARNING_PERCENT). */
  eventTimeWarningPercent: number;
  /** The resumable subscriptions: change-log tailers of this process and subscription starts. */
  changeFeeds: ChangeFeeds;
  /** Retention of the change log, HOURS (CHANGE_LOG_RETENTION_HOURS): the CURSOR_EXPIRED error of the pull feed. */
  changeLogRetentionHours: number;
}

/** Per-operation context. */
export interface GraphQLContext {
  caller: Caller | null;
  services: ApiServices;
  /** Request-scoped logger (carries the request id). */
  logger: Logger;
}
