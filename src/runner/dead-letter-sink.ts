import type { Message, ProducerRecord } from 'kafkajs';
import { deadLetterTopic } from '../config/topics.js';
import type { DeadLetter, JobDefinition } from '../jobs/job.js';

/** The one producer operation the sink needs (a kafkajs `Producer` has it). */
export interface DeadLetterProducer {
  send(record: ProducerRecord): Promise<unknown>;
}

/**
 * The dead-letter records of `deadLetters` from `partition` of `job`'s topic:
 * value as read, key `<topic>:<partition>:<offset>` (the source position, so
 * consumers can de-duplicate a replay's re-send), headers `dlq.reason`,
 * `dlq.detail`, `dlq.job`, `dlq.source.{topic,partition,offset,timestamp}` and
 * `dlq.source.key` when the record had a key. Pure.
 */
export function deadLetterMessages(
  job: Pick<JobDefinition, 'name' | 'topic'>,
  partition: number,
  deadLetters: readonly DeadLetter[],
): Message[] {
  return deadLetters.map((d) => ({
    key: `${job.topic}:${partition}:${d.record.offset}`,
    value: d.record.value,
    headers: {
      'dlq.reason': d.reason,
      'dlq.detail': d.detail,
      'dlq.job': job.name,
      'dlq.source.topic': job.topic,
      'dlq.source.partition': String(partition),
      'dlq.source.offset': d.record.offset.toString(),
      'dlq.source.timestamp': String(d.record.timestampMs),
      ...(d.record.key ? { 'dlq.source.key': d.record.key } : {}),
    },
  }));
}

/**
 * Sends a job's dead letters to `<topic>.dlq` with acks=all. Called BEFORE the
 * batch transaction: a crash in between re-sends them on replay (the
 * dead-letter topic is at-least-once, keyed by source position) but never
 * loses one; the counters in `consumer_offset` are exact because they commit
 * with the position.
 */
export class DeadLetterSink {
  private readonly topic: string;

  constructor(
    private readonly producer: DeadLetterProducer,
    private readonly job: Pick<JobDefinition, 'name' | 'topic'>,
  ) {
    this.topic = deadLetterTopic(job.topic);
  }

  /** Sends `deadLetters` (nothing when empty). Rejects when the broker does not acknowledge them. */
  async send(partition: number, deadLetters: readonly DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return;
    const messages = deadLetterMessages(this.job, partition, deadLetters);
    await this.producer.send({ topic: this.topic, acks: -1, messages });
  }
}
