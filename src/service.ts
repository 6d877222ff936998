import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import kafkajs, { type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { runnerSettings, type Config } from './config/config.js';
import { createApiServices } from './graphql/services.js';
import { createSchema } from './app-schema.js';
import { startHttpServer, type GraphQLOptions, type HttpServer } from './graphql/server.js';
import { OperationRateLimiter } from './graphql/rate-limit.js';
import { Admission } from './graphql/admission.js';
import { Authenticator } from './graphql/auth.js';
import { TrustedDocuments } from './graphql/trusted-documents.js';
import { createKafka } from './ingest/kafka-client.js';
import { createJobs } from './engine/registry.js';
import { JOB_MODULES } from './jobs/index.js';
import { Metrics } from './observability/metrics.js';
import { createEventBus, TOPIC_JOB_CONTROL } from './publish/event-bus.js';
import { JobRunner } from './runner/job-runner.js';
import { CLIENT_MUTATION_PRUNE_INTERVAL_MS } from './store/client-mutation-store.js';
import { PeriodicPruner } from './store/periodic-pruner.js';
import { ClientMutationStore } from './store/client-mutation-store.js';
import { ChangeLogStore } from './store/change-log-store.js';
import { pausedJobNames } from './store/job-control-store.js';
import { OffsetStore } from './store/offset-store.js';
import { createDb } from './store/prisma-client.js';

// kafkajs is CommonJS: its values come through the default export under ESM.
const { Partitioners } = kafkajs;

/** kafkajs retries of one dead-letter request (200 ms doubling: about 6 s in all) before the commit fails. */
const DEAD_LETTER_RETRIES = 5;

/** A running service: the roles of `ROLES` (worker, api) in one process. */
export interface RunningService {
  /** The HTTP server: `/graphql` with the `api` role, always `/healthz`, `/readyz`, `/metrics`. */
  http: HttpServer;
  consumers: JobRunner[];
  /** Finishes the batches in flight, commits them, and closes every connection. */
  stop(): Promise<void>;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

/**
 * Starts the configured roles: the Kafka jobs of `JOBS` (role `worker`) and the
 * GraphQL API (role `api`), plus the health, readiness and metrics endpoints.
 * Services are expected to be reachable (see `checkServices`).
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const owner = `${hostname()}:${process.pid}`;
  const db = createDb(config.DATABASE_URL);
  const bus = createEventBus(config.REDIS_URL);
  const kafka = createKafka(config.KAFKA_BROKERS, 'rt-analytics', logger);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: false });
  // ioredis reconnects by itself; without a listener an 'error' event would end the process.
  redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  const metrics = new Metrics();
  const offsets = new OffsetStore(db);
  const jobs = createJobs(config, { db, redis, bus }, JOB_MODULES);
  const admin = kafka.admin();
  await admin.connect();

  const consumers: JobRunner[] = [];
  let producer: Producer | null = null;
  let controlTimer: NodeJS.Timeout | null = null;
  const controlEvents: AsyncIterator<unknown>[] = [];
  let pruner: PeriodicPruner | null = null;
  if (config.ROLES.has('worker')) {
    // Off the hot path: the change log of the subscriptions loses rows past retention on a timer
    // (statements of at most 1,000 rows; several workers pruning the same streams is harmless).
    const changeLog = new ChangeLogStore(db);
    const streams = jobs.map((j) => j.groupId);
    const retentionSeconds = Math.round(config.CHANGE_LOG_RETENTION_HOURS * 3600);
    pruner = new PeriodicPruner({
      what: 'change log',
      prune: () => (streams.length === 0 ? Promise.resolve(0) : changeLog.prune(streams, retentionSeconds)),
      intervalMs: config.CHANGE_LOG_PRUNE_INTERVAL_MS,
      logger,
      logFields: { retentionHours: config.CHANGE_LOG_RETENTION_HOURS },
    });
    pruner.start();
    const settings = runnerSettings(config);
    // Dead letters only. The runner retries a failed commit itself (backoff, FAILING when it does not
    // heal), so the client's own retries stay short: a refusal that retrying cannot heal, such as a
    // dead-letter topic that was deleted, shows within seconds. An idempotent producer would retry
    // such a request forever; the dead-letter topic is at-least-once by design (keyed by source
    // position), so a duplicate from a client retry is as harmless as one from a replay.
    producer = kafka.producer({
      maxInFlightRequests: 1,
      retry: { retries: DEAD_LETTER_RETRIES },
      // The client's default, named: kafkajs warns at every start otherwise.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    for (const job of jobs) {
      await job.prepare?.();
      const consumer = new JobRunner({ kafka, db, offsets, job, logger, producer, owner, metrics, redis, settings });
      await consumer.start();
      consumers.push(consumer);
    }
    const byName = new Map(jobs.map((j, i) => [j.name, consumers[i]]));
    // Operators' pause state: the database is the truth (polled), the bus makes it prompt.
    const syncPaused = async () => {
      const paused = await pausedJobNames(db);
      for (const [name, consumer] of byName) consumer.setOperatorPaused(paused.has(name));
    };
    await syncPaused().catch((err: unknown) => logger.warn({ err }, 'could not read the job control state'));
    controlTimer = setInterval(() => void syncPaused().catch(() => undefined), config.JOB_CONTROL_POLL_MS);
    controlTimer.unref();
    for (const [i, job] of jobs.entries()) {
      const consumer = consumers[i];
      const iterator = bus.pubSub.subscribe(TOPIC_JOB_CONTROL, job.groupId)[Symbol.asyncIterator]();
      controlEvents.push(iterator);
      void (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          const event = next.value;
          if (event.kind === 'reset')
            void consumer
              .reclaim(event.partitions ?? consumer.ownedPartitions)
              .catch((err: unknown) => logger.error({ err }, 'reclaim after reset failed'));
          else consumer.setOperatorPaused(event.kind === 'pause');
        }
      })().catch((err: unknown) => logger.error({ err, job: job.name }, 'job control listener failed'));
    }
  }

  const readiness = async () => {
    const [kafkaOk, mysqlOk, redisOk] = await Promise.all([
      withTimeout(admin.describeCluster(), 3_000, 'Kafka').then(() => 'ok'),
      withTimeout(db.$queryRaw`SELECT 1`, 3_000, 'MySQL').then(() => 'ok'),
      withTimeout(redis.ping(), 3_000, 'Redis').then(() => 'ok'),
    ]);
    const notJoined = jobs.filter((_, i) => consumers[i] && !consumers[i].joined).map((j) => j.name);
    if (notJoined.length > 0) throw new Error(`consumers not joined yet: ${notJoined.join(', ')}`);
    const failing = jobs.flatMap((j, i) => {
      // An API-only process has no consumers: `at` says so where an index would not.
      const f = consumers.at(i)?.failing()[0];
      return f ? [`${j.name} (partition ${f.partition}: ${f.code} ${f.message}, ${f.attempts} attempts)`] : [];
    });
    if (failing.length > 0) throw new Error(`jobs failing: ${failing.join('; ')}`);
    return { kafka: kafkaOk, mysql: mysqlOk, redis: redisOk, consumers: consumers.length };
  };

  // API processes forget clientMutationIds past their 24 hours (every process: the deletes are idempotent).
  const mutations = new ClientMutationStore(db);
  const mutationPruner = config.ROLES.has('api')
    ? new PeriodicPruner({
        what: 'client mutation ids',
        prune: () => mutations.prune(),
        intervalMs: CLIENT_MUTATION_PRUNE_INTERVAL_MS,
        logger,
      })
    : null;
  mutationPruner?.start();

  const http = await startHttpServer({
    port: config.PORT,
    logger,
    metrics,
    readiness,
    // The dashboard (web/, built by `npm run build`), served with the API.
    staticDir: config.ROLES.has('api') ? path.resolve(import.meta.dirname, '../../web/dist') : undefined,
    graphql: config.ROLES.has('api')
      ? await graphqlOptions(config, { db, redis, kafka, kafkaAdmin: admin, jobs, bus, metrics })
      : undefined,
  });

  return {
    http,
    consumers,
    async stop() {
      if (controlTimer) clearInterval(controlTimer);
      await pruner?.stop();
      await mutationPruner?.stop();
      await Promise.all(controlEvents.map((it) => it.return?.() ?? Promise.resolve()));
      await Promise.allSettled(consumers.map((c) => c.stop()));
      await http.close();
      // Best effort at shutdown: nothing is left to send or ask.
      await producer?.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await bus.close();
      redis.disconnect();
      await db.$disconnect();
    },
  };
}

/** The API's schema, services and its one admission path, from the configuration. */
async function graphqlOptions(
  config: Config,
  deps: Parameters<typeof createApiServices>[1] & { redis: Redis },
): Promise<GraphQLOptions> {
  const schema = await createSchema(deps.bus.pubSub);
  const trustedPath = config.TRUSTED_DOCUMENTS_PATH ?? path.resolve(import.meta.dirname, '../trusted-documents.json');
  // The list is needed in trusted-only mode; otherwise it is used when present (dashboard operations sent by hash).
  const trustedDocuments =
    config.TRUSTED_DOCUMENTS_ONLY || existsSync(trustedPath) ? TrustedDocuments.load(trustedPath) : undefined;
  const authenticator = new Authenticator(
    config.API_KEYS,
    config.AUTH_JWKS_URL
      ? {
          jwksUrl: config.AUTH_JWKS_URL,
          issuer: required(config.AUTH_ISSUER, 'AUTH_ISSUER'),
          audience: required(config.AUTH_AUDIENCE, 'AUTH_AUDIENCE'),
          roleClaim: config.AUTH_ROLE_CLAIM,
          clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS,
        }
      : undefined,
  );
  return {
    schema,
    services: createApiServices(config, deps, JOB_MODULES),
    admission: new Admission({
      schema,
      authenticator,
      rateLimiter: new OperationRateLimiter(deps.redis, config.RATE_LIMIT_PER_MINUTE),
      limits: {
        maxDepth: config.GRAPHQL_MAX_DEPTH,
        maxCost: config.GRAPHQL_MAX_COST,
        maxAliases: config.GRAPHQL_MAX_ALIASES,
        maxTokens: config.GRAPHQL_MAX_TOKENS,
        maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
      },
      introspection: config.GRAPHQL_INTROSPECTION,
      trustedDocuments,
      trustedOnly: config.TRUSTED_DOCUMENTS_ONLY,
      allowBatching: config.GRAPHQL_ALLOW_BATCHING,
      maxBatchSize: config.GRAPHQL_MAX_BATCH_SIZE,
    }),
    introspection: config.GRAPHQL_INTROSPECTION,
    allowBatching: config.GRAPHQL_ALLOW_BATCHING,
    maxBodyBytes: config.GRAPHQL_MAX_BODY_BYTES,
    websocket: {
      maxPayloadBytes: config.WS_MAX_PAYLOAD_BYTES,
      maxConnections: config.WS_MAX_CONNECTIONS,
      maxConnectionsPerKey: config.WS_MAX_CONNECTIONS_PER_KEY,
      maxSubscriptionsPerKey: config.WS_MAX_SUBSCRIPTIONS_PER_KEY,
    },
    corsOrigins: config.CORS_ORIGINS,
  };
}

/** A setting the config schema requires together with another; a miss means the schema and this code disagree. */
function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`${name} is not set although AUTH_JWKS_URL is`);
  return value;
}
