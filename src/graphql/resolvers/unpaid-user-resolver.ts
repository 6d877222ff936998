import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { TOPIC_ABNORMAL_USER_DETECTED, type AbnormalUserDetectedEvent } from '../../publish/event-bus.js';
import { encodeCursor } from '../../store/unpaid-user-store.js';
import { CRM_ROLES, READ_ROLES } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { groupOf } from '../job-groups.js';
import { badUserInput, toGraphQLError } from '../errors.js';
import { unpaidUserLoader } from '../request-loaders.js';
import { AbnormalUserDetection, CallbackStatus, UnpaidUser, UnpaidUserConnection } from '../types/unpaid-user.js';

/** Largest page `unpaidUsers(first:)` serves. */
export const MAX_PAGE_SIZE = 200;

@Resolver(() => UnpaidUser)
export class UnpaidUserResolver {
  @Authorized(READ_ROLES)
  @Query(() => UnpaidUserConnection, { description: `Abnormal-order users, newest last detection first (ties by uid). \`first\`: 0..${MAX_PAGE_SIZE}.` })
  async unpaidUsers(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) firstArg: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('callbackStatus', () => CallbackStatus, { nullable: true }) callbackStatus: CallbackStatus | null,
  ): Promise<UnpaidUserConnection> {
    const first = firstArg ?? 50;
    if (first < 0 || first > MAX_PAGE_SIZE) throw badUserInput('first', `must be between 0 and ${MAX_PAGE_SIZE}, got ${first}`);
    try {
      const page = await ctx.services.unpaidUsers.page(first, after ?? null, callbackStatus ?? null);
      const edges = page.rows.map((row) => ({ cursor: encodeCursor(row), node: UnpaidUser.from(row) }));
      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount: page.totalCount,
      };
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(READ_ROLES)
  @Query(() => UnpaidUser, { nullable: true, description: 'One abnormal-order user, or null.' })
  async unpaidUser(@Ctx() ctx: GraphQLContext, @Arg('uid', () => ID) uid: string): Promise<UnpaidUser | null> {
    const row = await unpaidUserLoader(ctx).load(uid);
    return row ? UnpaidUser.from(row) : null;
  }

  @Authorized(CRM_ROLES)
  @Mutation(() => UnpaidUser, { description: 'Sets the callback status (roles crm, ops) and audits who, when, from and to. Unknown uid: NOT_FOUND.' })
  async setCallbackStatus(
    @Ctx() ctx: GraphQLContext,
    @Arg('uid', () => ID) uid: string,
    @Arg('status', () => CallbackStatus) status: CallbackStatus,
  ): Promise<UnpaidUser> {
    try {
      return UnpaidUser.from(await ctx.services.unpaidUsers.setCallbackStatus(uid, status, ctx.caller!));
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(READ_ROLES)
  @Subscription(() => AbnormalUserDetection, {
    topics: TOPIC_ABNORMAL_USER_DETECTED,
    topicId: ({ context }: { context: GraphQLContext }) => groupOf(context, 'abnormal-orders'),
    description: 'Each user detected in each window, once, after the detection committed.',
  })
  abnormalUserDetected(@Root() event: AbnormalUserDetectedEvent): AbnormalUserDetection {
    return Object.assign(new AbnormalUserDetection(), {
      uid: event.uid,
      phone: event.phone,
      enterOrderCount: event.enterOrderCount,
      windowStart: new Date(event.windowStart),
      windowEnd: new Date(event.windowEnd),
    });
  }
}
