import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { OperationRefusedError } from '../errors/operation-refused-error.js';
import { partitionStatsKey } from '../observability/partition-stats.js';
import { partitionBounds } from '../ingest/kafka-client.js';
import { TOPIC_JOB_CONTROL, type EventBus } from '../publish/event-bus.js';
import { pausedJobNames } from '../store/job-control-store.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import type { JobDefinition } from './job.js';

/** Where `resetConsumerOffsets` moves partitions (the `kafka-consumer-groups --reset-offsets` options). */
export type ResetTarget = 'EARLIEST' | 'LATEST' | 'OFFSET' | 'TIMESTAMP';

/** Input of {@link JobOperations.resetOffsets}. */
export interface ResetRequest {
  groupId: string;
  /** The job's topic; defaults to it. */
  topic?: string | null;
  /** Partitions to move; all when omitted. */
  partitions?: number[] | null;
  to: ResetTarget;
  /** With `OFFSET`: the offset every listed partition moves to. */
  offset?: number | null;
  /** With `TIMESTAMP`: epoch milliseconds; each partition moves to its first record at or after it. */
  timestampMs?: number | null;
  /** Plan only: answer with what would happen and change nothing. */
  dryRun?: boolean | null;
  /** Accept that moving an additive job backwards counts records again. */
  allowRecount?: boolean | null;
}

/** One partition's move: committed offset before and after (the next record to process). */
export interface PartitionMove {
  partition: number;
  before: bigint;
  after: bigint;
}

/** Who asked: written to the audit tables. */
export interface Actor {
  role: string;
  keyId: string;
}

/**
 * Operators' control of the jobs: offset resets that work while the
 * job runs, rebuilds, pause and resume. Every change is a database
 * transaction on the partitions' `consumer_offset` rows: bumping the epoch
 * fences the current owner off at its next commit (its batch in flight rolls
 * back), and the owner, told through the event bus (or finding out when
 * fenced), claims the partition again at a batch boundary: window state
 * dropped, position read back, seek. The database stays the source of truth,
 * so a worker that misses the notification still does the right thing.
 */
export class JobOperations {
  constructor(
    private readonly db: Db,
    private readonly offsets: OffsetStore,
    private readonly admin: Admin,
    private readonly jobs: readonly JobDefinition[],
    private readonly bus: EventBus,
    private readonly redis: Redis,
    /** How long a reset waits for the owners to restart from the new positions, in milliseconds. @default 10000 */
    private readonly acknowledgeTimeoutMs = 10_000,
  ) {}

  /** The configured job named `name`, or the one consuming as `groupId`. */
  job(nameOrGroup: string): JobDefinition {
    const job = this.jobs.find((j) => j.name === nameOrGroup || j.groupId === nameOrGroup);
    if (!job) {
      throw new OperationRefusedError(
        'JOB_NOT_FOUND',
        `no job or consumer group ${JSON.stringify(nameOrGroup)} (known: ${this.jobs.map((j) => `${j.name} (group ${j.groupId})`).join(', ')})`,
      );
    }
    return job;
  }

  /**
   * Moves a group's partitions (all, or `partitions`) to EARLIEST, LATEST, an
   * OFFSET or a TIMESTAMP while the job runs, and audits each move. An
   * additive job is never moved backwards unless `allowRecount` is set.
   * @returns the moves, applied unless `dryRun`.
   * @throws {OperationRefusedError} `JOB_NOT_FOUND` (group), `OPERATION_INPUT_INVALID` (topic,
   *   partition, missing or out-of-range offset with the valid range),
   *   `RECOUNT_REFUSED` (with `recordsToRecount`).
   */
  async resetOffsets(
    req: ResetRequest,
    actor: Actor,
  ): Promise<{ moves: PartitionMove[]; applied: boolean; acknowledged: boolean; recordsToRecount: bigint }> {
    const job = this.job(req.groupId);
    if (req.groupId !== job.groupId)
      throw new OperationRefusedError('JOB_NOT_FOUND', `no consumer group ${JSON.stringify(req.groupId)}`);
    if (req.topic && req.topic !== job.topic) {
      throw new OperationRefusedError(
        'OPERATION_INPUT_INVALID',
        `group ${job.groupId} consumes topic ${job.topic}, not ${req.topic}`,
        { argument: 'topic' },
      );
    }
    const bounds = await partitionBounds(this.admin, job.topic);
    const all = [...bounds.keys()].sort((a, b) => a - b);
    const partitions =
      req.partitions && req.partitions.length > 0 ? [...new Set(req.partitions)].sort((a, b) => a - b) : all;
    const unknown = partitions.filter((p) => !bounds.has(p));
    if (unknown.length > 0) {
      throw new OperationRefusedError(
        'OPERATION_INPUT_INVALID',
        `topic ${job.topic} has no partition ${unknown.join(', ')} (partitions: ${all.join(', ')})`,
        { argument: 'partitions' },
      );
    }
    const targets = await this.targets(job.topic, partitions, bounds, req);
    const rows = (await this.offsets.list(job.groupId)).filter((r) => r.topic === job.topic);
    const current = new Map(rows.map((r) => [r.partition, r.nextOffset]));
    // A partition found to read a recreated topic holds an offset of the old log: moving to the new log's
    // start counts nothing twice.
    const recreated = new Set(rows.filter((r) => r.topicRecreatedAt !== null).map((r) => r.partition));
    const planned: PartitionMove[] = partitions.map((p) => {
      const stored = current.get(p);
      return {
        partition: p,
        before: stored === undefined || stored < 0n ? entryOf(bounds, p, 'offset bounds').earliest : stored,
        after: entryOf(targets, p, 'target offset'),
      };
    });
    const recordsToRecount = planned.reduce(
      (sum, m) => sum + (m.after < m.before && !recreated.has(m.partition) ? m.before - m.after : 0n),
      0n,
    );
    if (job.results === 'additive' && recordsToRecount > 0n && !req.allowRecount) {
      throw new OperationRefusedError(
        'RECOUNT_REFUSED',
        `${job.name} adds each record to its totals: moving it backwards would count ${recordsToRecount} records again. Use rebuildJob for an exact recount, or allowRecount: true to accept it.`,
        { recordsToRecount: Number(recordsToRecount) },
      );
    }
    if (req.dryRun) return { moves: planned, applied: false, acknowledged: false, recordsToRecount };
    const moves = await this.db.$transaction(
      (tx) => this.offsets.moveTo(tx, job.groupId, job.topic, targets, { mode: req.to, ...actor }),
      { maxWait: 10_000, timeout: 30_000 },
    );
    this.notify({ kind: 'reset', job: job.name, partitions });
    return { moves, applied: true, acknowledged: await this.awaitOwners(job, partitions), recordsToRecount };
  }

  /**
   * Sets the watermark of a job's partitions (all, or `partitions`) back to
   * `toMs` (epoch MILLISECONDS) where it is later: the repair of a watermark
   * a wrong clock moved too far (stored before records too far ahead were
   * refused, or by a producer whose timestamps were wrong too). The offsets
   * and the results stay; the owners claim the partitions again and go on
   * under the new watermark, so windows ending after `toMs` are open again:
   * records from now on count in them. Windows ending at or before `toMs`
   * stay final (never emitted again). A window ending after `toMs` that was
   * already emitted is emitted again if its records are read again (an
   * offset reset), as an idempotent upsert of abnormal-orders; the additive
   * jobs count nothing by the watermark (hot-products publishes its ranking
   * boundaries after it). Partitions whose watermark is at or before `toMs`
   * (or that have none) are left as they are. Audited as mode `WATERMARK`.
   * @returns the partitions changed, each watermark before and after, applied unless `dryRun`.
   * @throws {OperationRefusedError} `JOB_NOT_FOUND`; `OPERATION_INPUT_INVALID` when `toMs` is after the
   *   wall clock (it would make real records late) or a partition has no stored position.
   */
  async repairWatermark(
    req: { job: string; toMs: number; partitions?: readonly number[] | null; dryRun?: boolean | null },
    actor: Actor,
    nowMs = Date.now(),
  ): Promise<{
    job: JobDefinition;
    changes: { partition: number; beforeMs: number | null; afterMs: number }[];
    applied: boolean;
    acknowledged: boolean;
  }> {
    const job = this.job(req.job);
    if (!Number.isFinite(req.toMs) || req.toMs > nowMs) {
      throw new OperationRefusedError(
        'OPERATION_INPUT_INVALID',
        `to must be at or before the wall clock (${new Date(nowMs).toISOString()}): a later watermark makes every real record late`,
        { argument: 'to' },
      );
    }
    const rows = (await this.offsets.list(job.groupId)).filter((r) => r.topic === job.topic);
    const stored = new Map(rows.map((r) => [r.partition, r.watermarkMs]));
    const partitions =
      req.partitions && req.partitions.length > 0
        ? [...new Set(req.partitions)].sort((a, b) => a - b)
        : [...stored.keys()].sort((a, b) => a - b);
    const unknown = partitions.filter((p) => !stored.has(p));
    if (unknown.length > 0) {
      throw new OperationRefusedError(
        'OPERATION_INPUT_INVALID',
        `${job.name} has no stored position for partition ${unknown.join(', ')} of ${job.topic} (stored: ${[...stored.keys()].join(', ') || 'none'})`,
        { argument: 'partitions' },
      );
    }
    const targets = new Map(
      partitions
        .filter((p) => (stored.get(p) ?? null) !== null && (stored.get(p) ?? 0) > req.toMs)
        .map((p) => [p, req.toMs]),
    );
    const planned = [...targets.keys()].map((p) => ({
      partition: p,
      beforeMs: stored.get(p) ?? null,
      afterMs: req.toMs,
    }));
    if (req.dryRun || targets.size === 0) return { job, changes: planned, applied: false, acknowledged: false };
    const changes = await this.db.$transaction(
      (tx) => this.offsets.setWatermarks(tx, job.groupId, job.topic, targets, actor),
      { maxWait: 10_000, timeout: 30_000 },
    );
    const moved = changes.map((c) => c.partition);
    this.notify({ kind: 'reset', job: job.name, partitions: moved });
    return { job, changes, applied: true, acknowledged: await this.awaitOwners(job, moved) };
  }

  /**
   * Waits until every moved partition that has a live owner was claimed again
   * by it (its epoch moved past the reset's), i.e. the owner dropped its state
   * and seeks from the new position.
   * @returns false when an owner did not within `acknowledgeTimeoutMs`; the
   *   move is committed all the same and the owner applies it at its next commit.
   */
  private async awaitOwners(job: JobDefinition, partitions: number[]): Promise<boolean> {
    const stats = await this.redis
      .mget(partitions.map((p) => partitionStatsKey(job.groupId, job.topic, p)))
      .catch(() => partitions.map(() => null));
    const owned = partitions.filter((_, i) => stats[i] !== null);
    const deadline = Date.now() + this.acknowledgeTimeoutMs;
    while (owned.length > 0) {
      const rows = await this.db.consumerOffset.findMany({
        where: { groupId: job.groupId, topic: job.topic, partition: { in: owned } },
      });
      if (rows.every((r) => r.resetEpoch !== r.epoch)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  }

  /**
   * The exact way back for any job: empties its results (de-duplication state
   * included) and replays its topic from the earliest offset, in one
   * transaction with the partitions' positions and counters.
   * @returns the moves and how many records retention already deleted
   *   (results are exact only when that is 0).
   */
  async rebuild(
    name: string,
    actor: Actor,
  ): Promise<{ moves: PartitionMove[]; lostToRetention: bigint; acknowledged: boolean }> {
    const job = this.job(name);
    const bounds = await partitionBounds(this.admin, job.topic);
    const targets = new Map([...bounds].map(([p, b]) => [p, b.earliest]));
    // Offsets start at 0, so the earliest offset is the number of records retention deleted.
    const lost = new Map([...bounds].map(([p, b]) => [p, b.earliest]));
    const moves = await this.db.$transaction(
      async (tx) => {
        // Lock every row first: owners' batch commits wait, then fail the epoch check.
        await tx.$queryRaw`SELECT epoch FROM consumer_offset WHERE group_id = ${job.groupId} FOR UPDATE`;
        await job.clearResults(tx);
        return this.offsets.moveTo(
          tx,
          job.groupId,
          job.topic,
          targets,
          { mode: 'REBUILD', ...actor },
          { lostToRetention: lost },
        );
      },
      { maxWait: 10_000, timeout: 120_000 },
    );
    await job.afterClear?.();
    this.notify({ kind: 'reset', job: job.name, partitions: [...bounds.keys()] });
    const acknowledged = await this.awaitOwners(job, [...bounds.keys()]);
    return { moves, lostToRetention: [...lost.values()].reduce((a, b) => a + b, 0n), acknowledged };
  }

  /** Records the operator's wish in `job_control` and tells the workers. */
  async setPaused(name: string, paused: boolean, actor: Actor): Promise<JobDefinition> {
    const job = this.job(name);
    await this.db.jobControl.upsert({
      where: { job: job.name },
      create: { job: job.name, paused, role: actor.role, keyId: actor.keyId },
      update: { paused, role: actor.role, keyId: actor.keyId, updatedAt: new Date() },
    });
    this.notify({ kind: paused ? 'pause' : 'resume', job: job.name });
    return job;
  }

  /** Jobs an operator paused, by name. */
  async pausedJobs(): Promise<Set<string>> {
    return pausedJobNames(this.db);
  }

  private notify(event: { kind: 'reset' | 'pause' | 'resume'; job: string; partitions?: number[] }): void {
    this.bus.pubSub.publish(TOPIC_JOB_CONTROL, this.job(event.job).groupId, event);
  }

  private async targets(
    topic: string,
    partitions: number[],
    bounds: Map<number, { earliest: bigint; latest: bigint }>,
    req: ResetRequest,
  ): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    switch (req.to) {
      case 'EARLIEST':
      case 'LATEST':
        for (const p of partitions)
          out.set(
            p,
            req.to === 'EARLIEST'
              ? entryOf(bounds, p, 'offset bounds').earliest
              : entryOf(bounds, p, 'offset bounds').latest,
          );
        return out;
      case 'OFFSET': {
        if (req.offset === null || req.offset === undefined || !Number.isSafeInteger(req.offset)) {
          throw new OperationRefusedError('OPERATION_INPUT_INVALID', 'to: OFFSET needs offset (a whole number)', {
            argument: 'offset',
          });
        }
        for (const p of partitions) {
          const b = entryOf(bounds, p, 'offset bounds');
          const target = BigInt(req.offset);
          if (target < b.earliest || target > b.latest) {
            throw new OperationRefusedError(
              'OPERATION_INPUT_INVALID',
              `offset ${req.offset} is outside partition ${p}'s range [${b.earliest}, ${b.latest}]`,
              { argument: 'offset', partition: p, earliest: Number(b.earliest), latest: Number(b.latest) },
            );
          }
          out.set(p, target);
        }
        return out;
      }
      case 'TIMESTAMP': {
        if (req.timestampMs === null || req.timestampMs === undefined) {
          throw new OperationRefusedError('OPERATION_INPUT_INVALID', 'to: TIMESTAMP needs timestamp', {
            argument: 'timestamp',
          });
        }
        const found = await this.admin.fetchTopicOffsetsByTimestamp(topic, req.timestampMs);
        for (const p of partitions) {
          const hit = found.find((f) => f.partition === p);
          const b = entryOf(bounds, p, 'offset bounds');
          // No record at or after the time: the partition's end, like the Java tool.
          let target = hit && Number(hit.offset) >= 0 ? BigInt(hit.offset) : b.latest;
          if (target < b.earliest) target = b.earliest;
          out.set(p, target);
        }
        return out;
      }
    }
  }
}

/** A partition's entry in a map the caller already checked covers it; a miss is a bug, reported by what is missing. */
function entryOf<V>(map: ReadonlyMap<number, V>, partition: number, what: string): V {
  const v = map.get(partition);
  if (v === undefined) throw new Error(`no ${what} for partition ${partition}`);
  return v;
}
