import { createConnection } from 'mariadb';
import { Redis } from 'ioredis';
import { ServiceUnavailableError } from './errors/service-unavailable-error.js';
import { createKafka } from './ingest/kafka-client.js';
import { parseDatabaseUrl } from './store/database-url.js';
import type { Config } from './config/config.js';

const HOW_TO_START = 'start it with `npm run stack:up`';

/**
 * Checks that Kafka, MySQL and Redis answer, each within a few seconds, so a
 * missing service gives one line naming it and how to start it instead of a
 * minute of retries.
 * @throws {ServiceUnavailableError} for the first service that does not answer.
 */
export async function checkServices(
  config: Pick<Config, 'KAFKA_BROKERS' | 'DATABASE_URL' | 'REDIS_URL'>,
): Promise<void> {
  await Promise.all([checkMysql(config.DATABASE_URL), checkRedis(config.REDIS_URL), checkKafka(config.KAFKA_BROKERS)]);
}

async function checkMysql(url: string): Promise<void> {
  const { database: _db, ...opts } = parseDatabaseUrl(url);
  try {
    const conn = await createConnection({ ...opts, connectTimeout: 3_000 });
    await conn.end();
  } catch (err) {
    throw new ServiceUnavailableError(
      'mysql',
      `MySQL is not reachable at ${opts.host}:${opts.port} (DATABASE_URL): ${HOW_TO_START}`,
      { cause: err },
    );
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3_000,
    retryStrategy: () => null,
  });
  // A failed connect() rejects below; without a listener ioredis would also report it as an unhandled 'error' event.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    const u = new URL(url);
    throw new ServiceUnavailableError('redis', `Redis is not reachable at ${u.host} (REDIS_URL): ${HOW_TO_START}`, {
      cause: err,
    });
  } finally {
    redis.disconnect();
  }
}

async function checkKafka(brokers: string[]): Promise<void> {
  const admin = createKafka(brokers, 'rt-analytics-preflight', undefined, 0).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new ServiceUnavailableError(
      'kafka',
      `Kafka is not reachable at ${brokers.join(',')} (KAFKA_BROKERS): ${HOW_TO_START}`,
      { cause: err },
    );
  } finally {
    await admin.disconnect().catch(() => undefined); // best effort: the reachability answer is already known
  }
}
