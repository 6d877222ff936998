import { Prisma } from '../generated/prisma/client.js';
import { WindowSpecChangedError } from '../errors/window-spec-changed-error.js';
import { windowSpecChanges, type PositionWindowSpec } from '../stream/window-spec.js';
import type { Db, Tx } from './prisma-client.js';

/** A partition's committed position, as stored in `consumer_offset`. */
export interface PartitionPosition {
  groupId: string;
  topic: string;
  partition: number;
  /** Next offset to process; -1n when the group never committed this partition. */
  nextOffset: bigint;
  /** First offset to read on assignment (replay of open windows); <= nextOffset. */
  replayFrom: bigint;
  /** Watermark in epoch milliseconds, or null. */
  watermarkMs: number | null;
  /** This owner's fencing token. */
  epoch: number;
  lostToRetention: bigint;
}

/**
 * What identifies the log a position was read from: one record of it (the
 * last one committed), by offset, Kafka timestamp (epoch milliseconds) and
 * the first 64 bits of SHA-256 over its key and value (signed, as stored).
 */
export interface LogFingerprint {
  offset: bigint;
  timestampMs: number;
  hash: bigint;
}

/** What a batch commit writes besides the results. */
export interface PositionUpdate {
  nextOffset: bigint;
  replayFrom: bigint;
  watermarkMs: number | null;
  /** Late records in this batch (added to the counter). */
  lateRecords?: number;
  /** Records sent to the dead-letter topic in this batch (added to the counter). */
  deadLettered?: number;
  /** The last record processed, stored to tell this log from another at the next claim; null keeps the stored one. */
  fingerprint?: LogFingerprint | null;
  /** Records of this batch dead-lettered because they were beyond the de-duplication horizon (added to the counter). */
  beyondDedupHorizon?: number;
  /** Records of this batch dead-lettered because their event time was too far ahead (added to the counter). */
  eventTimeAhead?: number;
}

interface Row {
  next_offset: bigint | number;
  replay_from: bigint | number;
  watermark_ms: bigint | null;
  epoch: number | bigint;
  lost_to_retention: bigint | number;
  window_size_ms: bigint | null;
  window_advance_ms: bigint | null;
  grace_ms: bigint | null;
  last_offset: bigint | number | null;
  last_timestamp_ms: bigint | number | null;
  last_record_hash: bigint | number | null;
}

/** What a claim found besides the position (see {@link OffsetStore.claim}). */
export interface ClaimOutcome {
  /** The stored last record, when the log still holds its offset: the caller checks the record there. */
  verify: LogFingerprint | null;
  /** The log ends below the stored position (`storedOffset`): the position was left as it is and marked. */
  logShorter: { storedOffset: bigint } | null;
}

/** The audit identity of moves the service makes by itself (ON_TOPIC_RECREATED=earliest). */
const SYSTEM_ACTOR = { role: 'system', keyId: 'config' } as const;

const msOrNull = (v: bigint | null): number | null => (v === null ? null : Number(v));
const bigOrNull = (v: number | null): bigint | null => (v === null ? null : BigInt(v));

/** The stored position of `row` as it is (no bounds applied), with its epoch. */
function positionOf(groupId: string, topic: string, partition: number, row: Row): PartitionPosition {
  return {
    groupId,
    topic,
    partition,
    nextOffset: BigInt(row.next_offset),
    replayFrom: BigInt(row.replay_from),
    watermarkMs: row.watermark_ms === null ? null : Number(row.watermark_ms),
    epoch: Number(row.epoch),
    lostToRetention: BigInt(row.lost_to_retention),
  };
}

/** One partition's watermark set back by {@link OffsetStore.setWatermarks}. */
export interface WatermarkSetBack {
  partition: number;
  /** The watermark before, epoch milliseconds. */
  beforeMs: number;
  /** The watermark after, epoch milliseconds (earlier than before). */
  afterMs: number;
  replayFromBefore: bigint;
  /** Equal to `replayFromBefore` unless the repair moved it forward. */
  replayFromAfter: bigint;
}

/**
 * The per group/partition offset rows that make processing exactly-once:
 * results and positions are written in one transaction, and an epoch fences
 * off a previous owner that is still running after a rebalance.
 */
export class OffsetStore {
  constructor(private readonly db: Db) {}

  /**
   * Takes ownership of a partition: bumps its epoch (creating the row if the
   * group never committed it) and checks the stored position against the
   * partition's `earliest` and `latest` offsets:
   * - below earliest (retention deleted records): start at earliest and add
   *   the records never processed to `lost_to_retention`;
   * - above latest: the log ends below what this group already read, so it is
   *   not the log the position was read from (the topic was recreated, or
   *   truncated). The position is left as it is, `topic_recreated_at` is set
   *   and `logShorter` says so: the caller stops the partition, or moves it
   *   ({@link restartRecreated}).
   * - otherwise, when the last committed record's offset is still in the log,
   *   `verify` returns its fingerprint: the caller reads that record and
   *   compares, since a recreated log that grew past the stored offset
   *   passes every offset check.
   *
   * With `windowSpec` (the job's window size, advance and grace, milliseconds)
   * the claim also checks the specification the stored position was computed
   * under (`window_size_ms`, `window_advance_ms`, `grace_ms`) and records the
   * configured one: a row with a position and another recorded specification
   * is refused, the transaction rolls back and nothing changes.
   * @returns the position to resume from, with this owner's epoch.
   * @throws {WindowSpecChangedError} code `WINDOW_SPEC_CHANGED` when the stored position was computed under another specification.
   */
  async claim(
    groupId: string,
    topic: string,
    partition: number,
    bounds: { earliest: bigint; latest: bigint },
    owner = '',
    windowSpec?: PositionWindowSpec,
  ): Promise<PartitionPosition & { lostNow: bigint } & ClaimOutcome> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO consumer_offset (group_id, topic, \`partition\`, next_offset, replay_from, epoch, owner)
        VALUES (${groupId}, ${topic}, ${partition}, -1, -1, 1, ${owner})
        ON DUPLICATE KEY UPDATE epoch = epoch + 1, owner = VALUES(owner)`;
      const [row] = await tx.$queryRaw<Row[]>`SELECT next_offset, replay_from, watermark_ms, epoch, lost_to_retention,
        window_size_ms, window_advance_ms, grace_ms, last_offset, last_timestamp_ms, last_record_hash
        FROM consumer_offset WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition} FOR UPDATE`;
      if (windowSpec && BigInt(row.next_offset) >= 0n) {
        const stored = {
          sizeMs: msOrNull(row.window_size_ms),
          advanceMs: msOrNull(row.window_advance_ms),
          graceMs: msOrNull(row.grace_ms),
        };
        const changes = windowSpecChanges(stored, windowSpec);
        if (changes.length > 0)
          throw new WindowSpecChangedError(groupId, topic, partition, changes, { settings: windowSpec.settings });
      }
      let nextOffset = BigInt(row.next_offset);
      let replayFrom = BigInt(row.replay_from);
      let lostNow = 0n;
      if (nextOffset < 0n) {
        nextOffset = bounds.earliest;
        replayFrom = bounds.earliest;
      }
      if (nextOffset < bounds.earliest) {
        lostNow = bounds.earliest - nextOffset;
        nextOffset = bounds.earliest;
      }
      if (replayFrom < bounds.earliest) replayFrom = bounds.earliest;
      if (nextOffset > bounds.latest) {
        await this.markRecreatedIn(tx, groupId, topic, partition);
        return {
          ...positionOf(groupId, topic, partition, row),
          lostNow: 0n,
          verify: null,
          logShorter: { storedOffset: nextOffset },
        };
      }
      if (replayFrom > nextOffset) replayFrom = nextOffset;
      const lostToRetention = BigInt(row.lost_to_retention) + lostNow;
      await tx.$executeRaw`UPDATE consumer_offset SET next_offset = ${nextOffset}, replay_from = ${replayFrom},
        lost_to_retention = ${lostToRetention}, updated_at = NOW(3)
        WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
      const lastOffset = row.last_offset === null ? null : BigInt(row.last_offset);
      const verify: LogFingerprint | null =
        lastOffset !== null &&
        row.last_timestamp_ms !== null &&
        row.last_record_hash !== null &&
        lastOffset >= bounds.earliest &&
        lastOffset < bounds.latest
          ? { offset: lastOffset, timestampMs: Number(row.last_timestamp_ms), hash: BigInt(row.last_record_hash) }
          : null;
      if (windowSpec) {
        // From here on the position advances under this specification (a claim fences every older owner).
        await tx.$executeRaw`UPDATE consumer_offset SET window_size_ms = ${bigOrNull(windowSpec.sizeMs)},
          window_advance_ms = ${bigOrNull(windowSpec.advanceMs)}, grace_ms = ${bigOrNull(windowSpec.graceMs)}
          WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
      }
      return {
        groupId,
        topic,
        partition,
        nextOffset,
        replayFrom,
        watermarkMs: row.watermark_ms === null ? null : Number(row.watermark_ms),
        epoch: Number(row.epoch),
        lostToRetention,
        lostNow,
        verify,
        logShorter: null,
      };
    });
  }

  /**
   * Records that a worker found the partition's log not to be the one its
   * position was read from (`topic_recreated_at`, shown to operators; a reset
   * or rebuild clears it). Outside any batch transaction.
   */
  async markRecreated(groupId: string, topic: string, partition: number): Promise<void> {
    await this.markRecreatedIn(this.db, groupId, topic, partition);
  }

  private async markRecreatedIn(db: Db | Tx, groupId: string, topic: string, partition: number): Promise<void> {
    await db.$executeRaw`UPDATE consumer_offset SET topic_recreated_at = NOW(3)
      WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
  }

  /**
   * Moves a partition found reading a recreated topic to `earliest` of the new
   * log, inside `tx`, as the service's own decision (ON_TOPIC_RECREATED=earliest):
   * marked recreated first, so the move counts nothing as skipped, then
   * {@link moveTo} audited as mode `TOPIC_RECREATED`, role `system`, key id
   * `config` (the watermark kept, as a reset keeps it; the epoch bumped, so the
   * caller claims the partition again).
   */
  async restartRecreated(tx: Tx, groupId: string, topic: string, partition: number, earliest: bigint): Promise<void> {
    await this.markRecreatedIn(tx, groupId, topic, partition);
    await this.moveTo(tx, groupId, topic, new Map([[partition, earliest]]), {
      mode: 'TOPIC_RECREATED',
      ...SYSTEM_ACTOR,
    });
  }

  /**
   * Locks the rows of `partitions` inside `tx`, in primary-key order (one
   * statement), and returns each one's stored epoch; a partition without a
   * row is missing from the map. Call first in a batch transaction carrying
   * several partitions: the caller leaves out those whose epoch moved.
   *
   * The primary key is forced, so the statement reads (and locks) the listed
   * rows only: with the list naming about half the group's partitions (two
   * workers), MariaDB 10.11's optimizer chose a `ref` scan of the whole
   * (group, topic) prefix and waited for the other worker's rows, and the two
   * workers deadlocked.
   */
  async lockMany(tx: Tx, groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
    if (partitions.length === 0) return new Map();
    const rows = await tx.$queryRaw<
      { partition: number | bigint; epoch: number | bigint }[]
    >`SELECT \`partition\`, epoch
      FROM consumer_offset FORCE INDEX (PRIMARY)
      WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` IN (${Prisma.join(partitions)})
      ORDER BY \`partition\` FOR UPDATE`;
    return new Map(rows.map((r) => [Number(r.partition), Number(r.epoch)]));
  }

  /**
   * Writes the positions several partitions reached, inside the batch
   * transaction (after {@link lockMany}): ONE statement for all of them, the
   * updates as one JSON parameter unpacked by JSON_TABLE (offsets and hashes
   * as decimal strings: exact beyond 2^53). The partitions are also named as a
   * list, so the statement locks exactly their rows: joined on the group's
   * key prefix alone, MariaDB scanned (and locked) every partition of the
   * group, those another worker holds included, and two workers deadlocked.
   * The index is forced for the same reason: with the list naming half the
   * group's partitions, MariaDB's optimizer chose a `ref` scan of the whole
   * (group, topic) prefix over the list's ranges, and waited for the rows of
   * partitions another worker holds (measured on MariaDB 10.11).
   */
  async advanceMany(
    tx: Tx,
    groupId: string,
    topic: string,
    updates: readonly (PositionUpdate & { partition: number })[],
  ): Promise<void> {
    if (updates.length === 0) return;
    const rows = JSON.stringify(
      updates.map((u) => {
        const fp = u.fingerprint ?? null;
        return [
          u.partition,
          u.nextOffset.toString(),
          u.replayFrom.toString(),
          u.watermarkMs === null ? null : String(u.watermarkMs),
          u.lateRecords ?? 0,
          u.deadLettered ?? 0,
          u.beyondDedupHorizon ?? 0,
          u.eventTimeAhead ?? 0,
          fp === null ? null : fp.offset.toString(),
          fp === null ? null : String(fp.timestampMs),
          fp === null ? null : fp.hash.toString(),
        ];
      }),
    );
    await tx.$executeRaw`UPDATE consumer_offset co FORCE INDEX (PRIMARY) JOIN JSON_TABLE(${rows}, '$[*]' COLUMNS (p INT PATH '$[0]',
        next_offset BIGINT PATH '$[1]', replay_from BIGINT PATH '$[2]', watermark_ms BIGINT PATH '$[3]',
        late INT PATH '$[4]', dead INT PATH '$[5]', beyond INT PATH '$[6]', ahead INT PATH '$[7]',
        last_offset BIGINT PATH '$[8]', last_timestamp_ms BIGINT PATH '$[9]', last_record_hash BIGINT PATH '$[10]')) AS j
        ON co.\`partition\` = j.p
      SET co.next_offset = j.next_offset, co.replay_from = j.replay_from, co.watermark_ms = j.watermark_ms,
        co.late_records = co.late_records + j.late, co.dead_lettered = co.dead_lettered + j.dead,
        co.beyond_dedup_horizon = co.beyond_dedup_horizon + j.beyond, co.event_time_ahead = co.event_time_ahead + j.ahead,
        co.last_offset = COALESCE(j.last_offset, co.last_offset),
        co.last_timestamp_ms = COALESCE(j.last_timestamp_ms, co.last_timestamp_ms),
        co.last_record_hash = COALESCE(j.last_record_hash, co.last_record_hash),
        co.updated_at = NOW(3)
      WHERE co.group_id = ${groupId} AND co.topic = ${topic}
        AND co.\`partition\` IN (${Prisma.join(updates.map((u) => u.partition))})`;
  }

  /** The partition's stored epoch (the current owner's fencing token), or null when it has no row. */
  async epochOf(groupId: string, topic: string, partition: number): Promise<number | null> {
    const rows = await this.db.$queryRaw<{ epoch: number | bigint }[]>`SELECT epoch FROM consumer_offset
      WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
    return rows.length > 0 ? Number(rows[0].epoch) : null;
  }

  /**
   * Whether the last change of the partition's epoch came from an operator's
   * reset or rebuild (not from another worker's claim): the fenced owner then
   * claims again instead of leaving the partition.
   */
  async wasReset(groupId: string, topic: string, partition: number): Promise<boolean> {
    const rows = await this.db.$queryRaw<
      { epoch: number | bigint; reset_epoch: number | bigint | null }[]
    >`SELECT epoch, reset_epoch FROM consumer_offset
      WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
    return rows.length > 0 && rows[0].reset_epoch !== null && Number(rows[0].reset_epoch) === Number(rows[0].epoch);
  }

  /**
   * Moves partitions to new offsets inside `tx` (an operator's reset or a
   * rebuild); the epoch is bumped so the current owner is fenced off at its
   * next commit and claims again. Each move is audited; rows missing (the
   * group never ran) are created.
   *
   * A reset keeps the watermark, so windows that were already final are not
   * emitted again, and moving backwards also keeps `replay_from` at or below
   * its old value, so every open window is rebuilt from all its records: a
   * rewound job ends with exactly the results of an uninterrupted run. A
   * rebuild (`counters` given) clears the watermark, the counters and the
   * recorded window specification: everything is recomputed from the target,
   * under whatever specification the next claim brings.
   * @returns per partition the committed offset before (-1 when none) and after.
   */
  async moveTo(
    tx: Tx,
    groupId: string,
    topic: string,
    targets: ReadonlyMap<number, bigint>,
    audit: { mode: string; role: string; keyId: string },
    counters?: { lostToRetention: ReadonlyMap<number, bigint> },
  ): Promise<{ partition: number; before: bigint; after: bigint }[]> {
    const out: { partition: number; before: bigint; after: bigint }[] = [];
    for (const [partition, target] of [...targets].sort(([a], [b]) => a - b)) {
      await tx.$executeRaw`INSERT IGNORE INTO consumer_offset (group_id, topic, \`partition\`, next_offset, replay_from, epoch)
        VALUES (${groupId}, ${topic}, ${partition}, -1, -1, 0)`;
      const [row] = await tx.$queryRaw<
        { next_offset: bigint | number; replay_from: bigint | number; topic_recreated_at: Date | null }[]
      >`SELECT next_offset, replay_from, topic_recreated_at FROM consumer_offset
        WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition} FOR UPDATE`;
      const before = BigInt(row.next_offset);
      const oldReplay = BigInt(row.replay_from);
      // Moving forward past records never processed skips them on purpose: counted. The stored offset of a
      // log found recreated belongs to the old log, so nothing of the new one is skipped by it.
      const skipped =
        !counters && row.topic_recreated_at === null && before >= 0n && target > before ? target - before : 0n;
      // The position now points into the log at a record this group never read there: no fingerprint to check.
      await tx.$executeRaw`UPDATE consumer_offset SET last_offset = NULL, last_timestamp_ms = NULL, last_record_hash = NULL,
        topic_recreated_at = NULL, skipped_by_reset = skipped_by_reset + ${skipped}
        WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
      // MySQL runs single-table assignments left to right: reset_epoch takes the bumped epoch.
      if (counters) {
        await tx.$executeRaw`UPDATE consumer_offset SET next_offset = ${target}, replay_from = ${target}, watermark_ms = NULL,
          window_size_ms = NULL, window_advance_ms = NULL, grace_ms = NULL, epoch = epoch + 1, reset_epoch = epoch, late_records = 0, dead_lettered = 0, beyond_dedup_horizon = 0, event_time_ahead = 0, skipped_by_reset = 0,
          lost_to_retention = ${counters.lostToRetention.get(partition) ?? 0n}, updated_at = NOW(3)
          WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
      } else {
        const replayFrom =
          before >= 0n && target <= before && oldReplay >= 0n && oldReplay < target ? oldReplay : target;
        await tx.$executeRaw`UPDATE consumer_offset SET next_offset = ${target}, replay_from = ${replayFrom},
          epoch = epoch + 1, reset_epoch = epoch, updated_at = NOW(3)
          WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
      }
      await tx.$executeRaw`INSERT INTO offset_reset_audit (group_id, topic, \`partition\`, mode, before_offset, after_offset, role, key_id)
        VALUES (${groupId}, ${topic}, ${partition}, ${audit.mode}, ${before}, ${target}, ${audit.role}, ${audit.keyId})`;
      out.push({ partition, before, after: target });
    }
    return out;
  }

  /**
   * Sets the watermark of each partition of `targets` back (partition ->
   * `watermarkMs`, epoch MILLISECONDS, and optionally `replayFrom`, an offset)
   * inside `tx`, an operator's repair of a watermark that a wrong clock moved
   * too far. Never forward: a partition whose stored watermark (read here,
   * under the row lock) is already at or before the target, or that has none,
   * or no row, is skipped. `next_offset` stays; `replay_from` moves only
   * forward, to `replayFrom` (clamped to `next_offset`), when given (past
   * records a claim must not replay); the epoch is bumped (the owner claims
   * again and rebuilds its windows under the new watermark). Each change is
   * audited as mode `WATERMARK` with the watermark before and after, and
   * `replay_from` before and after when it moved.
   * @returns each partition changed: its watermark before and after (epoch
   *   milliseconds) and its `replay_from` before and after.
   */
  async setWatermarks(
    tx: Tx,
    groupId: string,
    topic: string,
    targets: ReadonlyMap<number, { watermarkMs: number; replayFrom?: bigint | null }>,
    audit: { role: string; keyId: string },
  ): Promise<WatermarkSetBack[]> {
    const out: WatermarkSetBack[] = [];
    for (const [partition, target] of [...targets].sort((a, b) => a[0] - b[0])) {
      const rows = await tx.$queryRaw<
        { watermark_ms: bigint | number | null; next_offset: bigint | number; replay_from: bigint | number }[]
      >`
        SELECT watermark_ms, next_offset, replay_from FROM consumer_offset
        WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition} FOR UPDATE`;
      if (rows.length === 0) continue;
      const beforeMs = rows[0].watermark_ms === null ? null : Number(rows[0].watermark_ms);
      const afterMs = target.watermarkMs;
      if (beforeMs === null || beforeMs <= afterMs) continue;
      const offset = BigInt(rows[0].next_offset);
      const replayFromBefore = BigInt(rows[0].replay_from);
      let replayFromAfter = replayFromBefore;
      if (target.replayFrom !== undefined && target.replayFrom !== null && target.replayFrom > replayFromBefore)
        replayFromAfter = target.replayFrom < offset ? target.replayFrom : offset;
      const moved = replayFromAfter !== replayFromBefore;
      // MySQL runs single-table assignments left to right: reset_epoch takes the bumped epoch.
      await tx.$executeRaw`UPDATE consumer_offset SET watermark_ms = ${BigInt(afterMs)}, replay_from = ${replayFromAfter},
        epoch = epoch + 1, reset_epoch = epoch, updated_at = NOW(3)
        WHERE group_id = ${groupId} AND topic = ${topic} AND \`partition\` = ${partition}`;
      await tx.$executeRaw`INSERT INTO offset_reset_audit (group_id, topic, \`partition\`, mode, before_offset, after_offset, role, key_id,
          before_watermark_ms, after_watermark_ms, before_replay_from, after_replay_from)
        VALUES (${groupId}, ${topic}, ${partition}, 'WATERMARK', ${offset}, ${offset}, ${audit.role}, ${audit.keyId},
          ${BigInt(beforeMs)}, ${BigInt(afterMs)}, ${moved ? replayFromBefore : null}, ${moved ? replayFromAfter : null})`;
      out.push({ partition, beforeMs, afterMs, replayFromBefore, replayFromAfter });
    }
    return out;
  }

  /** Every stored row of `groupId` (or of every group), ordered by group, topic, partition. */
  async list(groupId?: string): Promise<
    {
      groupId: string;
      topic: string;
      partition: number;
      nextOffset: bigint;
      /** Where a claim seeks to rebuild the open windows: the first offset of any open window, else `nextOffset`. */
      replayFrom: bigint;
      watermarkMs: number | null;
      lateRecords: bigint;
      deadLettered: bigint;
      lostToRetention: bigint;
      beyondDedupHorizon: bigint;
      eventTimeAhead: bigint;
      skippedByReset: bigint;
      topicRecreatedAt: Date | null;
      owner: string | null;
    }[]
  > {
    const rows = await this.db.consumerOffset.findMany({
      where: groupId ? { groupId } : undefined,
      orderBy: [{ groupId: 'asc' }, { topic: 'asc' }, { partition: 'asc' }],
    });
    return rows.map((r) => ({
      groupId: r.groupId,
      topic: r.topic,
      partition: r.partition,
      nextOffset: r.nextOffset,
      replayFrom: r.replayFrom,
      watermarkMs: r.watermarkMs === null ? null : Number(r.watermarkMs),
      lateRecords: r.lateRecords,
      deadLettered: r.deadLettered,
      lostToRetention: r.lostToRetention,
      beyondDedupHorizon: r.beyondDedupHorizon,
      eventTimeAhead: r.eventTimeAhead,
      skippedByReset: r.skippedByReset,
      topicRecreatedAt: r.topicRecreatedAt,
      owner: r.owner,
    }));
  }
}
