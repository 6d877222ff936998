import { GraphQLError } from 'graphql';
import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import {
  eventTimeWarnings,
  partitionStatsKey,
  sumEventTimeCounts,
  type PublishedPartitionFailure,
  type PublishedPartitionStats,
} from '../../observability/partition-stats.js';
import { partitionBounds } from '../../ingest/kafka-client.js';
import type { Actor, PartitionMove } from '../../engine/job-operations.js';
import { keyId } from '../../store/key-id.js';
import { OPS_ROLES, READ_ROLES } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { badUserInput, toGraphQLError } from '../errors.js';
import {
  Job,
  JobError,
  JobPartition,
  JobRebuild,
  JobResults,
  JobState,
  JobWarning,
  OffsetReset,
  PartitionOffsetMove,
  ResetConsumerOffsetsInput,
  WatermarkChange,
  WatermarkOutcome,
  WatermarkPartitionReport,
  WatermarkRead,
  WatermarkReadKind,
  WatermarkRepair,
  WatermarkTarget,
} from '../types/job.js';

/** Who asks, as the audit tables record it: the role and a sha256 prefix of the key, never the key. */
const actorOf = (ctx: GraphQLContext): Actor => {
  // @Authorized admits only authenticated callers; an operation without one is refused, never recorded anonymously.
  if (!ctx.caller)
    throw new GraphQLError('this operation needs an authenticated caller', { extensions: { code: 'UNAUTHENTICATED' } });
  return { role: ctx.caller.role, keyId: keyId(ctx.caller.apiKey) };
};

const jobError = (f: PublishedPartitionFailure | undefined): JobError | null =>
  f
    ? Object.assign(new JobError(), {
        code: f.code,
        message: f.message,
        since: new Date(f.sinceMs),
        attempts: f.attempts,
      })
    : null;

const moves = (list: PartitionMove[]): PartitionOffsetMove[] =>
  list.map((m) =>
    Object.assign(new PartitionOffsetMove(), { partition: m.partition, before: m.before, after: m.after }),
  );

/**
 * The `offset` argument as the job operations take it (a number): offsets
 * beyond 2^53 - 1 are refused with BAD_USER_INPUT, since the operations
 * compare offsets as JavaScript numbers.
 */
function safeOffset(offset: number | bigint | null | undefined): number | null | undefined {
  if (typeof offset !== 'bigint') return offset;
  if (offset > BigInt(Number.MAX_SAFE_INTEGER) || offset < BigInt(Number.MIN_SAFE_INTEGER))
    throw badUserInput('offset', 'must be at most 2^53 - 1 (9007199254740991)');
  return Number(offset);
}

@Resolver()
export class JobResolver {
  @Authorized(OPS_ROLES)
  @Mutation(() => OffsetReset, {
    description:
      "Moves a consumer group's offsets while its job runs (role ops); audited. See ResetConsumerOffsetsInput.",
  })
  async resetConsumerOffsets(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => ResetConsumerOffsetsInput) input: ResetConsumerOffsetsInput,
  ): Promise<OffsetReset> {
    try {
      const job = ctx.services.operations.job(input.groupId);
      const result = await ctx.services.operations.resetOffsets(
        {
          groupId: input.groupId,
          topic: input.topic,
          partitions: input.partitions,
          to: input.to,
          offset: safeOffset(input.offset),
          timestampMs: input.timestamp ? input.timestamp.getTime() : null,
          dryRun: input.dryRun,
          allowRecount: input.allowRecount,
        },
        actorOf(ctx),
      );
      // This process's copy of the offsets must not show the positions before the reset.
      ctx.services.offsetRows.clear();
      ctx.logger.info(
        {
          groupId: input.groupId,
          to: input.to,
          dryRun: !!input.dryRun,
          moves: result.moves.map((m) => [m.partition, String(m.before), String(m.after)]),
        },
        'consumer offsets reset',
      );
      return Object.assign(new OffsetReset(), {
        groupId: job.groupId,
        topic: job.topic,
        dryRun: !!input.dryRun,
        applied: result.applied,
        acknowledged: result.acknowledged,
        recordsToRecount: result.recordsToRecount,
        partitions: moves(result.moves),
      });
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(OPS_ROLES)
  @Mutation(() => WatermarkRepair, {
    description:
      "Sets the watermark of a job's partitions (all, or those listed) back where it is later than the target: the repair of a watermark a wrong clock moved too far. target GIVEN_TIME (the default) sets it back to `to` (required, at or before the wall clock); target OPEN_WINDOWS computes it per partition from the records of its stored open windows (`to` must be left out): the largest event time at or before the wall clock, minus the grace period. Never forward. The offsets and results stay; windows ending after the new watermark are open again, those ending at or before it stay final. Audited (mode WATERMARK); dryRun shows every partition's target, before and after without changing anything (role ops).",
  })
  async repairWatermark(
    @Ctx() ctx: GraphQLContext,
    @Arg('job') name: string,
    @Arg('to', () => Date, {
      nullable: true,
      description:
        'With target GIVEN_TIME (required there): the watermark to set back to, at or before the wall clock.',
    })
    to: Date | null | undefined,
    @Arg('target', () => WatermarkTarget, { defaultValue: WatermarkTarget.GIVEN_TIME })
    target: WatermarkTarget,
    @Arg('partitions', () => [Int], { nullable: true }) partitions: number[] | null,
    @Arg('dryRun', () => Boolean, { defaultValue: false }) dryRun: boolean,
  ): Promise<WatermarkRepair> {
    try {
      const result = await ctx.services.operations.repairWatermark(
        { job: name, target, toMs: to ? to.getTime() : null, partitions, dryRun },
        actorOf(ctx),
      );
      if (result.applied) {
        ctx.services.offsetRows.clear();
        ctx.logger.info(
          {
            job: result.job.name,
            target,
            partitions: result.changes.map((c) => c.partition),
            to: result.changes.map((c) => new Date(c.afterMs).toISOString()),
          },
          'watermark repaired',
        );
      }
      const date = (ms: number | null) => (ms === null ? null : new Date(ms));
      return Object.assign(new WatermarkRepair(), {
        job: result.job.name,
        target,
        wallClock: new Date(result.wallClockMs),
        partitions: result.changes.map((c) =>
          Object.assign(new WatermarkChange(), {
            partition: c.partition,
            before: date(c.beforeMs),
            after: new Date(c.afterMs),
          }),
        ),
        report: result.report.map((p) =>
          Object.assign(new WatermarkPartitionReport(), {
            partition: p.partition,
            outcome: WatermarkOutcome[p.outcome],
            before: date(p.beforeMs),
            target: date(p.targetMs),
            after: date(p.afterMs),
            replayFromBefore: p.replayFromBefore,
            replayFromAfter: p.replayFromAfter,
            read:
              p.read === null
                ? null
                : Object.assign(new WatermarkRead(), {
                    kind: WatermarkReadKind[p.read.kind],
                    fromOffset: p.read.from,
                    toOffset: p.read.to,
                    records: p.read.records,
                    latestEventTime: date(p.read.latestEventTimeMs),
                    afterWallClock: p.read.afterWallClock,
                    withoutEventTime: p.read.withoutEventTime,
                  }),
          }),
        ),
        dryRun,
        applied: result.applied,
        acknowledged: result.acknowledged,
      });
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(OPS_ROLES)
  @Mutation(() => JobRebuild, {
    description:
      "Empties a job's results (de-duplication state included) and replays its topic from the earliest offset (role ops).",
  })
  async rebuildJob(@Ctx() ctx: GraphQLContext, @Arg('job') name: string): Promise<JobRebuild> {
    try {
      const result = await ctx.services.operations.rebuild(name, actorOf(ctx));
      // The recount starts from zero: this process's in-memory copies must not outlive it.
      ctx.services.modules.afterRebuild();
      ctx.services.offsetRows.clear();
      ctx.logger.info({ job: name, lostToRetention: String(result.lostToRetention) }, 'job rebuild started');
      return Object.assign(new JobRebuild(), {
        job: ctx.services.operations.job(name).name,
        partitions: moves(result.moves),
        lostToRetention: Number(result.lostToRetention),
        acknowledged: result.acknowledged,
      });
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(OPS_ROLES)
  @Mutation(() => Job, {
    description:
      'Stops consumption of a job on every worker: nothing is fetched or committed until resumeJob (role ops).',
  })
  async pauseJob(@Ctx() ctx: GraphQLContext, @Arg('job') name: string): Promise<Job> {
    return this.setPaused(ctx, name, true);
  }

  @Authorized(OPS_ROLES)
  @Mutation(() => Job, { description: 'Resumes a paused job; it catches up from its committed offsets (role ops).' })
  async resumeJob(@Ctx() ctx: GraphQLContext, @Arg('job') name: string): Promise<Job> {
    return this.setPaused(ctx, name, false);
  }

  @Authorized(READ_ROLES)
  @Query(() => [Job], {
    description:
      'Every configured job with its state and, per partition, owner, offsets, lag, watermark, rate and counters.',
  })
  async jobs(@Ctx() ctx: GraphQLContext): Promise<Job[]> {
    const paused = await ctx.services.operations.pausedJobs();
    return Promise.all(ctx.services.jobs.map((j) => this.describe(ctx, j.name, paused)));
  }

  private async setPaused(ctx: GraphQLContext, name: string, paused: boolean): Promise<Job> {
    try {
      const job = await ctx.services.operations.setPaused(name, paused, actorOf(ctx));
      ctx.logger.info({ job: job.name, paused }, paused ? 'job paused' : 'job resumed');
      return await this.describe(ctx, job.name, await ctx.services.operations.pausedJobs());
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  private async describe(ctx: GraphQLContext, name: string, paused: ReadonlySet<string>): Promise<Job> {
    const { offsets, kafkaAdmin, redis, jobs } = ctx.services;
    const job = jobs.find((j) => j.name === name);
    if (!job) throw new Error(`no job named ${name} is configured`);
    const [rows, bounds] = await Promise.all([
      offsets.list(job.groupId),
      partitionBounds(kafkaAdmin, job.topic).catch(() => new Map<number, { earliest: bigint; latest: bigint }>()),
    ]);
    const partitionIds = [
      ...new Set([...bounds.keys(), ...rows.filter((r) => r.topic === job.topic).map((r) => r.partition)]),
    ].sort((a, b) => a - b);
    const stats =
      partitionIds.length === 0
        ? []
        : await redis
            .mget(partitionIds.map((p) => partitionStatsKey(job.groupId, job.topic, p)))
            .catch(() => partitionIds.map(() => null));
    const partitions = partitionIds.map((p, i) => {
      const row = rows.find((r) => r.topic === job.topic && r.partition === p);
      const b = bounds.get(p) ?? { earliest: 0n, latest: 0n };
      const live = stats[i] ? (JSON.parse(stats[i]) as PublishedPartitionStats) : null;
      const committed = row && row.nextOffset >= 0n ? row.nextOffset : b.earliest;
      return Object.assign(new JobPartition(), {
        partition: p,
        owner: live?.owner ?? null,
        committedOffset: Number(committed),
        latest: Number(b.latest),
        lag: Math.max(0, Number(b.latest - committed)),
        watermark: row?.watermarkMs === null || row?.watermarkMs === undefined ? null : new Date(row.watermarkMs),
        recordsPerSecond: live?.recordsPerSecond ?? 0,
        lateRecords: Number(row?.lateRecords ?? 0n),
        deadLettered: Number(row?.deadLettered ?? 0n),
        lostToRetention: Number(row?.lostToRetention ?? 0n),
        beyondDedupHorizon: Number(row?.beyondDedupHorizon ?? 0n),
        eventTimeAhead: Number(row?.eventTimeAhead ?? 0n),
        lastError: jobError(live?.failure),
      });
    });
    // A failure outranks an operator's pause: it needs someone to act either way.
    const lastError = partitions.find((p) => p.lastError)?.lastError ?? null;
    const state = lastError
      ? JobState.FAILING
      : paused.has(job.name)
        ? JobState.PAUSED
        : partitions.some((p) => p.owner)
          ? JobState.RUNNING
          : JobState.STOPPED;
    return Object.assign(new Job(), {
      name: job.name,
      groupId: job.groupId,
      topic: job.topic,
      state,
      results: job.results === 'additive' ? JobResults.ADDITIVE : JobResults.IDEMPOTENT,
      partitions,
      lastError,
      warnings: eventTimeWarnings(
        sumEventTimeCounts(
          stats.map((raw) => (raw ? (JSON.parse(raw) as PublishedPartitionStats).lastMinute : undefined)),
        ),
        ctx.services.eventTimeWarningPercent,
      ).map((w) => Object.assign(new JobWarning(), w)),
    });
  }
}
