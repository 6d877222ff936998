import type { IHeaders, Message, ProducerRecord } from 'kafkajs';
import { deadLetterTopic } from '../config/topics.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from '../ingest/kafka-client.js';
import type { DeadLetter, JobDefinition } from '../engine/job.js';

/** The one producer operation the sink needs (a kafkajs `Producer` has it). */
export interface DeadLetterProducer {
  send(record: ProducerRecord): Promise<unknown>;
}

/**
 * Fixed bytes of one record batch (Kafka's record batch format v2: base
 * offset, length, leader epoch, magic, CRC, attributes, last offset delta,
 * first and max timestamps, producer id and epoch, base sequence, record
 * count). The broker's limit (`max.message.bytes`) applies to a whole batch,
 * this header included.
 */
export const RECORD_BATCH_OVERHEAD_BYTES = 61;

/**
 * Most bytes one record adds to its key, value and header bytes in a v2
 * batch: its length, attributes, timestamp delta and offset delta, the key
 * and value lengths and the header count, each at its longest varint.
 */
const RECORD_OVERHEAD_BYTES = 36;

/** Most bytes one header adds to its key and value bytes: two varint lengths. */
const HEADER_OVERHEAD_BYTES = 10;

/**
 * Bytes kept free below the broker's limit in every produce request: room
 * for what kafkajs' encoding may add beyond the estimate. A few hundred bytes
 * of a megabyte cost nothing.
 */
const SAFETY_MARGIN_BYTES = 512;

/** Longest `dlq.detail` kept, characters: a reason's detail is a sentence, not a payload. */
const MAX_DETAIL_CHARS = 1_000;

/** Longest `dlq.source.key` kept whole, bytes; a longer key is cut and `dlq.source.key.size` says how long it was. */
const MAX_SOURCE_KEY_BYTES = 1_024;

/** Bytes of a header value (a string as UTF-8). */
function headerValueBytes(v: IHeaders[string]): number {
  if (v === undefined) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Buffer.isBuffer(v)) return v.length;
  return v.reduce((n, x) => n + headerValueBytes(x), 0);
}

function bytesOf(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/**
 * An upper bound of the bytes `message` takes in an uncompressed v2 record
 * batch: key, value, every header's key and value, and the most each adds
 * around them. Pure.
 */
export function recordBytes(message: Message): number {
  let n = RECORD_OVERHEAD_BYTES + bytesOf(message.key) + bytesOf(message.value);
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    n += HEADER_OVERHEAD_BYTES + Buffer.byteLength(k) + headerValueBytes(v);
  }
  return n;
}

/**
 * The bytes of records one produce request to the dead-letter topic may carry
 * when the broker accepts batches of at most `maxMessageBytes`: the limit less
 * a batch's fixed header and a safety margin. Every partition's batch in the
 * request is at most the request's records, so no batch exceeds the limit.
 */
export function recordBudgetBytes(maxMessageBytes: number): number {
  return Math.max(1_024, maxMessageBytes - RECORD_BATCH_OVERHEAD_BYTES - SAFETY_MARGIN_BYTES);
}

/**
 * `message` cut to fit `budgetBytes` ({@link recordBytes}): the value keeps its
 * first bytes, a source key longer than 1 KiB its first KiB, and headers say
 * so: `dlq.truncated` `true`, `dlq.original.size` (the value's bytes as read)
 * and, for a cut key, `dlq.source.key.size`. The message key and the
 * `dlq.source.*` position headers stay whole, so the record can still be found
 * in its source topic. The same message when it fits. Pure.
 */
export function truncatedToFit(message: Message, budgetBytes: number): Message {
  if (recordBytes(message) <= budgetBytes) return message;
  const headers: IHeaders = { ...message.headers };
  const key = headers['dlq.source.key'];
  if (Buffer.isBuffer(key) && key.length > MAX_SOURCE_KEY_BYTES) {
    headers['dlq.source.key'] = key.subarray(0, MAX_SOURCE_KEY_BYTES);
    headers['dlq.source.key.size'] = String(key.length);
  }
  const value =
    message.value === null ? null : Buffer.isBuffer(message.value) ? message.value : Buffer.from(message.value);
  headers['dlq.truncated'] = 'true';
  headers['dlq.original.size'] = String(value?.length ?? 0);
  const withoutValue = recordBytes({ key: message.key, value: null, headers });
  const room = Math.max(0, budgetBytes - withoutValue);
  return { key: message.key, value: value === null ? null : value.subarray(0, room), headers };
}

/**
 * Splits `messages` into runs, in order, whose {@link recordBytes} add up to
 * at most `budgetBytes` each (a message larger than that alone is a run of
 * its own: cut it first with {@link truncatedToFit}). Pure.
 */
export function chunksBySize(messages: readonly Message[], budgetBytes: number): Message[][] {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = recordBytes(m);
    if (chunk.length > 0 && bytes + size > budgetBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * The dead-letter records of `deadLetters` from `partition` of `job`'s topic:
 * value as read, key `<topic>:<partition>:<offset>` (the source position, so
 * consumers can de-duplicate a replay's re-send), headers `dlq.reason`,
 * `dlq.detail` (at most 1,000 characters), `dlq.job`,
 * `dlq.source.{topic,partition,offset,timestamp}` and `dlq.source.key` when
 * the record had a key. Pure.
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
      'dlq.detail': d.detail.length > MAX_DETAIL_CHARS ? d.detail.slice(0, MAX_DETAIL_CHARS) : d.detail,
      'dlq.job': job.name,
      'dlq.source.topic': job.topic,
      'dlq.source.partition': String(partition),
      'dlq.source.offset': d.record.offset.toString(),
      'dlq.source.timestamp': String(d.record.timestampMs),
      ...(d.record.key ? { 'dlq.source.key': d.record.key } : {}),
    },
  }));
}

/** Options of {@link DeadLetterSink}. */
export interface DeadLetterSinkOptions {
  /**
   * Largest record batch the broker accepts on the dead-letter topic, bytes
   * (the topic's `max.message.bytes`; see `maxMessageBytes` in
   * kafka-client.ts). {@link DeadLetterSink.setMaxMessageBytes} changes it
   * once it is read from the broker.
   * @default 1048588 (Kafka's default `message.max.bytes`)
   */
  maxMessageBytes?: number;
}

/**
 * Sends a job's dead letters to `<topic>.dlq` with acks=all. Called BEFORE the
 * batch transaction: a crash in between re-sends them on replay (the
 * dead-letter topic is at-least-once, keyed by source position) but never
 * loses one; the counters in `consumer_offset` are exact because they commit
 * with the position.
 *
 * A transaction of a partition that is behind may carry tens of thousands of
 * dead letters, megabytes in all, while the broker refuses a record batch
 * larger than the topic's `max.message.bytes` (1 MiB by default) and would
 * refuse the same request on every retry: the sink sends them in requests
 * below that limit, one after the other, and cuts a single record too large
 * to fit ({@link truncatedToFit}).
 */
export class DeadLetterSink {
  private readonly topic: string;
  private budgetBytes: number;

  constructor(
    private readonly producer: DeadLetterProducer,
    private readonly job: Pick<JobDefinition, 'name' | 'topic'>,
    opts: DeadLetterSinkOptions = {},
  ) {
    this.topic = deadLetterTopic(job.topic);
    this.budgetBytes = recordBudgetBytes(opts.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
  }

  /** The dead-letter topic's largest record batch, bytes, as read from the broker or set by the configuration. */
  setMaxMessageBytes(maxMessageBytes: number): void {
    this.budgetBytes = recordBudgetBytes(maxMessageBytes);
  }

  /**
   * Sends `deadLetters` (nothing when empty) in order, in as many requests as
   * the broker's limit needs. Rejects when the broker does not acknowledge
   * one of them (the requests before it stay sent: a replay sends them again).
   */
  async send(partition: number, deadLetters: readonly DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return;
    const budget = this.budgetBytes;
    const messages = deadLetterMessages(this.job, partition, deadLetters).map((m) => truncatedToFit(m, budget));
    for (const chunk of chunksBySize(messages, budget)) {
      await this.producer.send({ topic: this.topic, acks: -1, messages: chunk });
    }
  }
}
