import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: "A consumer group's position on one partition. Offsets are Kafka offsets (exact below 2^53)." })
export class ConsumerOffset {
  @Field()
  groupId!: string;

  @Field()
  topic!: string;

  @Field(() => Int)
  partition!: number;

  @Field(() => Float, { description: 'Committed offset: the next record to process (the database is the source of truth). 0 before the first commit.' })
  offset!: number;

  @Field(() => Float, { description: "The partition's earliest offset still on the broker." })
  earliest!: number;

  @Field(() => Float, { description: "The partition's latest offset (high watermark)." })
  latest!: number;

  @Field(() => Float, { description: 'latest - offset.' })
  lag!: number;

  @Field(() => Float, { nullable: true, description: 'Watermark, epoch milliseconds; null before the first event time.' })
  watermarkMs!: number | null;

  @Field(() => Float, { description: 'Records deleted by retention before this group processed them.' })
  lostToRetention!: number;

  @Field(() => Float, { description: 'Late records (counted and dead-lettered, not aggregated).' })
  lateRecords!: number;

  @Field(() => Float, { description: 'Records sent to the dead-letter topic (late ones included).' })
  deadLettered!: number;
}
