import { DateResolver } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Distinct users of one calendar day in TIME_ZONE (Asia/Shanghai by default).' })
export class DailyActiveUsers {
  @Field(() => DateResolver, { description: 'The local calendar date.' })
  date!: Date;

  @Field(() => Int, { description: 'Distinct uids with any user-behaviour event that day (duplicates counted once).' })
  activeUsers!: number;

  @Field(() => Int, { description: 'Users first seen ever on that day.' })
  newUsers!: number;
}
