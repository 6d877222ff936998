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
  /** Records committed over about the last minute, and how many of them were dead-lettered as late or ahead. */
  lastMinute?: EventTimeCounts;
}

/** Records of a partition or a job over about the last minute (wall clock), and the ones whose event time was refused. */
export interface EventTimeCounts {
  records: number;
  /** Dead-lettered as `late`: every window containing their event time was already final. */
  late: number;
  /** Dead-lettered as `event-time-ahead`: a wrong clock. */
  ahead: number;
}

/** A share of refused event times worth an operator's look. */
export interface EventTimeWarning {
  /** `late` or `event-time-ahead`. */
  reason: 'late' | 'event-time-ahead';
  /** Records refused for this reason over the last minute. */
  records: number;
  /** Records committed over the last minute. */
  ofRecords: number;
}

/** Fewest refused records in a minute that warn, whatever the share: one late record of five is no trend. */
export const EVENT_TIME_WARNING_MIN_RECORDS = 10;

/**
 * The warnings of `counts` (a job's last minute): one per reason whose
 * records are at least {@link EVENT_TIME_WARNING_MIN_RECORDS} and more than
 * `percent` % of the records (EVENT_TIME_WARNING_PERCENT). Pure.
 */
export function eventTimeWarnings(counts: EventTimeCounts, percent: number): EventTimeWarning[] {
  const out: EventTimeWarning[] = [];
  for (const [reason, n] of [
    ['late', counts.late],
    ['event-time-ahead', counts.ahead],
  ] as const) {
    if (n >= EVENT_TIME_WARNING_MIN_RECORDS && n * 100 > percent * counts.records)
      out.push({ reason, records: n, ofRecords: counts.records });
  }
  return out;
}

/** The sum of several partitions' {@link EventTimeCounts}. */
export function sumEventTimeCounts(all: Iterable<EventTimeCounts | undefined>): EventTimeCounts {
  const sum = { records: 0, late: 0, ahead: 0 };
  for (const c of all) {
    if (!c) continue;
    sum.records += c.records;
    sum.late += c.late;
    sum.ahead += c.ahead;
  }
  return sum;
}

/**
 * Redis key of a partition's live stats ({@link PublishedPartitionStats}
 * JSON, 30 s TTL), written by the worker that owns it and read by the `jobs`
 * query and the reset acknowledgement.
 */
export function partitionStatsKey(groupId: string, topic: string, partition: number): string {
  return `rt:ops:partition:${groupId}:${topic}:${partition}`;
}
