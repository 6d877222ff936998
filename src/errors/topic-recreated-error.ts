import { AppError } from './app-error.js';

/** How the log was found not to be the stored one. */
export type TopicRecreatedEvidence =
  /** The log ends below the stored position: records this job counted are gone from it. */
  | 'log-shorter-than-position'
  /** The record at the stored fingerprint's offset has another timestamp, key or value. */
  | 'fingerprint-mismatch';

/**
 * The log a partition's committed position was read from is not the log the
 * topic holds now: the topic was deleted and created again (or its log was
 * truncated, as after an unclean leader election). Resuming at the stored
 * offset would skip every record of the new log below it, silently, so the
 * partition stops: nothing is processed and nothing is skipped until an
 * operator decides (resetConsumerOffsets to the new log's earliest offset, or
 * rebuildJob), or ON_TOPIC_RECREATED=earliest decides for them.
 *
 * Code: `TOPIC_RECREATED`. Offsets are Kafka offsets of the partition.
 */
export class TopicRecreatedError extends AppError {
  constructor(
    readonly groupId: string,
    readonly topic: string,
    readonly partition: number,
    /** The stored next offset. */
    readonly storedOffset: bigint,
    /** The log's earliest and latest (high watermark) offsets now. */
    readonly bounds: { earliest: bigint; latest: bigint },
    readonly evidence: TopicRecreatedEvidence,
    options?: { cause?: unknown },
  ) {
    super(
      'TOPIC_RECREATED',
      `partition ${topic}/${partition} of group ${groupId} is not the log its position was read from ` +
        `(${evidence === 'log-shorter-than-position' ? 'the log ends below the stored position' : 'the last committed record is not at its offset'}): ` +
        `stored offset ${storedOffset}, log offsets ${bounds.earliest}..${bounds.latest}. Nothing is processed or skipped until ` +
        'an operator runs resetConsumerOffsets to EARLIEST (count the new log from its start) or rebuildJob',
      options,
    );
  }
}
