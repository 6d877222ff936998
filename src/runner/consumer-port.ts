/**
 * The few operations of a Kafka consumer (and its admin client) the runner's
 * logic needs, narrowed to one partitioned topic. The kafkajs implementation
 * is `kafkaConsumerPort`; unit tests use an in-memory fake,
 * so the exactly-once logic is tested without a broker. Offsets are bigint.
 */
export interface ConsumerPort {
  /** Moves the fetch position of `partition` to `offset` (applied before the next fetch). */
  seek(partition: number, offset: bigint): void;
  /** Stops fetching the topic (takes effect at the next fetch). */
  pause(): void;
  /** Fetches the topic again after {@link pause}. */
  resume(): void;
  /**
   * Commits the next offset of each partition to the consumer group in Kafka,
   * in one request, for standard lag tools only: the database holds the real
   * position.
   */
  commitOffsets(offsets: readonly { partition: number; nextOffset: bigint }[]): Promise<void>;
  /** Earliest and latest (high watermark) offset of each partition of the topic. */
  partitionBounds(): Promise<Map<number, OffsetBounds>>;
}

/** A partition's earliest offset and its latest (the high watermark). */
export interface OffsetBounds {
  earliest: bigint;
  latest: bigint;
}

/** One record of a {@link FetchedBatch}, as the Kafka client delivers it. */
export interface FetchedMessage {
  /** Decimal string (kafkajs' representation). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Kafka record timestamp, epoch milliseconds as a decimal string. */
  timestamp: string;
}

/** One fetched batch of one partition, with the controls of its fetch. */
export interface FetchedBatch {
  partition: number;
  /** The partition's high watermark at fetch time, decimal string. */
  highWatermark: string;
  messages: readonly FetchedMessage[];
  /** Offset of the batch's last record, decimal string. */
  lastOffset(): string;
  /** True when a seek or rebalance made this batch obsolete before it was handled. */
  isStale(): boolean;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** Tells the group coordinator this member is alive (a long batch must not cost the partition). */
  heartbeat(): Promise<void>;
  /** Marks offsets up to `offset` as handled, so the next fetch starts after it. */
  resolveOffset(offset: string): void;
}
