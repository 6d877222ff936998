/**
 * When a worker commits what its partitions of one job hold: the one commit
 * decision of the runner, pure (time passed in), after Kafka Streams'
 * `StreamThread.maybeCommit` (poll, process, punctuate, maybeCommit).
 *
 * A partition's processed results are held in memory until the commit. When
 * any owned partition's held results are due, ALL held results of the job's
 * partitions are committed together, in ONE transaction: the database's
 * transactions per second then follow the number of workers and the commit
 * interval, not the number of partitions.
 */

/** The commit settings, resolved once (milliseconds and records). */
export interface CommitPolicy {
  /**
   * Most records held by one partition before its results are due
   * (TRANSACTION_MAX_RECORDS). 0 or 1: each fetched batch is due at once.
   */
  transactionMaxRecords: number;
  /** Longest a partition that is behind holds its results, milliseconds from the first one held (TRANSACTION_MAX_DELAY_MS). */
  transactionMaxDelayMs: number;
  /**
   * Longest a partition that has caught up holds its results, milliseconds
   * from the first one held (COMMIT_INTERVAL_MS; Kafka Streams'
   * `commit.interval.ms`). 0: due at once.
   */
  commitIntervalMs: number;
}

/** What the decision needs to know of one partition's held results. */
export interface HeldResults {
  partition: number;
  /** Records processed into the held results. */
  records: number;
  /** Wall clock when the first of them was processed, epoch milliseconds. */
  sinceMs: number;
  /** More records are already in Kafka (the last fetch ended below the high watermark). */
  behind: boolean;
  /**
   * Due at once whatever the clock: the batch that ended a backlog (the last
   * records of a replay need not wait for a trickle that may not come) or a
   * result an idle tick produced (closed windows, a moved watermark).
   */
  urgent: boolean;
}

/** The outcome of {@link decideCommit}. */
export interface CommitDecision {
  /** Commit every held result now, in one transaction. */
  commitNow: boolean;
  /** When nothing is due yet: the wall clock at which the first held result becomes due, epoch milliseconds; null when nothing is held. */
  nextDueMs: number | null;
  /** Why it is due (for the debug log and the tests): the first partition found due and its rule. */
  reason: 'stopping' | 'per-batch' | 'max-records' | 'urgent' | 'max-delay' | 'commit-interval' | null;
}

/**
 * Whether the job's held results are due now.
 *
 * A partition's held results are due: at once while the worker is stopping,
 * with `transactionMaxRecords` <= 1, at `transactionMaxRecords` records, or
 * when {@link HeldResults.urgent}; else at `sinceMs + transactionMaxDelayMs`
 * while it is behind, at `sinceMs + commitIntervalMs` once caught up.
 * @param held the partitions holding results (the others are ignored).
 * @param nowMs wall clock, epoch milliseconds.
 */
export function decideCommit(
  held: readonly HeldResults[],
  nowMs: number,
  policy: CommitPolicy,
  stopping: boolean,
): CommitDecision {
  let nextDueMs: number | null = null;
  for (const h of held) {
    if (stopping) return { commitNow: true, nextDueMs: null, reason: 'stopping' };
    if (policy.transactionMaxRecords <= 1) return { commitNow: true, nextDueMs: null, reason: 'per-batch' };
    if (h.records >= policy.transactionMaxRecords) return { commitNow: true, nextDueMs: null, reason: 'max-records' };
    if (h.urgent) return { commitNow: true, nextDueMs: null, reason: 'urgent' };
    const dueMs = h.sinceMs + (h.behind ? policy.transactionMaxDelayMs : policy.commitIntervalMs);
    if (dueMs <= nowMs) return { commitNow: true, nextDueMs: null, reason: h.behind ? 'max-delay' : 'commit-interval' };
    nextDueMs = nextDueMs === null ? dueMs : Math.min(nextDueMs, dueMs);
  }
  return { commitNow: false, nextDueMs, reason: null };
}
