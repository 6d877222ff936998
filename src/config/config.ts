import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

/** Raised when the environment does not describe a usable configuration. */
export class ConfigError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}

const ROLES = ['viewer', 'crm', 'ops'] as const;
export type Role = (typeof ROLES)[number];

const positiveMs = (name: string) =>
  z.coerce.number().int(`${name} must be a whole number of milliseconds`).positive(`${name} must be greater than 0`);

const apiKeys = z
  .string()
  .default('viewer:viewer-key,crm:crm-key,ops:ops-key')
  .transform((raw, ctx) => {
    const keys = new Map<string, Role>();
    for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const idx = pair.indexOf(':');
      const role = pair.slice(0, idx) as Role;
      const key = pair.slice(idx + 1);
      if (idx <= 0 || !key || !ROLES.includes(role)) {
        ctx.addIssue({ code: 'custom', message: `API_KEYS entry "${pair.replace(/:.*/, ':***')}" must be role:key with role one of ${ROLES.join(', ')}` });
        return z.NEVER;
      }
      keys.set(key, role);
    }
    return keys;
  });

/**
 * The service's whole configuration, read from environment variables
 * (ARCHITECTURE.md, "Services and configuration"). Units are in the names:
 * every `*_MS` value is in milliseconds.
 */
export const configSchema = z.object({
  /** Comma-separated `host:port` list. @default "localhost:9092" */
  KAFKA_BROKERS: z.string().default('localhost:9092').transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean)),
  /** @default "mysql://root@127.0.0.1:3306/rt_analytics" */
  DATABASE_URL: z.string().url().default('mysql://root@127.0.0.1:3306/rt_analytics'),
  /** @default "redis://127.0.0.1:6379" */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** HTTP and WebSocket port of `/graphql`. `0` picks a free port. @default 4000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** `role:key` pairs, comma separated; roles `viewer`, `crm`, `ops`. */
  API_KEYS: apiKeys,
  /** Which roles this process runs: `worker` (Kafka jobs), `api` (GraphQL), or both. @default "worker,api" */
  ROLES: z.string().default('worker,api').transform((s) => new Set(s.split(',').map((r) => r.trim()))),
  /** Jobs this worker runs, comma separated. @default "abnormal-orders,recharge-metrics,hot-products,daily-active-users" */
  JOBS: z.string().default('abnormal-orders,recharge-metrics,hot-products,daily-active-users').transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean)),
  /** Topic of the user-behaviour events. @default "user-behavior" */
  USER_BEHAVIOR_TOPIC: z.string().default('user-behavior'),
  /** Consumer group of the abnormal-orders job. @default "abnormal-orders" */
  ABNORMAL_ORDERS_GROUP: z.string().default('abnormal-orders'),
  /** Topic of the recharge events (JSON, key = orderId). @default "recharge" */
  RECHARGE_TOPIC: z.string().default('recharge'),
  /** Consumer group of the recharge-metrics job. @default "recharge-metrics" */
  RECHARGE_GROUP: z.string().default('recharge-metrics'),
  /** Topic of the product click stream (JSON, event_time in epoch milliseconds, any key). @default "product-clicks" */
  PRODUCT_CLICKS_TOPIC: z.string().default('product-clicks'),
  /** Consumer group of the hot-products job. @default "hot-products" */
  HOT_PRODUCTS_GROUP: z.string().default('hot-products'),
  /** Consumer group of the daily-active-users job (reads USER_BEHAVIOR_TOPIC). @default "daily-active-users" */
  DAU_GROUP: z.string().default('daily-active-users'),
  /** Hopping window size in milliseconds. Production: 600000 (10 min). @default 60000 // 60 seconds */
  ABNORMAL_WINDOW_SIZE_MS: positiveMs('ABNORMAL_WINDOW_SIZE_MS').default(60_000),
  /** Hopping window advance in milliseconds. Production: 120000 (2 min). @default 30000 // 30 seconds */
  ABNORMAL_WINDOW_ADVANCE_MS: positiveMs('ABNORMAL_WINDOW_ADVANCE_MS').default(30_000),
  /** Minimum `enterOrderPage` events in one window. @default 3 */
  ABNORMAL_THRESHOLD: z.coerce.number().int().positive().default(3),
  /** Grace period after a window's end for out-of-order records, in milliseconds. @default 5000 // 5 seconds */
  GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  /**
   * A partition without records for this long (wall clock, milliseconds) moves its
   * watermark on with wall-clock time so windows close in a quiet stream.
   * @default the window advance (abnormal-orders: ABNORMAL_WINDOW_ADVANCE_MS;
   *   hot-products: 60000 // 1 minute, its tumbling window, so a quiet partition
   *   holds a 5-minute ranking boundary back by at most a minute)
   */
  IDLE_TIMEOUT_MS: positiveMs('IDLE_TIMEOUT_MS').optional(),
  /** IANA time zone of the per-day buckets (calendar days). @default "Asia/Shanghai" */
  TIME_ZONE: z.string().default('Asia/Shanghai').refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'TIME_ZONE must be an IANA time zone such as Asia/Shanghai'),
  /** Minimum time a subscription or metric stays coalesced, in milliseconds. @default 1000 */
  PUBLISH_INTERVAL_MS: positiveMs('PUBLISH_INTERVAL_MS').default(1_000),
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
   * held for it). @default 1048576 // 1 MiB
   */
  KAFKA_MAX_BYTES_PER_PARTITION: z.coerce.number().int().min(1024).default(1_048_576),
  /**
   * Origins allowed to call the API from a browser (CORS), comma separated;
   * `*` for any. Empty: no CORS headers (same-origin pages only). @default ""
   */
  CORS_ORIGINS: z.string().default('').transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean)),
  /** Whether the schema can be introspected. @default true, false when NODE_ENV=production */
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? process.env.NODE_ENV !== 'production' : v === 'true')),
  /** Deepest selection nesting a GraphQL operation may have. @default 10 */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().positive().default(10),
  /**
   * Highest cost a GraphQL operation may have: each field costs 1, and a list
   * field multiplies the cost of its selection by its `first`/`limit`
   * argument. @default 5000
   */
  GRAPHQL_MAX_COST: z.coerce.number().int().positive().default(5_000),
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
  CHANGE_LOG_RETENTION_HOURS: z.coerce.number().positive('CHANGE_LOG_RETENTION_HOURS must be greater than 0 (hours)').default(24),
  /** How often a worker deletes changes past retention, in milliseconds. @default 60000 // 1 minute */
  CHANGE_LOG_PRUNE_INTERVAL_MS: positiveMs('CHANGE_LOG_PRUNE_INTERVAL_MS').default(60_000),
  /**
   * How often an API process reads new changes from the change log when no
   * Redis wake-up came first, in milliseconds. @default 250
   */
  CHANGE_LOG_POLL_MS: positiveMs('CHANGE_LOG_POLL_MS').default(250),
  /** Log level (pino). @default "info" */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).refine((c) => c.ABNORMAL_WINDOW_SIZE_MS % c.ABNORMAL_WINDOW_ADVANCE_MS === 0, {
  message: 'ABNORMAL_WINDOW_SIZE_MS must be a multiple of ABNORMAL_WINDOW_ADVANCE_MS',
  path: ['ABNORMAL_WINDOW_SIZE_MS'],
});

export type Config = z.output<typeof configSchema>;

/**
 * Reads and validates the configuration.
 * @throws {ConfigError} naming every invalid variable and why.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`, { cause: parsed.error });
  }
  return parsed.data;
}
