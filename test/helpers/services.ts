import { randomBytes } from 'node:crypto';
import { createConnection } from 'mariadb';
import type { Admin } from 'kafkajs';
import { createKafka, ensureTopics } from '../../src/ingest/kafka-client.js';
import { deadLetterTopic } from '../../src/config/topics.js';
import { applyMigrations, ensureDatabase } from '../../src/store/migrations.js';
import { parseDatabaseUrl } from '../../src/store/database-url.js';

/** The real services the suite runs against (started by `npm test` through scripts/stack.sh). */
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? 'localhost:9092').split(',');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MYSQL_BASE = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

/** A random lower-case name with a prefix, for topics, groups and databases. */
export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/**
 * A fresh, migrated database; `drop()` removes it. With `charset: 'latin1'`
 * (default: the environment variable `TEST_DATABASE_CHARSET`, else utf8mb4)
 * the database is created beforehand with `CHARACTER SET latin1 COLLATE
 * latin1_swedish_ci` as its default, as an administrator might have.
 * `serverUrl`: the server, `mysql://user@host:port` without a database
 * (default: the suite's MariaDB).
 */
export async function createTestDatabase(
  opts: { charset?: 'latin1' | 'utf8mb4'; serverUrl?: string } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = randomName('rt_test').replace(/-/g, '_');
  const serverUrl = opts.serverUrl ?? MYSQL_BASE;
  const url = `${serverUrl}/${name}`;
  const charset = opts.charset ?? (process.env.TEST_DATABASE_CHARSET === 'latin1' ? 'latin1' : 'utf8mb4');
  if (charset === 'latin1')
    await sql(`${serverUrl}/mysql`, `CREATE DATABASE \`${name}\` CHARACTER SET latin1 COLLATE latin1_swedish_ci`);
  await ensureDatabase(url);
  await applyMigrations(url);
  return {
    url,
    name,
    async drop() {
      await sql(url, `DROP DATABASE IF EXISTS \`${name}\``);
    },
  };
}

/** Runs one statement on the database of `url` and returns its rows. */
export async function sql<T = Record<string, unknown>>(
  url: string,
  statement: string,
  params: unknown[] = [],
): Promise<T[]> {
  const conn = await createConnection({ ...parseDatabaseUrl(url), connectTimeout: 5_000 });
  try {
    const rows = await conn.query(statement, params);
    return Array.isArray(rows) ? (rows as T[]) : [];
  } finally {
    await conn.end();
  }
}

/** A Kafka admin client (on `brokers`, default the suite's broker); call `disconnect()` when done. */
export async function connectAdmin(brokers: string[] = KAFKA_BROKERS): Promise<Admin> {
  const admin = createKafka(brokers, randomName('test-admin')).admin();
  await admin.connect();
  return admin;
}

/** A fresh topic with `partitions` partitions and its dead-letter topic (on `brokers`, default the suite's broker); `delete()` removes both. */
export async function createTestTopic(
  prefix = 'topic',
  partitions = 3,
  brokers: string[] = KAFKA_BROKERS,
): Promise<{ topic: string; dlq: string; delete(): Promise<void> }> {
  const topic = randomName(`t-${prefix}`);
  const admin = await connectAdmin(brokers);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureTopics(admin, [
          { topic, numPartitions: partitions },
          { topic: deadLetterTopic(topic), numPartitions: partitions },
        ]);
        break;
      } catch (err) {
        // A broker that just started (or was just created) may not know a topic it created
        // a moment ago while waiting for its leaders: ask again, creating only what is missing.
        if (attempt >= 10 || (err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await admin.disconnect();
  }
  return {
    topic,
    dlq: deadLetterTopic(topic),
    async delete() {
      const a = await connectAdmin(brokers);
      try {
        await a.deleteTopics({ topics: [topic, deadLetterTopic(topic)] });
      } catch {
        // best effort: the broker deletes asynchronously
      } finally {
        await a.disconnect();
      }
    },
  };
}

/**
 * Produces `messages` (explicit partitions and Kafka timestamps, epoch milliseconds as decimal text,
 * allowed) with acks=all, to `brokers` (default the suite's broker).
 */
export async function produce(
  topic: string,
  messages: { key?: string | null; value: string; partition?: number; timestamp?: string }[],
  brokers: string[] = KAFKA_BROKERS,
): Promise<void> {
  const producer = createKafka(brokers, randomName('test-producer')).producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads every record of `topic` from the beginning until `count` arrived or `timeoutMs` passed. */
export async function readTopic(
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<{ key: string | null; value: string | null; headers: Record<string, string> }[]> {
  const consumer = createKafka(KAFKA_BROKERS, randomName('test-reader')).consumer({
    groupId: randomName('test-reader'),
  });
  const out: { key: string | null; value: string | null; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
      if (out.length >= count) done();
    },
  });
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  await consumer.disconnect();
  return out;
}

/** Polls `check` every `intervalMs` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- `last` is any thrown value, shown as String() prints it
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
