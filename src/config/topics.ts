import type { Config } from './config.js';

/** The dead-letter topic of `topic`: `<topic>.dlq`. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/**
 * Every topic the service reads or writes, with the partition count it is
 * created with when missing (KAFKA_TOPIC_PARTITIONS); a topic that exists is
 * used as it is, whatever its count.
 */
export function requiredTopics(
  config: Pick<Config, 'USER_BEHAVIOR_TOPIC' | 'RECHARGE_TOPIC' | 'PRODUCT_CLICKS_TOPIC' | 'KAFKA_TOPIC_PARTITIONS'>,
): { topic: string; numPartitions: number }[] {
  const sources = [config.USER_BEHAVIOR_TOPIC, config.RECHARGE_TOPIC, config.PRODUCT_CLICKS_TOPIC];
  const numPartitions = config.KAFKA_TOPIC_PARTITIONS;
  return sources.flatMap((topic) => [
    { topic, numPartitions },
    { topic: deadLetterTopic(topic), numPartitions },
  ]);
}
