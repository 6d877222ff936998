/**
 * A FAILING partition's failure as published with its live stats: a stable
 * `code` (`MYSQL_<errno>`, a Prisma or application code), the message, when
 * the run of failures began (epoch milliseconds) and how many consecutive
 * attempts failed with that code.
 */
export interface PublishedPartitionFailure {
  code: string;
  message: string;
  sinceMs: number;
  attempts: number;
}

/** A partition's live stats as stored under {@link partitionStatsKey}. */
export interface PublishedPartitionStats {
  owner: string | null;
  recordsPerSecond: number;
  /** When published, epoch milliseconds. */
  at: number;
  /** Present while the partition is FAILING. */
  failure?: PublishedPartitionFailure;
}

/**
 * Redis key of a partition's live stats ({@link PublishedPartitionStats}
 * JSON, 30 s TTL), written by the worker that owns it and read by the `jobs`
 * query and the reset acknowledgement.
 */
export function partitionStatsKey(groupId: string, topic: string, partition: number): string {
  return `rt:ops:partition:${groupId}:${topic}:${partition}`;
}
