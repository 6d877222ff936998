import { AppError } from './app-error.js';

/** Why a bounded read of partitions did not finish. */
export type PartitionReadFailure =
  /** The read did not reach the end of every range within its time limit. */
  | 'timeout'
  /** The Kafka client failed (connection, group join, fetch) and gave up. */
  | 'kafka';

/**
 * A bounded read of a topic's partitions (offset ranges read once, outside
 * every job's consumer group) did not finish: nothing it was read for was
 * decided or changed. `unfinished` names each partition that had not reached
 * the end of its range, with the next offset it would have read.
 *
 * Code: `PARTITION_READ_FAILED`. Safe to retry once the cause is gone.
 */
export class PartitionReadError extends AppError {
  declare readonly code: 'PARTITION_READ_FAILED';

  constructor(
    readonly topic: string,
    readonly failure: PartitionReadFailure,
    /** Partitions whose range was not read to its end: partition -> next offset not read yet. */
    readonly unfinished: ReadonlyMap<number, bigint>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('PARTITION_READ_FAILED', message, options);
  }

  /** What a client is told beside the code: the failure and the unfinished partitions with their next offset (decimal strings). */
  get details(): Record<string, unknown> {
    return {
      topic: this.topic,
      failure: this.failure,
      unfinished: [...this.unfinished].map(([partition, next]) => ({ partition, nextOffset: next.toString() })),
    };
  }
}
