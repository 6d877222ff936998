/** A record of a test or benchmark feed, with the partition it is produced to. */
export interface FeedRecord {
  key: string | null;
  value: string;
  partition: number;
}

/**
 * A job's feed for runs that must reproduce results exactly (fault tests):
 * which job, the variables naming its topic and consumer group, and the records
 * with explicit partitions. Each job module's `testing.ts` makes its own.
 */
export interface JobFeed {
  /** The job's name (a module's name). */
  name: string;
  /** Environment variables naming its topic and its consumer group. */
  topicVar: string;
  groupVar: string;
  /** Whether `done` also needs replay_from == next_offset (open windows). */
  windowed: boolean;
  /** The records, with explicit partitions. */
  feed: FeedRecord[];
}

/**
 * Gives every record an explicit partition: a stable hash of its key (FNV-1a),
 * or its index for a record without a key. Producing the same list to two
 * topics then gives both the same records at the same offsets of the same
 * partitions (kafkajs spreads keyless records at random otherwise).
 */
export function withPartitions<R extends { key: string | null }>(
  records: readonly R[],
  partitions = 3,
): (R & { partition: number })[] {
  return records.map((r, i) => {
    if (r.key === null) return { ...r, partition: i % partitions };
    let h = 0x811c9dc5;
    for (let c = 0; c < r.key.length; c++) h = Math.imul(h ^ r.key.charCodeAt(c), 0x01000193);
    return { ...r, partition: (h >>> 0) % partitions };
  });
}
