import type { Config } from './config.js';

/** The dead-letter topic of `topic`: `<topic>.dlq`. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/**
 * Every topic the service reads or writes: the jobs' source topics (`sources`)
 * and a `<topic>.dlq` each, with the partition count they are created with when
 * missing (KAFKA_TOPIC_PARTITIONS); a topic that exists is used as it is,
 * whatever its count.
 */
export function requiredTopics(
  sources: readonly string[],
  config: Pick<Config, 'KAFKA_TOPIC_PARTITIONS'>,
): { topic: string; numPartitions: number }[] {
  const numPartitions = config.KAFKA_TOPIC_PARTITIONS;
  return sources.flatMap((topic) => [
    { topic, numPartitions },
    { topic: deadLetterTopic(topic), numPartitions },
  ]);
}
