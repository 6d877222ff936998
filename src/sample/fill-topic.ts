import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { AppError } from '../errors/app-error.js';
import { createKafka } from '../ingest/kafka-client.js';

/** One record to write: `key` picks the partition (murmur2, as the Java client), `null` spreads round-robin. */
export interface FillRecord {
  key: string | null;
  value: string;
}

/** Options of {@link fillTopic}. */
export interface FillTopicOptions {
  /** `host:port` list. Ignored when `kafka` is given. */
  brokers: string[];
  /** Topic to write; it should exist (else the broker's auto-creation, if on, makes it with its default partition count). */
  topic: string;
  /** Records, pulled lazily in batches: a generator of millions is fine. */
  records: Iterable<FillRecord>;
  /** Messages per `send` call. @default 5000 */
  batchSize?: number;
  /** `send` calls awaiting acks at once. @default 4 */
  maxInFlight?: number;
  /** @default CompressionTypes.None (Snappy works too: `createKafka` registers its codec) */
  compression?: CompressionTypes;
  /** Called after each batch is acknowledged, with the records acknowledged so far and MILLISECONDS since the start. */
  onProgress?: (progress: FillTopicResult) => void;
  /** A client to reuse (its retry and log settings apply). @default createKafka(brokers, 'rt-analytics-fill-topic') */
  kafka?: Kafka;
}

/** What {@link fillTopic} wrote. */
export interface FillTopicResult {
  /** Records acknowledged by all in-sync replicas. */
  count: number;
  /** Wall time from connecting to the last ack, MILLISECONDS. */
  ms: number;
}

/**
 * Writes `records` to `topic` as fast as the broker takes them: batches of
 * `batchSize`, up to `maxInFlight` batches awaiting acks, `acks: -1` (all
 * in-sync replicas), no compression unless asked. For the benchmark, the
 * tests and sample data; the live sample producer paces itself instead
 * (`scripts/produce.ts`). Batches in flight together may land out of order
 * only if a send is retried.
 *
 * @returns records acknowledged and the elapsed MILLISECONDS.
 * @throws {AppError} code `KAFKA_PRODUCE_FAILED` when connecting or a send
 *   fails after the client's retries (`cause` holds the kafkajs error); the
 *   records of batches acknowledged before stay written.
 */
export async function fillTopic(options: FillTopicOptions): Promise<FillTopicResult> {
  const { topic, records, onProgress } = options;
  const batchSize = options.batchSize ?? 5000;
  const maxInFlight = options.maxInFlight ?? 4;
  const compression = options.compression ?? CompressionTypes.None;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new AppError('INVALID_OPTION', `fillTopic batchSize: expected an integer >= 1, got ${batchSize}`);
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
    throw new AppError('INVALID_OPTION', `fillTopic maxInFlight: expected an integer >= 1, got ${maxInFlight}`);

  const kafka = options.kafka ?? createKafka(options.brokers, 'rt-analytics-fill-topic');
  // DefaultPartitioner is what kafkajs uses anyway; naming it silences its v2 warning.
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const started = performance.now();
  let count = 0;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();

  const launch = async (messages: Message[]): Promise<void> => {
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (failure !== undefined) return;
    const sending: Promise<void> = producer
      .send({ topic, messages, acks: -1, compression })
      .then(
        () => {
          count += messages.length;
          onProgress?.({ count, ms: performance.now() - started });
        },
        (err: unknown) => {
          failure ??= err;
        },
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  try {
    await producer.connect();
    let batch: Message[] = [];
    for (const r of records) {
      batch.push({ key: r.key, value: r.value });
      if (batch.length >= batchSize) {
        await launch(batch);
        if (failure !== undefined) break;
        batch = [];
      }
    }
    if (batch.length > 0 && failure === undefined) await launch(batch);
    await Promise.all(inFlight);
  } catch (err) {
    failure ??= err;
  } finally {
    await Promise.all(inFlight);
    await producer.disconnect().catch(() => undefined); // best effort: the records' outcome is already known
  }
  if (failure !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- `failure` is any thrown value; a non-Error one is shown as String() prints it
    const why = failure instanceof Error ? failure.message : String(failure);
    throw new AppError(
      'KAFKA_PRODUCE_FAILED',
      `could not write to topic ${topic} (${count} records written before): ${why}`,
      { cause: failure },
    );
  }
  return { count, ms: performance.now() - started };
}
