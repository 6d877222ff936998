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

/** Where `repairWatermark` sets watermarks back to. */
export enum WatermarkTarget {
  GIVEN_TIME = 'GIVEN_TIME',
  OPEN_WINDOWS = 'OPEN_WINDOWS',
}
registerEnumType(WatermarkTarget, {
  name: 'WatermarkTarget',
  description:
    "GIVEN_TIME: the time in `to`, for every partition. OPEN_WINDOWS: per partition, the largest event time at or before the wall clock among the records of its stored open windows (`[replay_from, next_offset)`; the last 10,000 records before next_offset when that range is empty, as for the additive jobs), read from Kafka with the job's own parser, minus the grace period (the engine's watermark formula).",
  valuesConfig: {
    GIVEN_TIME: { description: 'The time in `to` (required), at or before the wall clock.' },
    OPEN_WINDOWS: {
      description:
        'Computed per partition from its records (`to` must be left out); a partition with no record at or before the wall clock is left as it is (outcome NO_EVENT_TIME).',
    },
  },
});

/** What `repairWatermark` does to one partition. */
export enum WatermarkOutcome {
  SET_BACK = 'SET_BACK',
  NOT_LATER = 'NOT_LATER',
  NO_WATERMARK = 'NO_WATERMARK',
  NO_EVENT_TIME = 'NO_EVENT_TIME',
}
registerEnumType(WatermarkOutcome, {
  name: 'WatermarkOutcome',
  description: "What repairWatermark did (or, for a dry run, would do) to one partition's watermark.",
  valuesConfig: {
    SET_BACK: { description: 'Set back to the target (a dry run: would be).' },
    NOT_LATER: { description: 'Left: already at or before the target (a repair never moves a watermark forward).' },
    NO_WATERMARK: { description: 'Left: the partition has no watermark.' },
    NO_EVENT_TIME: {
      description:
        'Left: no record read has an event time at or before the wall clock, so no target could be computed (OPEN_WINDOWS).',
    },
  },
});

/** Which records the OPEN_WINDOWS target read of a partition. */
export enum WatermarkReadKind {
  OPEN_WINDOWS = 'OPEN_WINDOWS',
  PARTITION_TAIL = 'PARTITION_TAIL',
}
registerEnumType(WatermarkReadKind, {
  name: 'WatermarkReadKind',
  valuesConfig: {
    OPEN_WINDOWS: {
      description: 'The records of the stored open windows, [replay_from, next_offset): those a claim replays.',
    },
    PARTITION_TAIL: {
      description:
        'The last 10,000 records before next_offset: the open-window range is empty (an additive job, or no window open).',
    },
  },
});

@ObjectType({ description: 'The records the OPEN_WINDOWS target read of one partition, and what they said.' })
export class WatermarkRead {
  @Field(() => WatermarkReadKind)
  kind!: WatermarkReadKind;

  @Field(() => GraphQLBigInt, { description: 'First offset read.' })
  fromOffset!: bigint;

  @Field(() => GraphQLBigInt, { description: 'End of the read, exclusive: the stored next_offset (or the log end).' })
  toOffset!: bigint;

  @Field(() => Int, { description: 'Records read.' })
  records!: number;

  @Field(() => Date, {
    nullable: true,
    description: 'The largest event time at or before the wall clock among them; null when none.',
  })
  latestEventTime!: Date | null;

  @Field(() => Int, {
    description: 'Records whose event time is after the wall clock (a wrong clock): not trusted.',
  })
  afterWallClock!: number;

  @Field(() => Int, {
    description: 'Records without an event time (malformed, refused by the event-time guard, or ignored by the job).',
  })
  withoutEventTime!: number;
}

@ObjectType({
  description: 'One partition considered by repairWatermark: its outcome, target, and watermark before and after.',
})
export class WatermarkPartitionReport {
  @Field(() => Int)
  partition!: number;

  @Field(() => WatermarkOutcome)
  outcome!: WatermarkOutcome;

  @Field(() => Date, { nullable: true, description: 'The stored watermark before (event time); null when none.' })
  before!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'The watermark aimed at: `to`, or the latest event time read minus the grace period; null when none could be computed.',
  })
  target!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'The watermark after (a dry run: would be after): the target when SET_BACK, else the one before.',
  })
  after!: Date | null;

  @Field(() => GraphQLBigInt, { description: 'The stored replay_from before.' })
  replayFromBefore!: bigint;

  @Field(() => GraphQLBigInt, {
    description:
      'replay_from after: past the last record read whose event time is after the wall clock, when the open-window range holds one and the partition is set back (a claim would replay it and move the watermark ahead again); else the one before.',
  })
  replayFromAfter!: bigint;

  @Field(() => WatermarkRead, {
    nullable: true,
    description: 'OPEN_WINDOWS: the records read; null for GIVEN_TIME and for a partition without a watermark.',
  })
  read!: WatermarkRead | null;
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
      'The partitions whose watermark was (or, for a dry run, would be) set back; `report` says why the others were left.',
  })
  partitions!: WatermarkChange[];

  @Field(() => WatermarkTarget)
  target!: WatermarkTarget;

  @Field(() => Date, { description: 'The wall clock the repair compared event times and `to` with.' })
  wallClock!: Date;

  @Field(() => [WatermarkPartitionReport], {
    description:
      'Every partition considered (all, or those listed), ascending, with its outcome: the ones left as they are say why.',
  })
  report!: WatermarkPartitionReport[];

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
