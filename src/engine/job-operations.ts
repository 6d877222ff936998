import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { OperationRefusedError } from '../errors/operation-refused-error.js';
import { partitionStatsKey } from '../observability/partition-stats.js';
import { partitionBounds } from '../ingest/kafka-client.js';
import type { PartitionRangeReader } from '../ingest/partition-range-reader.js';
import { TOPIC_JOB_CONTROL, type EventBus } from '../publish/event-bus.js';
import { pausedJobNames } from '../store/job-control-store.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import { EventTimeScan, watermarkOf } from '../stream/index.js';
import type { JobDefinition, JobEventTime } from './job.js';
import {
  planPartition,
  readRangeOf,
  type WatermarkPartitionPlan,
  type WatermarkTarget,
} from './watermark-repair-plan.js';

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

/** How long the OPEN_WINDOWS read of `repairWatermark` may take, MILLISECONDS (1 minute). */
export const DEFAULT_READ_TIMEOUT_MS = 60_000;

/** Options of {@link JobOperations}. */
export interface JobOperationsOptions {
  /** Reads offset ranges of a topic once (the OPEN_WINDOWS target of `repairWatermark`). */
  readRanges: PartitionRangeReader;
  /**
   * Time limit of that read, MILLISECONDS: past it the repair is refused
   * with `PARTITION_READ_FAILED` and nothing changes. @default 60000 // 1 minute
   */
  readTimeoutMs?: number;
  /** How long a reset waits for the owners to restart from the new positions, MILLISECONDS. @default 10000 // 10 seconds */
  acknowledgeTimeoutMs?: number;
}

/** A partition's stored position as `repairWatermark` reads it. */
type StoredPosition = Awaited<ReturnType<OffsetStore['list']>>[number];

/** What {@link JobOperations.repairWatermark} did (or, for a dry run, would do). */
export interface WatermarkRepairResult {
  job: JobDefinition;
  target: WatermarkTarget;
  /** The wall clock the repair compared with, epoch milliseconds. */
  wallClockMs: number;
  /** Every partition considered, ascending, with its outcome; for OPEN_WINDOWS also what was read. */
  report: WatermarkPartitionPlan[];
  /** The partitions set back (a dry run: to be), watermarks in epoch milliseconds. */
  changes: { partition: number; beforeMs: number | null; afterMs: number }[];
  applied: boolean;
  acknowledged: boolean;
}

/** A SET_BACK plan as a change: watermark before and after, epoch milliseconds. */
function changeOf(p: WatermarkPartitionPlan): { partition: number; beforeMs: number | null; afterMs: number } {
  return { partition: p.partition, beforeMs: p.beforeMs, afterMs: p.afterMs ?? 0 };
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
    private readonly options: JobOperationsOptions,
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
   * Sets the watermark of a job's partitions (all, or `partitions`) back
   * where a wrong clock moved it too far (stored before records too far ahead
   * were refused, or by a producer whose Kafka timestamps were wrong too), to
   * a target per partition:
   * - `GIVEN_TIME` (the default): `toMs`, epoch MILLISECONDS, at or before
   *   the wall clock;
   * - `OPEN_WINDOWS`: the largest event time at or before the wall clock
   *   (`nowMs`) among the partition's stored open-window records,
   *   `[replay_from, next_offset)` (when that range is empty, as for the
   *   additive jobs: the last `TAIL_READ_RECORDS` (10,000) records before
   *   `next_offset`), read once from Kafka with the job's own parser and
   *   event-time guard ({@link JobDefinition.eventTime}), minus the grace
   *   period (`watermarkOf`, the engine's formula). A partition where no
   *   record has an event time at or before the wall clock is left as it is
   *   (`NO_EVENT_TIME`). Records after the wall clock are not trusted; when
   *   the open-window range holds some, `replay_from` moves past the last of
   *   them, so that the owner's replay does not take them again and move the
   *   watermark ahead again.
   *
   * Never forward: a partition whose watermark is at or before its target
   * (`NOT_LATER`), or that has none (`NO_WATERMARK`), is left as it is, and
   * the stored watermark is compared again under the row lock. The committed
   * offsets (`next_offset`) and the results stay; the owners claim the partitions again and go on
   * under the new watermark, so windows ending after it are open again:
   * records from now on count in them. Windows ending at or before it stay
   * final (never emitted again). A window ending after it that was already
   * emitted is emitted again if its records are read again (an offset
   * reset), as an idempotent upsert of abnormal-orders; the additive jobs
   * count nothing by the watermark (hot-products publishes its ranking
   * boundaries after it). Audited as mode `WATERMARK`.
   * @param nowMs the wall clock, epoch MILLISECONDS. @default Date.now()
   * @returns every partition considered with its outcome, target, watermark
   *   before and after (and, for OPEN_WINDOWS, what was read); the changes;
   *   applied unless `dryRun` or nothing was to change; acknowledged when
   *   the live owners claimed the changed partitions again within the
   *   acknowledge timeout.
   * @throws {OperationRefusedError} `JOB_NOT_FOUND`; `OPERATION_INPUT_INVALID` (argument `to`) when
   *   GIVEN_TIME has no `toMs` or one after the wall clock (it would make real records late), or
   *   OPEN_WINDOWS has one (it computes its own); (argument `target`) when the job cannot tell event
   *   times; (argument `partitions`) when a partition has no stored position.
   * @throws {PartitionReadError} `PARTITION_READ_FAILED` when the OPEN_WINDOWS read timed out
   *   (`readTimeoutMs`) or Kafka failed: nothing changed.
   */
  async repairWatermark(
    req: {
      job: string;
      target?: WatermarkTarget | null;
      toMs?: number | null;
      partitions?: readonly number[] | null;
      dryRun?: boolean | null;
    },
    actor: Actor,
    nowMs = Date.now(),
  ): Promise<WatermarkRepairResult> {
    const job = this.job(req.job);
    const target = req.target ?? 'GIVEN_TIME';
    const toMs = req.toMs ?? null;
    if (target === 'GIVEN_TIME') {
      if (toMs === null)
        throw new OperationRefusedError(
          'OPERATION_INPUT_INVALID',
          'target GIVEN_TIME needs `to`, the watermark to set back to (or use target OPEN_WINDOWS to compute it per partition)',
          { argument: 'to' },
        );
      if (!Number.isFinite(toMs) || toMs > nowMs)
        throw new OperationRefusedError(
          'OPERATION_INPUT_INVALID',
          `to must be at or before the wall clock (${new Date(nowMs).toISOString()}): a later watermark makes every real record late`,
          { argument: 'to' },
        );
    } else if (toMs !== null) {
      throw new OperationRefusedError(
        'OPERATION_INPUT_INVALID',
        'target OPEN_WINDOWS computes the watermark of each partition from its records: leave `to` out (or use target GIVEN_TIME)',
        { argument: 'to' },
      );
    }
    const eventTime = job.eventTime;
    if (target === 'OPEN_WINDOWS' && !eventTime)
      throw new OperationRefusedError(
        'OPERATION_INPUT_INVALID',
        `${job.name} does not say how it reads event times: use target GIVEN_TIME`,
        { argument: 'target' },
      );
    const rows = (await this.offsets.list(job.groupId)).filter((r) => r.topic === job.topic);
    const stored = new Map(rows.map((r) => [r.partition, r]));
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
    const chosen = partitions.map((p) => entryOf(stored, p, 'stored position'));
    const plans =
      target === 'OPEN_WINDOWS' && eventTime
        ? await this.openWindowPlans(job, eventTime, chosen, nowMs)
        : chosen.map((r) => planPartition(r.partition, r, toMs));
    const planned = plans.filter((p) => p.outcome === 'SET_BACK');
    const result = { job, target, wallClockMs: nowMs };
    if (req.dryRun || planned.length === 0)
      return { ...result, report: plans, changes: planned.map(changeOf), applied: false, acknowledged: false };
    const targets = new Map(
      planned.map((p) => [p.partition, { watermarkMs: p.targetMs ?? 0, replayFrom: p.replayFromAfter }]),
    );
    const changes = await this.db.$transaction(
      (tx) => this.offsets.setWatermarks(tx, job.groupId, job.topic, targets, actor),
      { maxWait: 10_000, timeout: 30_000 },
    );
    const done = new Map(changes.map((c) => [c.partition, c]));
    // A partition found at or before its target under the lock (another repair meanwhile) was left.
    const report = plans.map((p): WatermarkPartitionPlan => {
      if (p.outcome !== 'SET_BACK') return p;
      const c = done.get(p.partition);
      return c
        ? { ...p, beforeMs: c.beforeMs, replayFromBefore: c.replayFromBefore, replayFromAfter: c.replayFromAfter }
        : { ...p, outcome: 'NOT_LATER', afterMs: p.beforeMs, replayFromAfter: p.replayFromBefore };
    });
    const moved = changes.map((c) => c.partition);
    if (moved.length === 0) return { ...result, report, changes: [], applied: false, acknowledged: false };
    this.notify({ kind: 'reset', job: job.name, partitions: moved });
    return {
      ...result,
      report,
      changes: changes.map((c) => ({ partition: c.partition, beforeMs: c.beforeMs, afterMs: c.afterMs })),
      applied: true,
      acknowledged: await this.awaitOwners(job, moved),
    };
  }

  /**
   * The OPEN_WINDOWS plan of each of `rows`: reads the records of each
   * partition with a watermark (see {@link readRangeOf}) once, in one
   * bounded read of at most `readTimeoutMs`, keeping per partition only an
   * {@link EventTimeScan} (constant memory), and plans each partition with
   * the largest event time at or before `nowMs` as a watermark.
   */
  private async openWindowPlans(
    job: JobDefinition,
    eventTime: JobEventTime,
    rows: readonly StoredPosition[],
    nowMs: number,
  ): Promise<WatermarkPartitionPlan[]> {
    await eventTime.load?.();
    const bounds = await partitionBounds(this.admin, job.topic);
    const reads = new Map(
      rows
        .filter((r) => r.watermarkMs !== null)
        .map((r) => [
          r.partition,
          {
            range: readRangeOf(r, bounds.get(r.partition) ?? { earliest: 0n, latest: 0n }),
            scan: new EventTimeScan(nowMs),
          },
        ]),
    );
    await this.options.readRanges(
      job.topic,
      [...reads].map(([partition, { range }]) => ({ partition, from: range.from, to: range.to })),
      (partition, record) => reads.get(partition)?.scan.offer(record.offset, eventTime.of(record)),
      { timeoutMs: this.options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS },
    );
    return rows.map((r) => {
      const read = reads.get(r.partition);
      const latest = read?.scan.latestEventTimeMs ?? null;
      return planPartition(r.partition, r, latest === null ? null : watermarkOf(latest, eventTime.graceMs), read);
    });
  }

  /**
   * Waits until every moved partition that has a live owner was claimed again
   * by it (its epoch moved past the reset's), i.e. the owner dropped its state
   * and seeks from the new position.
   * @returns false when an owner did not within the acknowledge timeout; the
   *   move is committed all the same and the owner applies it at its next commit.
   */
  private async awaitOwners(job: JobDefinition, partitions: number[]): Promise<boolean> {
    const stats = await this.redis
      .mget(partitions.map((p) => partitionStatsKey(job.groupId, job.topic, p)))
      .catch(() => partitions.map(() => null));
    const owned = partitions.filter((_, i) => stats[i] !== null);
    const deadline = Date.now() + (this.options.acknowledgeTimeoutMs ?? 10_000);
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
