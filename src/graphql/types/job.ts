import { GraphQLBigInt } from 'graphql-scalars';
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

/** Where `resetConsumerOffsets` moves partitions. */
export enum OffsetResetTarget {
  EARLIEST = 'EARLIEST',
  LATEST = 'LATEST',
  OFFSET = 'OFFSET',
  TIMESTAMP = 'TIMESTAMP',
}
registerEnumType(OffsetResetTarget, {
  name: 'OffsetResetTarget',
  description: 'As `kafka-consumer-groups --reset-offsets --to-earliest | --to-latest | --to-offset | --to-datetime`.',
});

export enum JobState {
  RUNNING = 'RUNNING',
  PAUSED = 'PAUSED',
  STOPPED = 'STOPPED',
  FAILING = 'FAILING',
}
registerEnumType(JobState, {
  name: 'JobState',
  description:
    'RUNNING: a worker owns at least one partition; PAUSED: an operator paused it; STOPPED: no live worker; FAILING: a partition keeps failing to commit (or to be claimed) for the same non-transient reason (see lastError); the worker keeps retrying with backoff and the job recovers by itself once the cause is fixed.',
});

export enum JobResults {
  IDEMPOTENT = 'IDEMPOTENT',
  ADDITIVE = 'ADDITIVE',
}
registerEnumType(JobResults, {
  name: 'JobResults',
  description:
    'IDEMPOTENT: may be rewound freely; ADDITIVE: moving it backwards counts records again (refused without allowRecount).',
});

@InputType({ description: "A reset of one consumer group's offsets, applied while the job runs." })
export class ResetConsumerOffsetsInput {
  @Field()
  groupId!: string;

  @Field(() => String, { nullable: true, description: "The group's topic (the job's topic when omitted)." })
  topic?: string | null;

  @Field(() => [Int], { nullable: true, description: 'Partitions to move; all when omitted.' })
  partitions?: number[] | null;

  @Field(() => OffsetResetTarget)
  to!: OffsetResetTarget;

  @Field(() => GraphQLBigInt, {
    nullable: true,
    description: 'With to: OFFSET; must lie within [earliest, latest] of every listed partition.',
  })
  offset?: number | bigint | null;

  @Field(() => Date, {
    nullable: true,
    description: 'With to: TIMESTAMP: each partition moves to its first record at or after this time.',
  })
  timestamp?: Date | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'Answer with the plan and change nothing.',
  })
  dryRun?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'Accept that moving an ADDITIVE job backwards counts records again.',
  })
  allowRecount?: boolean | null;
}

@ObjectType({ description: "One partition's committed offset (the next record to process) before and after." })
export class PartitionOffsetMove {
  @Field(() => Int)
  partition!: number;

  @Field(() => GraphQLBigInt)
  before!: number | bigint;

  @Field(() => GraphQLBigInt)
  after!: number | bigint;
}

@ObjectType()
export class OffsetReset {
  @Field()
  groupId!: string;

  @Field()
  topic!: string;

  @Field({ description: 'True when this was a dry run: nothing changed.' })
  dryRun!: boolean;

  @Field({ description: 'True once the new positions committed (false for a dry run).' })
  applied!: boolean;

  @Field({
    description:
      'True when every moved partition with a live owner was claimed again by it within 10 s: the owner dropped its window state and reads from the new position. When false, the owner applies the move at its next commit.',
  })
  acknowledged!: boolean;

  @Field(() => GraphQLBigInt, { description: 'Records the move makes the job read again.' })
  recordsToRecount!: number | bigint;

  @Field(() => [PartitionOffsetMove])
  partitions!: PartitionOffsetMove[];
}

@ObjectType()
export class JobRebuild {
  @Field()
  job!: string;

  @Field(() => [PartitionOffsetMove])
  partitions!: PartitionOffsetMove[];

  @Field(() => GraphQLBigInt, {
    description:
      'Records retention deleted before the earliest offset: the rebuilt results are exact only when this is 0.',
  })
  lostToRetention!: number | bigint;

  @Field({ description: 'True when the live owners restarted from the earliest offsets within 10 s.' })
  acknowledged!: boolean;
}

@ObjectType({ description: "One partition's watermark before and after a repairWatermark." })
export class WatermarkChange {
  @Field(() => Int)
  partition!: number;

  @Field(() => Date, { nullable: true, description: 'The stored watermark before (event time).' })
  before!: Date | null;

  @Field(() => Date, { description: 'The watermark after (event time).' })
  after!: Date;
}

@ObjectType({
  description:
    'The repair of watermarks a wrong clock moved too far: the offsets and results stay, windows ending after the new watermark are open again.',
})
export class WatermarkRepair {
  @Field()
  job!: string;

  @Field(() => [WatermarkChange], {
    description:
      'The partitions whose watermark was (or, for a dry run, would be) set back; the others were already at or before it.',
  })
  partitions!: WatermarkChange[];

  @Field()
  dryRun!: boolean;

  @Field({ description: 'True once the new watermarks committed (false for a dry run, or when nothing was later).' })
  applied!: boolean;

  @Field({
    description:
      'True when every changed partition with a live owner was claimed again by it within 10 s (it rebuilt its windows under the new watermark).',
  })
  acknowledged!: boolean;
}

@ObjectType({ description: 'Why a partition keeps failing to commit (or to be claimed).' })
export class JobError {
  @Field({
    description:
      'Stable code: MYSQL_<errno> for a MySQL/MariaDB error (e.g. MYSQL_1146 table missing), a Prisma code (P2xxx), or an application code such as WINDOW_SPEC_CHANGED.',
  })
  code!: string;

  @Field({ description: "The database's (or the service's) message." })
  message!: string;

  @Field(() => Date, { description: 'When the first of the consecutive failed attempts happened.' })
  since!: Date;

  @Field(() => Int, { description: 'Consecutive attempts that failed with this code.' })
  attempts!: number;
}

@ObjectType()
export class JobPartition {
  @Field(() => Int)
  partition!: number;

  @Field(() => String, {
    nullable: true,
    description: 'The worker process (host:pid) that owns the partition now; null when none is alive.',
  })
  owner!: string | null;

  @Field(() => GraphQLBigInt, { description: 'Committed offset: the next record to process.' })
  committedOffset!: number | bigint;

  @Field(() => GraphQLBigInt)
  latest!: number | bigint;

  @Field(() => GraphQLBigInt)
  lag!: number | bigint;

  @Field(() => Date, { nullable: true, description: 'Event-time watermark.' })
  watermark!: Date | null;

  @Field(() => Float, { description: 'Records committed per second over the last few seconds.' })
  recordsPerSecond!: number;

  @Field(() => GraphQLBigInt)
  lateRecords!: number | bigint;

  @Field(() => GraphQLBigInt)
  deadLettered!: number | bigint;

  @Field(() => GraphQLBigInt)
  lostToRetention!: number | bigint;

  @Field(() => GraphQLBigInt, {
    description:
      'Records whose event time was already older than the de-duplication horizon when they arrived (recharge-metrics: RECHARGE_DEDUP_HORIZON_DAYS of notify time). They are not counted in the results: they went to the dead-letter topic with reason beyond-dedup-horizon (and are included in deadLettered). Always 0 for the other jobs.',
  })
  beyondDedupHorizon!: number | bigint;

  @Field(() => GraphQLBigInt, {
    description:
      'Records whose event time was further ahead of their own Kafka timestamp than MAX_EVENT_TIME_AHEAD_MS (a wrong clock): dead-lettered with reason event-time-ahead (included in deadLettered), never counted, never moving a watermark. 0 after a rebuild.',
  })
  eventTimeAhead!: number | bigint;

  @Field(() => JobError, { nullable: true, description: 'Set while this partition is FAILING.' })
  lastError!: JobError | null;
}

@ObjectType({
  description:
    "More than EVENT_TIME_WARNING_PERCENT of the job's records over about the last minute were dead-lettered for one reason: late (a stalled producer, a watermark moved too far) or event-time-ahead (a wrong clock upstream).",
})
export class JobWarning {
  @Field({ description: 'late or event-time-ahead.' })
  reason!: string;

  @Field(() => Int, { description: 'Records dead-lettered for this reason over about the last minute.' })
  records!: number;

  @Field(() => Int, { description: 'Records the job committed over the same minute.' })
  ofRecords!: number;
}

@ObjectType()
export class Job {
  @Field()
  name!: string;

  @Field()
  groupId!: string;

  @Field()
  topic!: string;

  @Field(() => JobState)
  state!: JobState;

  @Field(() => JobResults)
  results!: JobResults;

  @Field(() => [JobPartition])
  partitions!: JobPartition[];

  @Field(() => JobError, {
    nullable: true,
    description: 'While the job is FAILING: the failure of its lowest failing partition; null otherwise.',
  })
  lastError!: JobError | null;

  @Field(() => [JobWarning], {
    description:
      'Reasons for which the job dead-letters more than EVENT_TIME_WARNING_PERCENT of its records over about the last minute (from the live stats of its workers); empty when none.',
  })
  warnings!: JobWarning[];
}
