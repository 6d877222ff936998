import { Prisma } from '../generated/prisma/client.js';
import { encodeBatchSuffix, encodePos } from './change-log-position.js';
import type { Db, Tx } from './prisma-client.js';

/** Kind of a change-log entry: each job module names its own (e.g. `abnormal-user-detected`). */
export type ChangeKind = string;

/**
 * Partition of job-wide entries, which belong to no Kafka partition (a
 * ranking boundary of the whole job, a change an API mutation made).
 */
export const JOB_WIDE_PARTITION = -1;

/** One change as a job appends it; `payload` is stored as JSON. */
export interface ChangeEntry {
  kind: ChangeKind;
  payload: unknown;
}

/** A change as read back, in position order per partition. */
export interface ChangeRow {
  partition: number;
  /** Encoded position (48 hex digits). */
  pos: string;
  kind: ChangeKind;
  payload: unknown;
  /** When the batch transaction wrote it, epoch milliseconds. */
  committedAtMs: number;
}

/** The batch a job appends changes for. */
export interface BatchRef {
  /** Consumer group of the job: the log's stream. */
  stream: string;
  topic: string;
  partition: number;
  /** The partition's next offset committed with this batch. */
  batchOffset: bigint;
  /** The watermark committed with this batch, epoch milliseconds; null: none yet. */
  batchWatermarkMs: number | null;
}

/** Rows per INSERT statement (one JSON parameter each): a batch rarely has more. */
const CHUNK = 2_000;
/** Rows per DELETE statement of the pruning: short statements, short locks. */
const PRUNE_BATCH = 1_000;

interface Row {
  // A raw query's row is not checked against this type: Number() takes whichever integer type the driver returns.
  partition: number | bigint;
  pos: string;
  kind: string;
  payload: unknown;
  committed_at: Date;
}

const toRow = (r: Row): ChangeRow => ({
  partition: Number(r.partition),
  pos: r.pos,
  kind: r.kind,
  // MariaDB's JSON is LONGTEXT (a string); MySQL 8 gives the parsed value.
  payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
  committedAtMs: r.committed_at.getTime(),
});

/**
 * The subscriptions' change log (table `change_log`): appended by the jobs in
 * their batch transactions, read by the API processes' tailers by position,
 * pruned by age by the workers.
 */
export class ChangeLogStore {
  constructor(private readonly db: Db) {}

  /**
   * Appends the changes of the batches one transaction commits (of one
   * partition or several, one stream and topic), after their partitions'
   * `consumer_offset` rows were locked: ONE multi-row `INSERT IGNORE ...
   * SELECT` (per {@link CHUNK} rows), the changes passed as one JSON
   * parameter unpacked by JSON_TABLE, each partition's epoch read from its
   * row in the same statement. The position is the primary key: a replay of
   * the same batch adds nothing.
   */
  async appendMany(tx: Tx, batches: readonly { batch: BatchRef; entries: readonly ChangeEntry[] }[]): Promise<void> {
    const rows: [number, string, string, number, string, string, string][] = [];
    for (const { batch, entries } of batches) {
      const wm = batch.batchWatermarkMs === null ? 0 : Math.max(0, batch.batchWatermarkMs);
      entries.forEach((e, seq) =>
        rows.push([
          batch.partition,
          encodeBatchSuffix(batch.batchOffset, wm, seq),
          batch.batchOffset.toString(),
          seq,
          String(wm),
          e.kind,
          JSON.stringify(e.payload),
        ]),
      );
    }
    if (rows.length === 0) return;
    const { stream, topic } = batches[0].batch;
    // Named once more as a list: the statement reads (and, as an INSERT ... SELECT, share-locks) exactly
    // these partitions' rows, never a range of the group's rows that another worker holds (a deadlock).
    const partitions = [...new Set(batches.map((b) => b.batch.partition))];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = JSON.stringify(rows.slice(i, i + CHUNK));
      await tx.$executeRaw`INSERT IGNORE INTO change_log (stream, \`partition\`, pos, epoch, batch_offset, batch_watermark_ms, seq, kind, payload, committed_at)
        SELECT co.group_id, co.\`partition\`, CONCAT(LPAD(LOWER(HEX(co.epoch)), 8, '0'), j.suffix), co.epoch, j.batch_offset, j.wm, j.seq, j.kind, j.payload, UTC_TIMESTAMP(3)
        FROM JSON_TABLE(${chunk}, '$[*]' COLUMNS (
          p INT PATH '$[0]',
          suffix VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[1]',
          batch_offset BIGINT PATH '$[2]',
          seq INT PATH '$[3]',
          wm BIGINT PATH '$[4]',
          kind VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[5]',
          payload LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[6]'
        )) AS j
        JOIN consumer_offset co FORCE INDEX (PRIMARY) ON co.group_id = ${stream} AND co.topic = ${topic} AND co.\`partition\` = j.p
          AND co.\`partition\` IN (${Prisma.join(partitions)})
        ORDER BY j.p, j.seq`;
    }
  }

  /**
   * Appends one job-wide change (partition -1, epoch 0) at `positionMs` (e.g.
   * a ranking boundary, epoch milliseconds), inside `tx`; INSERT IGNORE, so
   * claiming the same boundary twice adds nothing.
   */
  async appendJobWide(tx: Tx, stream: string, positionMs: number, entry: ChangeEntry): Promise<void> {
    const pos = encodePos({ epoch: 0, batchOffset: 0n, batchWatermarkMs: positionMs, seq: 0 });
    await tx.$executeRaw`INSERT IGNORE INTO change_log (stream, \`partition\`, pos, epoch, batch_offset, batch_watermark_ms, seq, kind, payload, committed_at)
      VALUES (${stream}, ${JOB_WIDE_PARTITION}, ${pos}, 0, 0, ${positionMs}, 0, ${entry.kind}, ${JSON.stringify(entry.payload)}, UTC_TIMESTAMP(3))`;
  }

  /**
   * Appends `entries` to `partition` of `stream` as the next batch of a
   * partition no Kafka partition orders (status changes), inside `tx`: the
   * batch number comes from `change_log_counter`, whose row this locks until
   * `tx` ends, so batches get positions in the order their transactions
   * commit (epoch 0, batch offset = the number, watermark 0, seq = the
   * entry's index) and a reader never sees a later position before an
   * earlier one. Call it last in `tx`: the row serialises every such writer.
   */
  async appendSequenced(tx: Tx, stream: string, partition: number, entries: readonly ChangeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await tx.$executeRaw`INSERT INTO change_log_counter (stream, \`partition\`, last_batch) VALUES (${stream}, ${partition}, 1)
      ON DUPLICATE KEY UPDATE last_batch = last_batch + 1`;
    const [counter] = await tx.$queryRaw<
      { last_batch: bigint | number }[]
    >`SELECT last_batch FROM change_log_counter WHERE stream = ${stream} AND \`partition\` = ${partition}`;
    const batch = BigInt(counter.last_batch);
    const values = entries.map(
      (e, seq) =>
        Prisma.sql`(${stream}, ${partition}, ${encodePos({ epoch: 0, batchOffset: batch, batchWatermarkMs: 0, seq })}, 0, ${batch}, 0, ${seq}, ${e.kind}, ${JSON.stringify(e.payload)}, UTC_TIMESTAMP(3))`,
    );
    for (let i = 0; i < values.length; i += CHUNK)
      await tx.$executeRaw`INSERT INTO change_log (stream, \`partition\`, pos, epoch, batch_offset, batch_watermark_ms, seq, kind, payload, committed_at)
        VALUES ${Prisma.join(values.slice(i, i + CHUNK))}`;
  }

  /**
   * Up to `limit` changes of each partition of `stream` after its position in
   * `after` (partitions not in it from their first change), each partition's
   * in position order: one primary-key range scan per partition.
   */
  async readEachAfter(stream: string, after: ReadonlyMap<number, string>, limit: number): Promise<ChangeRow[]> {
    const partitions = new Set([...(await this.heads(stream)).keys()]);
    if (partitions.size === 0) return [];
    const reads = [...partitions]
      .sort((a, b) => a - b)
      .map(
        (p) =>
          Prisma.sql`(SELECT \`partition\`, pos, kind, payload, committed_at FROM change_log
            WHERE stream = ${stream} AND \`partition\` = ${p} AND pos > ${after.get(p) ?? ''} ORDER BY pos LIMIT ${limit})`,
      );
    const rows = await this.db.$queryRaw<Row[]>`${Prisma.join(reads, ' UNION ALL ')}`;
    return rows.map(toRow).sort((a, b) => a.partition - b.partition || (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0));
  }

  /**
   * Up to `limit` changes of `stream` after `after` (per partition; partitions
   * not in it from their first change), ordered by partition then position.
   * One range scan per known partition on the primary key.
   */
  async readAfter(
    stream: string,
    after: ReadonlyMap<number, string>,
    limit: number,
    tx: Tx | Db = this.db,
  ): Promise<ChangeRow[]> {
    const known = [...after.keys()];
    const ranges = [...after].map(([p, pos]) => Prisma.sql`(\`partition\` = ${p} AND pos > ${pos})`);
    if (known.length > 0) ranges.push(Prisma.sql`\`partition\` NOT IN (${Prisma.join(known)})`);
    const where = ranges.length > 0 ? Prisma.sql`AND (${Prisma.join(ranges, ' OR ')})` : Prisma.empty;
    const rows = await tx.$queryRaw<Row[]>`SELECT \`partition\`, pos, kind, payload, committed_at FROM change_log
      WHERE stream = ${stream} ${where} ORDER BY \`partition\`, pos LIMIT ${limit}`;
    return rows.map(toRow);
  }

  /** Per partition, the position of the newest change of `stream` (its log head). */
  async heads(stream: string, tx: Tx | Db = this.db): Promise<Map<number, string>> {
    const rows = await tx.$queryRaw<
      { partition: number | bigint; pos: string }[]
    >`SELECT \`partition\`, MAX(pos) AS pos FROM change_log
      WHERE stream = ${stream} GROUP BY \`partition\``;
    return new Map(rows.map((r) => [Number(r.partition), r.pos]));
  }

  /** Per partition, the position pruning deleted through (changes at or before it are gone). */
  async prunedThrough(stream: string): Promise<Map<number, string>> {
    const rows = await this.db.$queryRaw<
      { partition: number | bigint; pruned_through: string }[]
    >`SELECT \`partition\`, pruned_through FROM change_log_pruned
      WHERE stream = ${stream}`;
    return new Map(rows.map((r) => [Number(r.partition), r.pruned_through]));
  }

  /**
   * Deletes the changes of `streams` older than `retentionSeconds`, per
   * partition through the newest such position, in statements of at most
   * {@link PRUNE_BATCH} rows. The partition's pruned-through mark is raised
   * BEFORE its rows go, so a reader never misses a change without being told
   * (CURSOR_EXPIRED).
   * @returns the rows deleted.
   */
  async prune(streams: readonly string[], retentionSeconds: number): Promise<number> {
    if (streams.length === 0) return 0;
    const due = await this.db.$queryRaw<
      { stream: string; partition: number; pos: string }[]
    >`SELECT stream, \`partition\`, MAX(pos) AS pos FROM change_log
      WHERE committed_at < UTC_TIMESTAMP(3) - INTERVAL ${retentionSeconds} SECOND AND stream IN (${Prisma.join(streams)})
      GROUP BY stream, \`partition\``;
    let deleted = 0;
    for (const { stream, partition, pos } of due) {
      await this.db.$executeRaw`INSERT INTO change_log_pruned (stream, \`partition\`, pruned_through, pruned_at)
        VALUES (${stream}, ${partition}, ${pos}, UTC_TIMESTAMP(3))
        ON DUPLICATE KEY UPDATE pruned_through = GREATEST(pruned_through, VALUES(pruned_through)), pruned_at = VALUES(pruned_at)`;
      for (;;) {
        const n = await this.db
          .$executeRaw`DELETE FROM change_log WHERE stream = ${stream} AND \`partition\` = ${partition} AND pos <= ${pos}
          ORDER BY pos LIMIT ${PRUNE_BATCH}`;
        deleted += n;
        if (n < PRUNE_BATCH) break;
      }
    }
    return deleted;
  }
}
