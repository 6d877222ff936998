import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { callbackStatusName, type UnpaidUserRow } from './unpaid-user-store.js';

/** The CRM team's callback status; NULL in `unpayment_record` reads as PENDING. */
export enum CallbackStatus {
  PENDING = 'PENDING',
  CONTACTED = 'CONTACTED',
  CONVERTED = 'CONVERTED',
  UNREACHABLE = 'UNREACHABLE',
  DECLINED = 'DECLINED',
}
registerEnumType(CallbackStatus, {
  name: 'CallbackStatus',
  description: 'Callback status set by the CRM team. A user never called back is PENDING.',
});

@ObjectType({
  description:
    'A user who entered the order page at least the threshold number of times in one window and is not a VIP: a likely buyer who did not pay, for the CRM team to call back.',
})
export class UnpaidUser {
  @Field(() => ID)
  uid!: string;

  @Field()
  phone!: string;

  @Field(() => CallbackStatus)
  callbackStatus!: CallbackStatus;

  @Field(() => Int, { description: 'enterOrderPage events in the window of the last detection.' })
  enterOrderCount!: number;

  @Field({ description: 'End of the first detecting window (event time).' })
  firstDetectedAt!: Date;

  @Field({ description: 'End of the last detecting window (event time).' })
  lastDetectedAt!: Date;

  @Field({ description: 'Start of the last detecting window (inclusive).' })
  windowStart!: Date;

  @Field({ description: 'End of the last detecting window (exclusive).' })
  windowEnd!: Date;

  @Field(() => Int, {
    description:
      'Windows that flagged the user since its last status change (since its first detection while no status was ever set). Above 0 with a status a CRM set: the user came back after it (see `unpaidUsers(redetectedAfter:)`).',
  })
  detectionsSinceCallback!: number;

  static from(row: UnpaidUserRow): UnpaidUser {
    return Object.assign(new UnpaidUser(), {
      uid: row.uid,
      phone: row.phone,
      callbackStatus: CallbackStatus[callbackStatusName(row.callbackStatus)],
      enterOrderCount: row.enterOrderCount,
      firstDetectedAt: row.firstDetectedAt,
      lastDetectedAt: row.lastDetectedAt,
      windowStart: row.windowStart,
      windowEnd: row.windowEnd,
      detectionsSinceCallback: row.detectionsSinceCallback,
    });
  }
}

@ObjectType()
export class UnpaidUserEdge {
  @Field()
  cursor!: string;

  @Field(() => UnpaidUser)
  node!: UnpaidUser;
}

@ObjectType({ description: 'Relay cursor-connection page information.' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType({ description: 'A page of abnormal-order users, newest last detection first.' })
export class UnpaidUserConnection {
  @Field(() => [UnpaidUserEdge])
  edges!: UnpaidUserEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  // A COUNT of its own over the table: priced like a root field by the cost limit.
  @Field(() => Int, { description: 'Users matching the filter, on all pages.', complexity: 10 })
  totalCount!: number;
}

/** What an `abnormalUserDetected` event is. */
export enum AbnormalUserEventKind {
  DETECTION = 'DETECTION',
  PROGRESS = 'PROGRESS',
}
registerEnumType(AbnormalUserEventKind, {
  name: 'AbnormalUserEventKind',
  description:
    'DETECTION: a user detected in a window. PROGRESS (only with `withProgress: true`): no detection, only the latest committed cursor; its other fields are placeholders (uid and phone empty, enterOrderCount 0, windowStart = windowEnd = committedAt).',
});

@ObjectType({
  description:
    'One detection of one user in one window, after its commit; or, with `withProgress`, a progress event (see `kind`).',
})
export class AbnormalUserDetection {
  @Field(() => AbnormalUserEventKind, { description: 'DETECTION, or PROGRESS (only with `withProgress: true`).' })
  kind!: AbnormalUserEventKind;

  @Field({
    description:
      'Opaque position right after this event: pass it as `after` to resume exactly after it (see README, "Subscriptions: exactly once with a cursor").',
  })
  cursor!: string;

  @Field({
    description: 'When the batch transaction wrote the detection (PROGRESS: when the server last read the change log).',
  })
  committedAt!: Date;

  @Field(() => ID)
  uid!: string;

  @Field()
  phone!: string;

  @Field(() => Int)
  enterOrderCount!: number;

  @Field({ description: 'Window start (inclusive).' })
  windowStart!: Date;

  @Field({ description: 'Window end (exclusive); also the detection time.' })
  windowEnd!: Date;
}
