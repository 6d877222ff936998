import { ABNORMAL_ORDERS_SERVICES } from './abnormal-orders-services.js';
import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { CallbackStatusConflictError } from './callback-status-conflict-error.js';
import { MAX_STATUS_UPDATES } from './callback-status-plan.js';
import { keyId } from '../../store/key-id.js';
import type { CallbackStatusName } from './unpaid-user-store.js';
import { CRM_ROLES } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput, GRAPHQL_CODES, toGraphQLError } from '../../graphql/errors.js';
import {
  CallbackStatusUpdate,
  CallbackStatusUpdateError,
  CallbackStatusUpdateResult,
  SetCallbackStatusesPayload,
} from './callback-status-update-type.js';
import { CallbackStatus, UnpaidUser } from './unpaid-user-type.js';
import { checkClientMutationId, checkNote, requireCaller } from './callback-status-input.js';

@Resolver(() => CallbackStatusUpdateResult)
export class CallbackStatusResolver {
  @Authorized(CRM_ROLES)
  @Mutation(() => SetCallbackStatusesPayload, {
    description: `Sets many callback statuses in one transaction (roles crm, ops): up to ${MAX_STATUS_UPDATES} updates, each applied or refused on its own (NOT_FOUND, CONFLICT when \`expectedStatus\` differs) in order, audited with its note. One operation against the rate limit; costs by the number of updates. \`clientMutationId\`: a retry with the same id within 24 hours (by the same key) answers the first result and changes nothing. See docs/api.md, "CRM integration".`,
  })
  async setCallbackStatuses(
    @Ctx() ctx: GraphQLContext,
    @Arg('updates', () => [CallbackStatusUpdate]) updates: CallbackStatusUpdate[],
    @Arg('clientMutationId', () => String, {
      nullable: true,
      description: "The caller's id of this call (1..128 characters): makes a retry safe for 24 hours.",
    })
    clientMutationId: string | null,
  ): Promise<SetCallbackStatusesPayload> {
    if (updates.length > MAX_STATUS_UPDATES)
      throw badUserInput('updates', `at most ${MAX_STATUS_UPDATES} updates per call, got ${updates.length}`);
    updates.forEach((u, i) => checkNote(`updates[${i}].note`, u.note ?? null));
    checkClientMutationId(clientMutationId ?? null);
    try {
      const caller = requireCaller(ctx);
      const { replayed, outcomes } = await ctx.services.modules.get(ABNORMAL_ORDERS_SERVICES).callbackStatuses.apply(
        updates.map((u) => ({
          uid: u.uid,
          status: u.status,
          note: u.note ?? null,
          expectedStatus: u.expectedStatus ?? null,
        })),
        { role: caller.role, keyId: keyId(caller.apiKey) },
        clientMutationId ?? null,
      );
      return Object.assign(new SetCallbackStatusesPayload(), {
        clientMutationId: clientMutationId ?? null,
        replayed,
        results: outcomes.map((o) =>
          Object.assign(new CallbackStatusUpdateResult(), {
            uid: o.uid,
            user: o.row ? UnpaidUser.from(o.row) : null,
            failure: o.error ?? null,
            error: o.error
              ? Object.assign(new CallbackStatusUpdateError(), {
                  code: GRAPHQL_CODES[o.error.code],
                  message: o.error.message,
                  currentStatus:
                    o.error instanceof CallbackStatusConflictError
                      ? CallbackStatus[o.error.currentStatus as CallbackStatusName]
                      : null,
                })
              : null,
          }),
        ),
      });
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  /** The user of an applied update; a refused one's error, at this item's path (`extensions.code`). */
  @FieldResolver(() => UnpaidUser, { nullable: true })
  user(@Root() result: CallbackStatusUpdateResult): UnpaidUser | null {
    if (result.failure) throw toGraphQLError(result.failure);
    return result.user;
  }
}
