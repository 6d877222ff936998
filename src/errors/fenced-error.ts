import { AppError } from './app-error.js';

/**
 * Another worker has claimed the partition since this one did (its epoch in
 * `consumer_offset` is higher): this worker's transaction must roll back and
 * it must forget the partition. A zombie never overwrites the new owner.
 */
export class FencedError extends AppError {
  constructor(
    readonly groupId: string,
    readonly topic: string,
    readonly partition: number,
    readonly epoch: number,
    options?: { cause?: unknown },
  ) {
    super(
      'PARTITION_FENCED',
      `partition ${topic}/${partition} of group ${groupId} was claimed by another worker (epoch ${epoch} is stale)`,
      options,
    );
  }
}
