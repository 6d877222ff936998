import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type { AppError } from '../../errors/app-error.js';
import { CallbackStatus, UnpaidUser } from './unpaid-user-type.js';

@InputType({ description: 'One callback status change of `setCallbackStatuses`.' })
export class CallbackStatusUpdate {
  @Field(() => ID)
  uid!: string;

  @Field(() => CallbackStatus)
  status!: CallbackStatus;

  @Field(() => String, { nullable: true, description: 'Stored with the audit row; at most 500 characters.' })
  note?: string | null;

  @Field(() => CallbackStatus, {
    nullable: true,
    description:
      "Change only if the user's status is this one (PENDING: never set, or set to PENDING); otherwise the item fails with CONFLICT and the current status.",
  })
  expectedStatus?: CallbackStatus | null;
}

@ObjectType({ description: 'Why one update of `setCallbackStatuses` was refused.' })
export class CallbackStatusUpdateError {
  @Field({
    description:
      "NOT_FOUND (no such user) or CONFLICT (expectedStatus differs): the same as the item's `extensions.code`.",
  })
  code!: string;

  @Field()
  message!: string;

  @Field(() => CallbackStatus, { nullable: true, description: "With CONFLICT: the user's current status." })
  currentStatus!: CallbackStatus | null;
}

@ObjectType({ description: 'The outcome of one update, in the order of `updates`.' })
export class CallbackStatusUpdateResult {
  @Field(() => ID)
  uid!: string;

  @Field(() => UnpaidUser, {
    nullable: true,
    description:
      'The user after the change; null when the update was refused, with an error at this path (`extensions.code` NOT_FOUND or CONFLICT, with `currentStatus`).',
  })
  user!: UnpaidUser | null;

  @Field(() => CallbackStatusUpdateError, {
    nullable: true,
    description: 'Why the update was refused (null when applied).',
  })
  error!: CallbackStatusUpdateError | null;

  /** The domain error of a refused update (not a schema field): the `user` resolver throws it. */
  failure!: AppError | null;
}

@ObjectType({ description: 'The answer of `setCallbackStatuses`.' })
export class SetCallbackStatusesPayload {
  @Field(() => String, { nullable: true, description: 'The clientMutationId of the call, as given.' })
  clientMutationId!: string | null;

  @Field({
    description:
      'True when this is the stored answer of an earlier call with the same clientMutationId (within 24 hours): nothing was changed now.',
  })
  replayed!: boolean;

  @Field(() => [CallbackStatusUpdateResult], { description: 'One result per update, in order.' })
  results!: CallbackStatusUpdateResult[];
}
