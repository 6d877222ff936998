import { GraphQLBigInt } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    "A consumer group's position on one partition. Offsets, lags and counts are BigInt: a JSON number up to 2^53 - 1, a decimal string beyond (graphql-scalars).",
})
export class ConsumerOffset {
  @Field()
  groupId!: string;

  @Field()
  topic!: string;

  @Field(() => Int)
  partition!: number;

  @Field(() => GraphQLBigInt, {
    description:
      'Committed offset: the next record to process (the database is the source of truth). 0 before the first commit.',
  })
  offset!: number | bigint;

  @Field(() => GraphQLBigInt, { description: "The partition's earliest offset still on the broker." })
  earliest!: number | bigint;

  @Field(() => GraphQLBigInt, { description: "The partition's latest offset (high watermark)." })
  latest!: number | bigint;

  @Field(() => GraphQLBigInt, { description: 'latest - offset.' })
  lag!: number | bigint;

  @Field(() => Float, {
    nullable: true,
    description: 'Watermark, epoch milliseconds; null before the first event time.',
  })
  watermarkMs!: number | null;

  @Field(() => GraphQLBigInt, { description: 'Records deleted by retention before this group processed them.' })
  lostToRetention!: number | bigint;

  @Field(() => GraphQLBigInt, {
    description:
      "Records never processed that an operator's reset moved past on purpose (beside lostToRetention: totals that cannot be exact say so). 0 after a rebuild.",
  })
  skippedByReset!: number | bigint;

  @Field(() => Date, {
    nullable: true,
    description:
      'When a worker last found this partition reading a recreated topic (TOPIC_RECREATED: its log is not the one the offset was read from); null once a reset or rebuild decided what to count.',
  })
  topicRecreatedAt!: Date | null;

  @Field(() => GraphQLBigInt, { description: 'Late records (counted and dead-lettered, not aggregated).' })
  lateRecords!: number | bigint;

  @Field(() => GraphQLBigInt, { description: 'Records sent to the dead-letter topic (late ones included).' })
  deadLettered!: number | bigint;

  @Field(() => GraphQLBigInt, {
    description:
      'Records whose event time was further ahead of their own Kafka timestamp than MAX_EVENT_TIME_AHEAD_MS (a wrong clock): dead-lettered with reason event-time-ahead (included in deadLettered), never counted, never moving a watermark. 0 after a rebuild.',
  })
  eventTimeAhead!: number | bigint;
}
