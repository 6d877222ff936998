import type { Admin, Consumer, EachBatchPayload } from 'kafkajs';
import { partitionBounds } from '../ingest/kafka-client.js';
import type { ConsumerPort, FetchedBatch } from './consumer-port.js';

/** The {@link ConsumerPort} of a kafkajs consumer on `topic`, with `admin` for the offset bounds. */
export function kafkaConsumerPort(consumer: Consumer, admin: Admin, topic: string): ConsumerPort {
  return {
    seek: (partition, offset) => consumer.seek({ topic, partition, offset: offset.toString() }),
    pause: () => consumer.pause([{ topic }]),
    resume: () => consumer.resume([{ topic }]),
    commitOffsets: (offsets) =>
      consumer.commitOffsets(offsets.map((o) => ({ topic, partition: o.partition, offset: o.nextOffset.toString() }))),
    partitionBounds: () => partitionBounds(admin, topic),
  };
}

/** A kafkajs `eachBatch` payload as a {@link FetchedBatch}. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- kafkajs builds these as closures over the batch, not methods that read `this`
export function fetchedBatch({ batch, isStale, isRunning, heartbeat, resolveOffset }: EachBatchPayload): FetchedBatch {
  return {
    partition: batch.partition,
    highWatermark: batch.highWatermark,
    messages: batch.messages,
    lastOffset: () => batch.lastOffset(),
    isStale,
    isRunning,
    heartbeat,
    resolveOffset,
  };
}
