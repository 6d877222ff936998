import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { callbackStatusName, type UnpaidUserRow } from '../../store/unpaid-user-store.js';

/** The CRM team's callback status; NULL in `unpayment_record` reads as PENDING. */
export enum CallbackStatus {
  PENDING = 'PENDING',
  CONTACTED = 'CONTACTED',
  CONVERTED = 'CONVERTED',
  UNREACHABLE = 'UNREACHABLE',
  DECLINED = 'DECLINED',
}
registerEnumType(CallbackStatus, { name: 'CallbackStatus', description: 'Callback status set by the CRM team. A user never called back is PENDING.' });

@ObjectType({ description: 'A user who entered the order page at least the threshold number of times in one window and is not a VIP: a likely buyer who did not pay, for the CRM team to call back.' })
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

@ObjectType({ description: 'One detection of one user in one window, published after its commit.' })
export class AbnormalUserDetection {
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
