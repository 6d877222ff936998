import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { createKafka } from './kafka-client.js';

/**
 * The number of partitions of `topic`, asked of the brokers at most once per
 * `ttlMs` (a short-lived admin connection each time, none kept open; callers
 * asking while a read is in flight share it). Topics only gain partitions, and
 * rarely, so a few minutes of staleness is harmless, and when the brokers
 * cannot be reached the last count read is answered, however old (lru-cache's
 * `fetchMethod` with `allowStaleOnFetchRejection`).
 * @param ttlMs how long a count is reused, milliseconds. @default 300000 // 5 minutes
 * @returns a function resolving to the count; it rejects when the brokers
 *   cannot be reached and no count was read before.
 */
export function topicPartitionCount(
  brokers: string[],
  topic: string,
  logger?: Logger,
  ttlMs = 300_000,
): () => Promise<number> {
  const counts = new LRUCache<string, number>({
    max: 1,
    ttl: ttlMs,
    allowStaleOnFetchRejection: true,
    noDeleteOnFetchRejection: true,
    fetchMethod: async (name) => {
      const admin = createKafka(brokers, 'rt-analytics-partition-count', logger).admin({ retry: { retries: 2 } });
      await admin.connect();
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [name] });
        return meta.topics[0]?.partitions.length ?? 0;
      } finally {
        // Best effort: the count is what the caller needs; a failed disconnect changes nothing for it.
        await admin.disconnect().catch(() => undefined);
      }
    },
  });
  return async () => {
    const count = await counts.fetch(topic);
    if (count === undefined) throw new Error(`no partition count of ${topic}`);
    return count;
  };
}
