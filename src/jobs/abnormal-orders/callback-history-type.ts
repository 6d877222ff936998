import { Field, ObjectType } from 'type-graphql';
import { CallbackStatus, PageInfo } from './unpaid-user-type.js';

@ObjectType({
  description: 'Who changed a callback status: the role and a stable id of the credential (never the credential).',
})
export class CallbackActor {
  @Field({ description: 'viewer, crm or ops.' })
  role!: string;

  @Field({
    description: 'First 12 hex digits of sha256 of the API key (or of `jwt:<iss>:<sub>` for a token): stable per key.',
  })
  keyId!: string;
}

@ObjectType({ description: 'One audited callback status change.' })
export class CallbackStatusChange {
  @Field(() => CallbackStatus, { description: 'Status before (PENDING when none was set).' })
  from!: CallbackStatus;

  @Field(() => CallbackStatus)
  to!: CallbackStatus;

  @Field(() => CallbackActor)
  by!: CallbackActor;

  @Field({ description: 'When the change was made (the audit row).' })
  at!: Date;

  @Field(() => String, { nullable: true, description: "The CRM's note, at most 500 characters." })
  note!: string | null;
}

@ObjectType()
export class CallbackStatusChangeEdge {
  @Field()
  cursor!: string;

  @Field(() => CallbackStatusChange)
  node!: CallbackStatusChange;
}

@ObjectType({ description: "A page of a user's callback status changes, newest first." })
export class CallbackStatusChangeConnection {
  @Field(() => [CallbackStatusChangeEdge])
  edges!: CallbackStatusChangeEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
