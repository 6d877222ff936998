/**
 * Redis key of a partition's live stats (`{ owner, recordsPerSecond, at }`
 * JSON, 30 s TTL), written by the worker that owns it and read by the `jobs`
 * query and the reset acknowledgement.
 */
export function partitionStatsKey(groupId: string, topic: string, partition: number): string {
  return `rt:ops:partition:${groupId}:${topic}:${partition}`;
}
