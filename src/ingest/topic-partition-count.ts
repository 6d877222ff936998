import type { Logger } from 'pino';
import { createKafka } from './kafka-client.js';

/**
 * The number of partitions of `topic`, asked of the brokers at most once per
 * `ttlMs` (a short-lived admin connection each time, none kept open). Topics
 * only gain partitions, and rarely, so a few minutes of staleness is harmless.
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
  let cached: { count: number; at: number } | null = null;
  let inFlight: Promise<number> | null = null;
  const fetch = async (): Promise<number> => {
    const admin = createKafka(brokers, 'rt-analytics-partition-count', logger).admin({ retry: { retries: 2 } });
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]?.partitions.length ?? 0;
    } finally {
      // Best effort: the count is what the caller needs; a failed disconnect changes nothing for it.
      await admin.disconnect().catch(() => undefined);
    }
  };
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.count;
    inFlight ??= fetch()
      .then(
        (count) => {
          cached = { count, at: Date.now() };
          return count;
        },
        (err: unknown) => {
          if (cached) return cached.count;
          throw err;
        },
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
}
