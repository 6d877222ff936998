import type { Logger } from 'pino';
import type { Producer } from 'kafkajs';
import type { Config } from './config/config.js';
import { createApiServices } from './graphql/services.js';
import { createSchema } from './graphql/schema.js';
import { startApiServer, type ApiServer } from './graphql/server.js';
import { JobConsumer } from './ingest/job-consumer.js';
import { createKafka } from './ingest/kafka-client.js';
import { createJobs } from './jobs/registry.js';
import { createEventBus } from './publish/event-bus.js';
import { Redis } from 'ioredis';
import { OffsetStore } from './store/offset-store.js';
import { createDb } from './store/prisma-client.js';

/** A running service: the roles of `ROLES` (worker, api) in one process. */
export interface RunningService {
  api: ApiServer | null;
  consumers: JobConsumer[];
  /** Finishes the batches in flight, commits them, and closes every connection. */
  stop(): Promise<void>;
}

/**
 * Starts the configured roles: the Kafka jobs of `JOBS` (role `worker`) and the
 * GraphQL API (role `api`). Services are expected to be reachable (see
 * `checkServices`).
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const db = createDb(config.DATABASE_URL);
  const bus = createEventBus(config.REDIS_URL);
  const kafka = createKafka(config.KAFKA_BROKERS, 'rt-analytics', logger);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false });
  // ioredis reconnects by itself; without a listener an 'error' event would end the process.
  redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  const offsets = new OffsetStore(db);
  const jobs = createJobs(config, { db, redis, bus });

  const consumers: JobConsumer[] = [];
  let producer: Producer | null = null;
  if (config.ROLES.has('worker')) {
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const job of jobs) {
      const consumer = new JobConsumer({
        kafka, db, offsets, job, logger, producer,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
        maxBytesPerPartition: config.KAFKA_MAX_BYTES_PER_PARTITION,
      });
      await consumer.start();
      consumers.push(consumer);
    }
  }

  let api: ApiServer | null = null;
  const admin = kafka.admin();
  if (config.ROLES.has('api')) {
    await admin.connect();
    const services = createApiServices(config, { db, redis, kafkaAdmin: admin, jobs });
    api = await startApiServer({ schema: await createSchema(bus.pubSub), services, apiKeys: config.API_KEYS, port: config.PORT, logger });
  }

  return {
    api,
    consumers,
    async stop() {
      await Promise.allSettled(consumers.map((c) => c.stop()));
      await api?.close();
      await producer?.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await bus.close();
      redis.disconnect();
      await db.$disconnect();
    },
  };
}
