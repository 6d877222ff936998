import { z } from 'zod';
import { ConfigError } from '../errors/config-error.js';

const ROLES = ['viewer', 'crm', 'ops'] as const;
export type Role = (typeof ROLES)[number];

/** A whole, positive number of milliseconds; `name` is the variable named in the error. */
export const positiveMs = (name: string) =>
  z.coerce.number().int(`${name} must be a whole number of milliseconds`).positive(`${name} must be greater than 0`);

/** The keys accepted when `API_KEYS` is not set: for development only (a production start refuses them). */
export const DEVELOPMENT_API_KEYS = 'viewer:viewer-key,crm:crm-key,ops:ops-key';

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true'));
const positiveInt = z.coerce.number().int().positive();

const apiKeys = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const keys = new Map<string, Role>();
    for (const pair of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const idx = pair.indexOf(':');
      const role = pair.slice(0, idx) as Role;
      const key = pair.slice(idx + 1);
      if (idx <= 0 || !key || !ROLES.includes(role)) {
        ctx.addIssue({
          code: 'custom',
          message: `API_KEYS entry "${pair.replace(/:.*/, ':***')}" must be role:key with role one of ${ROLES.join(', ')}`,
        });
        return z.NEVER;
      }
      keys.set(key, role);
    }
    return keys;
  });

/**
 * The service's whole configuration, read from environment variables
 * (validated once at start; defaults resolved here). Units are in the names:
 * every `*_MS` value is in milliseconds.
 */
export const configSchema = z
  .object({
    /** Comma-separated `host:port` list. @default "localhost:9092" */
    KAFKA_BROKERS: z
      .string()
      .default('localhost:9092')
      .transform((s) =>
        s
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean),
      ),
    /** @default "mysql://root@127.0.0.1:3306/rt_analytics" */
    DATABASE_URL: z.url().default('mysql://root@127.0.0.1:3306/rt_analytics'),
    /** @default "redis://127.0.0.1:6379" */
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
    /** HTTP and WebSocket port of `/graphql`. `0` picks a free port. @default 4000 */
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    /** `production` hardens the defaults: no introspection, no development API keys (see {@link checkProductionAuth}). */
    NODE_ENV: z.string().default('development'),
    /**
     * `role:key` pairs, comma separated; roles `viewer`, `crm`, `ops`.
     * @default the development keys viewer-key, crm-key, ops-key; none when NODE_ENV=production
     */
    API_KEYS: apiKeys,
    /** Which roles this process runs: `worker` (Kafka jobs), `api` (GraphQL), or both. @default "worker,api" */
    ROLES: z
      .string()
      .default('worker,api')
      .transform((s) => new Set(s.split(',').map((r) => r.trim()))),
    /**
     * Jobs this worker runs, comma separated.
     * @default every job module, in the order of the module list (see {@link loadConfigWith})
     */
    JOBS: z.string().transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    ),
    /** Grace period after a window's end for out-of-order records, in milliseconds. @default 5000 // 5 seconds */
    GRACE_MS: z.coerce.number().int().min(0).default(5_000),
    /**
     * Largest lead of a record's event time over its own Kafka timestamp
     * (producer create time or broker append time, stored with the record), in
     * milliseconds. A record further ahead has a wrong clock: it is
     * dead-lettered as `event-time-ahead` and moves no watermark, by every job
     * alike, and a replay decides the same. 60 s covers a producer's batching
     * and retries and a device clock a few seconds off, while a record
     * accepted at the limit closes windows at most 60 s early: never a whole
     * production window (10 minutes), and one advance of the demo's. Raise it
     * when devices with clocks minutes fast must still count (their records
     * then make real ones late).
     * @default 60000 // 1 minute
     */
    MAX_EVENT_TIME_AHEAD_MS: z.coerce.number().int().min(0).default(60_000),
    /**
     * A partition without records for this long (wall clock, milliseconds) moves its
     * watermark on with wall-clock time so windows close in a quiet stream.
     * @default the window advance (abnormal-orders: ABNORMAL_WINDOW_ADVANCE_MS;
     *   hot-products: 60000 // 1 minute, its tumbling window, so a quiet partition
     *   holds a 5-minute ranking boundary back by at most a minute)
     */
    IDLE_TIMEOUT_MS: positiveMs('IDLE_TIMEOUT_MS').optional(),
    /** IANA time zone of the per-day buckets (calendar days). @default "Asia/Shanghai" */
    TIME_ZONE: z
      .string()
      .default('Asia/Shanghai')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'TIME_ZONE must be an IANA time zone such as Asia/Shanghai'),
    /**
     * Consumer session timeout in milliseconds: how long the group waits for a
     * silent (crashed) worker before its partitions move to another one.
     * Brokers accept 6000..1800000 by default. @default 30000 // 30 seconds
     */
    KAFKA_SESSION_TIMEOUT_MS: positiveMs('KAFKA_SESSION_TIMEOUT_MS').default(30_000),
    /** Consumer heartbeat interval in milliseconds; below a third of the session timeout. @default 3000 */
    KAFKA_HEARTBEAT_INTERVAL_MS: positiveMs('KAFKA_HEARTBEAT_INTERVAL_MS').default(3_000),
    /**
     * Most bytes fetched per partition per request: bounds a batch (and the memory
     * held for it: the fetch response, and the record objects made of it while the
     * batch is processed). 512 KiB keeps abnormal-orders with a million users in its
     * windows under 300 MB of RSS (bench/README.md); the transactions stay as large,
     * since a partition that is behind holds its batches' results up to TRANSACTION_MAX_RECORDS.
     * @default 524288 // 512 KiB
     */
    KAFKA_MAX_BYTES_PER_PARTITION: z.coerce.number().int().min(1024).default(524_288),
    /**
     * Partitions one worker processes at once per job (kafkajs
     * `partitionsConsumedConcurrently`); the job's commit takes every partition
     * of the worker together, whatever this says. @default 3
     */
    KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: z.coerce.number().int().positive().default(3),
    /**
     * Longest a fetch waits for records, in milliseconds: a fetch returns as soon as
     * one record is there, so this only bounds an idle poll, which SIGTERM has to sit
     * out before the consumer can leave its group. @default 1000 // 1 second
     */
    KAFKA_MAX_WAIT_MS: positiveMs('KAFKA_MAX_WAIT_MS').default(1_000),
    /**
     * Bytes a fetch waits for before the broker answers (Kafka's `fetch.min.bytes`),
     * up to KAFKA_MAX_WAIT_MS. 1 answers as soon as one record is there: under a
     * steady trickle every fetch then carries a few records, and the fetch
     * requests, their responses and the transactions they lead to cost more
     * than the records. A larger value gathers more records per fetch at the
     * cost of up to KAFKA_MAX_WAIT_MS more latency when traffic is thin.
     * @default 1 // bytes
     */
    KAFKA_MIN_BYTES: z.coerce.number().int().positive().default(1),
    /**
     * Records one partition holds before the job commits while a backlog is
     * read: each fetched batch is processed at once and its results held;
     * when one partition holds this many, what every partition of the job on
     * this worker holds commits in ONE transaction. Fewer, larger transactions
     * cost less per record. A partition that has caught up is due after
     * COMMIT_INTERVAL_MS instead. 0 or 1: every fetched batch commits at once,
     * whatever COMMIT_INTERVAL_MS says.
     * @default 20000 // records
     */
    TRANSACTION_MAX_RECORDS: z.coerce.number().int().min(0).default(20_000),
    /**
     * Partitions of each topic the service creates (its three source topics and
     * their dead-letter topics, by `npm run provision`, the demo and the sample
     * producer). A topic that exists is used as it is, whatever its count.
     * More partitions let more workers share a job. @default 3
     */
    KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(10_000).default(3),
    /**
     * What a job does when a partition's topic was deleted and created again
     * (its log is not the one the stored position was read from): `fail` stops
     * the partition (the job shows FAILING with TOPIC_RECREATED, nothing is
     * processed or skipped) until an operator resets it to EARLIEST or rebuilds
     * the job; `earliest` counts the new log from its start by itself (audited).
     * @default "fail"
     */
    ON_TOPIC_RECREATED: z.enum(['fail', 'earliest']).default('fail'),
    /**
     * Largest request of dead letters sent to a dead-letter topic, bytes. Unset:
     * read at start from the dead-letter topic's `max.message.bytes` (the
     * broker's `message.max.bytes` unless the topic overrides it), else Kafka's
     * default of 1048588. Dead letters are sent in requests below it, and one
     * record too large for it is cut (`dlq.truncated`). Set it to the smallest
     * limit on the path when a proxy or a broker of another cluster accepts less.
     * @default the topic's max.message.bytes // bytes
     */
    DEAD_LETTER_MAX_MESSAGE_BYTES: z.coerce.number().int().min(4_096).optional(),
    /**
     * Longest a partition that is behind holds its processed batches' results
     * before the job commits (TRANSACTION_MAX_RECORDS), in milliseconds from
     * the first one.
     * @default 1000 // 1 second
     */
    TRANSACTION_MAX_DELAY_MS: positiveMs('TRANSACTION_MAX_DELAY_MS').default(1_000),
    /**
     * Longest the results of a partition that has stayed caught up wait before
     * the job commits, in milliseconds (Kafka Streams' `commit.interval.ms`,
     * which is 100 there under exactly-once). The commit takes every partition
     * of the job on this worker in one transaction, so the database sees about
     * one transaction per job, worker and interval, however many partitions
     * the topics have. It adds at most this much to the time from Kafka to a
     * committed result; the batch that ends a backlog commits at once. 0:
     * every fetched batch of a caught-up partition commits at once.
     * @default 100 // milliseconds
     */
    COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).default(100),
    /**
     * How often idle partitions are ticked, in milliseconds, so windows close and
     * watermarks move in a quiet stream. @default 1000 // 1 second
     */
    JOB_TICK_INTERVAL_MS: positiveMs('JOB_TICK_INTERVAL_MS').default(1_000),
    /**
     * Post-commit work (publishing, Kafka offset commits) queued beyond this many
     * batches pauses fetching until the queue has drained to half. @default 32
     */
    POST_COMMIT_MAX_PENDING: z.coerce.number().int().positive().default(32),
    /**
     * How often a worker publishes its partitions' live stats (owner, records/s) to
     * Redis for the `jobs` query, in milliseconds. @default 5000 // 5 seconds
     */
    PARTITION_STATS_INTERVAL_MS: positiveMs('PARTITION_STATS_INTERVAL_MS').default(5_000),
    /**
     * Share of a job's records, percent, dead-lettered as `late` or as
     * `event-time-ahead` over about the last minute above which the `jobs`
     * query shows a warning with the reason and the counts, and
     * `rt_event_time_warning{job,reason}` is 1 (at least 10 records: one of
     * five is no trend). A burst of late records means a stalled producer or
     * a watermark moved too far; records ahead mean a wrong clock upstream.
     * @default 1 // percent
     */
    EVENT_TIME_WARNING_PERCENT: z.coerce.number().min(0).max(100).default(1),
    /**
     * Origins allowed to call the API from a browser (CORS), comma separated;
     * `*` for any. Empty: no CORS headers (same-origin pages only). @default ""
     */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    /** Whether the schema can be introspected. @default true, false when NODE_ENV=production */
    GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).optional(),
    /** Deepest selection nesting a GraphQL operation may have. @default 10 */
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().positive().default(10),
    /**
     * Highest cost a GraphQL operation may have: each field costs 1, and a list
     * field multiplies the cost of its selection by its `first`/`limit`
     * argument. @default 5000
     */
    GRAPHQL_MAX_COST: z.coerce.number().int().positive().default(5_000),
    /** Most aliases in one operation (graphql-armor max-aliases); `__typename` aliases do not count. Refusal: `ALIAS_LIMIT`. @default 50 */
    GRAPHQL_MAX_ALIASES: positiveInt.default(50),
    /** Most lexical tokens in one document (graphql-armor max-tokens), counted while parsing. Refusal: `TOKEN_LIMIT`. @default 2000 */
    GRAPHQL_MAX_TOKENS: positiveInt.default(2_000),
    /** Most directives in one operation (graphql-armor max-directives). Refusal: `DIRECTIVE_LIMIT`. @default 20 */
    GRAPHQL_MAX_DIRECTIVES: positiveInt.default(20),
    /** Whether one HTTP request may carry a JSON array of operations. Refusal when off: `BATCHING_DISABLED`. @default false */
    GRAPHQL_ALLOW_BATCHING: flag(false),
    /** Most operations in one batched HTTP request (when batching is on); each one is admitted and rate-limited on its own. @default 10 */
    GRAPHQL_MAX_BATCH_SIZE: positiveInt.default(10),
    /** Largest HTTP request body, bytes. Refusal: HTTP 413 and `PAYLOAD_TOO_LARGE`. @default 102400 // 100 KiB */
    GRAPHQL_MAX_BODY_BYTES: positiveInt.default(102_400),
    /** Largest WebSocket message, bytes (ws `maxPayload`); a larger message closes the socket with code 1009. @default 65536 // 64 KiB */
    WS_MAX_PAYLOAD_BYTES: positiveInt.default(65_536),
    /** Most open WebSocket connections of this process. Refusal: close code 4013, reason `TOO_MANY_CONNECTIONS`. @default 1000 */
    WS_MAX_CONNECTIONS: positiveInt.default(1_000),
    /** Most open WebSocket connections per API key or token subject, in this process. Refusal: close 4013 `TOO_MANY_CONNECTIONS`. @default 20 */
    WS_MAX_CONNECTIONS_PER_KEY: positiveInt.default(20),
    /** Most active subscriptions per API key or token subject, in this process, over all its connections. Refusal: `TOO_MANY_SUBSCRIPTIONS`. @default 50 */
    WS_MAX_SUBSCRIPTIONS_PER_KEY: positiveInt.default(50),
    /**
     * Run only the operations whose sha256 (of the exact query text) is in the
     * trusted-documents list shipped with the dashboard. Refusal: `UNTRUSTED_DOCUMENT`.
     * @default false
     */
    TRUSTED_DOCUMENTS_ONLY: flag(false),
    /** The trusted-documents list, JSON, written by `npm run build`. @default "dist/trusted-documents.json" (relative to the package root) */
    TRUSTED_DOCUMENTS_PATH: z.string().optional(),
    /** JWKS URL of the identity provider; when set, `Authorization: Bearer <JWT>` is accepted beside API keys. @default unset (JWTs not accepted) */
    AUTH_JWKS_URL: z.url().optional(),
    /** Required `iss` of a JWT. Required when AUTH_JWKS_URL is set. */
    AUTH_ISSUER: z.string().min(1).optional(),
    /** Required `aud` of a JWT (one of its audiences). Required when AUTH_JWKS_URL is set. */
    AUTH_AUDIENCE: z.string().min(1).optional(),
    /** JWT claim holding the role (`viewer`, `crm` or `ops`); a dotted path reads a nested claim. @default "role" */
    AUTH_ROLE_CLAIM: z.string().min(1).default('role'),
    /** Accepted clock difference when checking a JWT's `exp` and `nbf`, seconds. @default 5 */
    AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).default(5),
    /** GraphQL operations each API key (or client address, without a key) may start per minute. @default 600 */
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
    /** How often a worker re-reads the operators' pause state from the database, in milliseconds. @default 2000 */
    JOB_CONTROL_POLL_MS: positiveMs('JOB_CONTROL_POLL_MS').default(2_000),
    /**
     * `off` stops the jobs appending to the subscriptions' change log: for the
     * benchmark's comparison only (resumable subscriptions then get no events).
     * @default "on"
     */
    CHANGE_LOG: z.enum(['on', 'off']).default('on'),
    /**
     * How long the change log keeps a change, in HOURS (fractions allowed): a
     * subscription cursor older than that is CURSOR_EXPIRED. @default 24
     */
    CHANGE_LOG_RETENTION_HOURS: z.coerce
      .number()
      .positive('CHANGE_LOG_RETENTION_HOURS must be greater than 0 (hours)')
      .default(24),
    /** How often a worker deletes changes past retention, in milliseconds. @default 60000 // 1 minute */
    CHANGE_LOG_PRUNE_INTERVAL_MS: positiveMs('CHANGE_LOG_PRUNE_INTERVAL_MS').default(60_000),
    /**
     * How often an API process reads new changes from the change log when no
     * Redis wake-up came first, in milliseconds. @default 250
     */
    CHANGE_LOG_POLL_MS: positiveMs('CHANGE_LOG_POLL_MS').default(250),
    /** Log level (pino). @default "info" */
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => !c.AUTH_JWKS_URL || (c.AUTH_ISSUER && c.AUTH_AUDIENCE), {
    error:
      'AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE: tokens are accepted only from one issuer for one audience',
    path: ['AUTH_JWKS_URL'],
  })
  .transform(({ API_KEYS, ...c }) => ({
    ...c,
    API_KEYS: API_KEYS ?? (c.NODE_ENV === 'production' ? new Map<string, Role>() : developmentKeys()),
    /** True when API_KEYS was not set and the development keys are accepted. */
    usesDevelopmentKeys: API_KEYS === undefined && c.NODE_ENV !== 'production',
    GRAPHQL_INTROSPECTION:
      c.GRAPHQL_INTROSPECTION === undefined ? c.NODE_ENV !== 'production' : c.GRAPHQL_INTROSPECTION === 'true',
  }));

function developmentKeys(): Map<string, Role> {
  return new Map(
    DEVELOPMENT_API_KEYS.split(',').map((p) => [p.slice(p.indexOf(':') + 1), p.slice(0, p.indexOf(':')) as Role]),
  );
}

export type Config = z.output<typeof configSchema>;

/** Least `maxBytes` of one fetch over all partitions, bytes (kafkajs' own default). */
const MIN_FETCH_MAX_BYTES = 10_485_760;

/**
 * The job runner's consumer and scheduling settings, resolved once from
 * {@link Config} (the defaults live only in {@link configSchema}). Times are
 * MILLISECONDS, sizes BYTES.
 */
export interface RunnerSettings {
  /** Consumer session timeout, milliseconds. @default 30000 (KAFKA_SESSION_TIMEOUT_MS) */
  readonly sessionTimeoutMs: number;
  /** Consumer heartbeat interval, milliseconds. @default 3000 (KAFKA_HEARTBEAT_INTERVAL_MS) */
  readonly heartbeatIntervalMs: number;
  /** Most bytes of one partition per fetch, bytes. @default 524288 (KAFKA_MAX_BYTES_PER_PARTITION) */
  readonly maxBytesPerPartition: number;
  /** Most bytes of one fetch over all partitions: at least 10 MiB and 3 partitions' worth, bytes. @default 10485760 */
  readonly maxBytes: number;
  /** Longest an idle fetch waits, milliseconds. @default 1000 (KAFKA_MAX_WAIT_MS) */
  readonly maxWaitTimeMs: number;
  /** Bytes a fetch waits for, up to `maxWaitTimeMs`. @default 1 (KAFKA_MIN_BYTES) */
  readonly minBytes: number;
  /** Partitions processed at once. @default 3 (KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY) */
  readonly partitionsConsumedConcurrently: number;
  /** Idle-partition tick, milliseconds. @default 1000 (JOB_TICK_INTERVAL_MS) */
  readonly tickIntervalMs: number;
  /** Post-commit batches queued before fetching pauses. @default 32 (POST_COMMIT_MAX_PENDING) */
  readonly maxPendingAfterCommit: number;
  /** Records one partition holds before the job commits while it is behind, records. @default 20000 (TRANSACTION_MAX_RECORDS) */
  readonly transactionMaxRecords: number;
  /** Longest a partition that is behind holds its results before the job commits, milliseconds. @default 1000 (TRANSACTION_MAX_DELAY_MS) */
  readonly transactionMaxDelayMs: number;
  /** Longest a caught-up partition holds its results before the job commits, milliseconds. @default 100 (COMMIT_INTERVAL_MS) */
  readonly commitIntervalMs: number;
  /** Live partition stats period, milliseconds. @default 5000 (PARTITION_STATS_INTERVAL_MS) */
  readonly statsIntervalMs: number;
  /**
   * Largest request of dead letters, bytes; undefined: read from the
   * dead-letter topic at start. (DEAD_LETTER_MAX_MESSAGE_BYTES)
   */
  readonly deadLetterMaxMessageBytes: number | undefined;
  /** What a partition whose topic was recreated does. @default 'fail' (ON_TOPIC_RECREATED) */
  readonly onTopicRecreated: 'fail' | 'earliest';
  /** Share of late or ahead records over the last minute that warns, percent. @default 1 (EVENT_TIME_WARNING_PERCENT) */
  readonly eventTimeWarningPercent: number;
}

/** The {@link RunnerSettings} of a configuration (pure). */
export function runnerSettings(config: Config): RunnerSettings {
  return {
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    maxBytesPerPartition: config.KAFKA_MAX_BYTES_PER_PARTITION,
    maxBytes: Math.max(MIN_FETCH_MAX_BYTES, 3 * config.KAFKA_MAX_BYTES_PER_PARTITION),
    maxWaitTimeMs: config.KAFKA_MAX_WAIT_MS,
    minBytes: config.KAFKA_MIN_BYTES,
    partitionsConsumedConcurrently: config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
    tickIntervalMs: config.JOB_TICK_INTERVAL_MS,
    maxPendingAfterCommit: config.POST_COMMIT_MAX_PENDING,
    transactionMaxRecords: config.TRANSACTION_MAX_RECORDS,
    transactionMaxDelayMs: config.TRANSACTION_MAX_DELAY_MS,
    commitIntervalMs: config.COMMIT_INTERVAL_MS,
    statsIntervalMs: config.PARTITION_STATS_INTERVAL_MS,
    deadLetterMaxMessageBytes: config.DEAD_LETTER_MAX_MESSAGE_BYTES,
    onTopicRecreated: config.ON_TOPIC_RECREATED,
    eventTimeWarningPercent: config.EVENT_TIME_WARNING_PERCENT,
  };
}

/**
 * Refuses configurations that must not serve in production: with
 * `NODE_ENV=production`, any of the built-in development keys in API_KEYS, or
 * no way to authenticate at all (no API key and no AUTH_JWKS_URL). API_KEYS
 * unset in production means no keys (never the development ones).
 * @throws {ConfigError} with one line saying what to set.
 */
export function checkProductionAuth(config: Config): void {
  if (config.NODE_ENV !== 'production' || !config.ROLES.has('api')) return;
  const devKeys = new Set(developmentKeys().keys());
  if ([...config.API_KEYS.keys()].some((k) => devKeys.has(k))) {
    throw new ConfigError(
      'NODE_ENV=production refuses the built-in development API keys (viewer-key, crm-key, ops-key) in API_KEYS: set real keys',
    );
  }
  if (config.API_KEYS.size === 0 && !config.AUTH_JWKS_URL) {
    throw new ConfigError(
      'NODE_ENV=production needs a way to authenticate: set API_KEYS=role:key,... or AUTH_JWKS_URL (with AUTH_ISSUER and AUTH_AUDIENCE)',
    );
  }
}

/**
 * The settings of one job module: a zod object of its own variables, with their
 * defaults and checks. Its output is merged into the configuration.
 */
export interface JobSettingsSource {
  /** The job's name: `JOBS` defaults to every source's name, in order. */
  name: string;
  settings: z.ZodType<object>;
}

/**
 * Reads and validates the configuration: the engine's variables and those of
 * every job in `jobs` (each job's settings merged in; `JOBS` defaults to all
 * of them). The composition passes the module list (src/app-config.ts).
 * @throws {ConfigError} naming every invalid variable and why.
 */
export function loadConfigWith(env: NodeJS.ProcessEnv, jobs: readonly JobSettingsSource[]): Config {
  const withDefaults = { ...env, JOBS: env.JOBS ?? jobs.map((j) => j.name).join(',') };
  const issues: z.core.$ZodIssue[] = [];
  const engine = configSchema.safeParse(withDefaults);
  if (!engine.success) issues.push(...engine.error.issues);
  let merged: Record<string, unknown> = engine.success ? { ...engine.data } : {};
  for (const job of jobs) {
    const parsed = job.settings.safeParse(env);
    if (parsed.success) merged = { ...merged, ...parsed.data };
    else issues.push(...parsed.error.issues);
  }
  if (issues.length) {
    const lines = issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`, { cause: new z.ZodError(issues) });
  }
  return merged as Config;
}
