import type { Db, Tx } from './prisma-client.js';

/**
 * A consumer group's ordering row (`commit_order`, one per group, kept while
 * the group exists): what puts in one order the batch transactions of a job
 * whose partitions keep partition-local rows but publish each changed key's
 * TOTAL (the sum over every partition's row) with the commit.
 *
 * A transaction takes the row LAST, after its partition-local writes and
 * just before it reads the totals it publishes: every transaction of the
 * group that committed before is then in what it reads (READ COMMITTED, a
 * plain read), and none can commit before it, since each waits for the row.
 * So the published totals follow the commit order, each the total after its
 * commit, exactly as when every partition added to one row. Only that tail
 * (the read, the change log, the positions, the commit) is serial; the
 * writes before it never wait on another partition.
 */
export class CommitOrderStore {
  /** Groups whose row this process has seen: a plain UPDATE suffices for them. */
  private readonly known = new Set<string>();

  constructor(private readonly db: Db) {}

  /**
   * Inside a batch transaction, last before the reads of published totals:
   * takes the group's row (counting the commit), creating it first, in its
   * own statement outside the transaction, when it is missing: two
   * transactions inserting the same new key inside theirs could deadlock.
   * @throws the database's errors.
   */
  async take(tx: Tx, groupId: string): Promise<void> {
    if (!this.known.has(groupId)) {
      await this.db.$executeRaw`INSERT IGNORE INTO commit_order (group_id) VALUES (${groupId})`;
      this.known.add(groupId);
    }
    const n = await tx.$executeRaw`UPDATE commit_order SET commits = commits + 1 WHERE group_id = ${groupId}`;
    if (n === 0) {
      // Deleted by hand since this process saw it: made again before the transaction's next attempt.
      this.known.delete(groupId);
      throw new Error(`commit_order has no row for group ${groupId}: created again before the next attempt`);
    }
  }
}
