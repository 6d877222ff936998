import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CallbackStatusChange } from './callback-history-type.js';
import { CallbackStatus, PageInfo } from './unpaid-user-type.js';

/** What an `unpaidUserChanges` item is. */
export enum UnpaidUserChangeKind {
  DETECTION = 'DETECTION',
  STATUS_CHANGE = 'STATUS_CHANGE',
}
registerEnumType(UnpaidUserChangeKind, {
  name: 'UnpaidUserChangeKind',
  description:
    'DETECTION: a user detected in a window (`detection`). STATUS_CHANGE: a callback status set (`statusChange`).',
});

@ObjectType({ description: 'A user detected in one window.' })
export class UnpaidUserDetectionChange {
  @Field()
  phone!: string;

  @Field(() => Int)
  enterOrderCount!: number;

  @Field({ description: 'Window start (inclusive).' })
  windowStart!: Date;

  @Field({ description: 'Window end (exclusive); also the detection time.' })
  windowEnd!: Date;

  @Field({
    description:
      'True when a CRM had set a callback status before this detection: the user came back after it (see docs/api.md, "CRM integration").',
  })
  redetected!: boolean;

  @Field(() => CallbackStatus, {
    description: 'The callback status when detected (PENDING when none was set).',
  })
  callbackStatus!: CallbackStatus;
}

@ObjectType({ description: 'One change of the abnormal-order users, in commit order.' })
export class UnpaidUserChange {
  @Field(() => UnpaidUserChangeKind)
  kind!: UnpaidUserChangeKind;

  @Field({ description: 'Opaque position right after this change (a subscription cursor): pass it as `after`.' })
  cursor!: string;

  @Field({ description: 'When the transaction wrote the change.' })
  committedAt!: Date;

  @Field(() => ID)
  uid!: string;

  @Field(() => UnpaidUserDetectionChange, { nullable: true, description: 'With DETECTION.' })
  detection!: UnpaidUserDetectionChange | null;

  @Field(() => CallbackStatusChange, { nullable: true, description: 'With STATUS_CHANGE.' })
  statusChange!: CallbackStatusChange | null;
}

@ObjectType()
export class UnpaidUserChangeEdge {
  @Field()
  cursor!: string;

  @Field(() => UnpaidUserChange)
  node!: UnpaidUserChange;
}

@ObjectType({
  description:
    'A page of `unpaidUserChanges`. `pageInfo.endCursor` is never null: the cursor after the page (the `after` given when it is empty).',
})
export class UnpaidUserChangeConnection {
  @Field(() => [UnpaidUserChangeEdge])
  edges!: UnpaidUserChangeEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
