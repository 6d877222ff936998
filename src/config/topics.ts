import type { Config } from './config.js';

/** Partitions of every topic this service creates: enough for a few workers per consumer group. */
export const DEFAULT_PARTITIONS = 3;

/** The dead-letter topic of `topic`: `<topic>.dlq`. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** Every topic the service reads or writes, with its partition count. */
export function requiredTopics(
  config: Pick<Config, 'USER_BEHAVIOR_TOPIC' | 'RECHARGE_TOPIC' | 'PRODUCT_CLICKS_TOPIC'>,
): { topic: string; numPartitions: number }[] {
  const sources = [config.USER_BEHAVIOR_TOPIC, config.RECHARGE_TOPIC, config.PRODUCT_CLICKS_TOPIC];
  return sources.flatMap((topic) => [
    { topic, numPartitions: DEFAULT_PARTITIONS },
    { topic: deadLetterTopic(topic), numPartitions: DEFAULT_PARTITIONS },
  ]);
}
