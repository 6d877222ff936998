import { ABNORMAL_ORDERS_SERVICES } from './abnormal-orders-services.js';
import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { historyCursor } from './callback-history-store.js';
import type { FeedEvent } from '../../subscriptions/change-subscription.js';
import { ABNORMAL_ORDERS_CHANGE_KIND, type AbnormalUserDetectedEvent } from './abnormal-orders-events.js';
import { keyId } from '../../store/key-id.js';
import { callbackStatusName, encodeCursor } from './unpaid-user-store.js';
import { CallbackActor, CallbackStatusChange, CallbackStatusChangeConnection } from './callback-history-type.js';
import { DATABASE_READ_COST } from '../../graphql/operation-limits.js';
import { checkNote, requireCaller } from './callback-status-input.js';
import { CRM_ROLES, READ_ROLES } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { groupOf } from '../../graphql/job-groups.js';
import { badUserInput, toGraphQLError } from '../../graphql/errors.js';
import { cursorExpired, PROGRESS_INTERVAL_MS, subscriptionStart } from '../../graphql/subscription-start.js';
import {
  AbnormalUserDetection,
  AbnormalUserEventKind,
  CallbackStatus,
  UnpaidUser,
  UnpaidUserConnection,
} from './unpaid-user-type.js';
import { unpaidUserLoader } from './unpaid-user-loader.js';

/** Largest page `unpaidUsers(first:)` serves. */
export const MAX_PAGE_SIZE = 200;

@Resolver(() => UnpaidUser)
export class UnpaidUserResolver {
  @Authorized(READ_ROLES)
  @Query(() => UnpaidUserConnection, {
    description: `Abnormal-order users, newest last detection first (ties by uid). \`first\`: 0..${MAX_PAGE_SIZE}.`,
  })
  async unpaidUsers(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) firstArg: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('callbackStatus', () => CallbackStatus, { nullable: true }) callbackStatus: CallbackStatus | null,
    @Arg('redetectedAfter', () => [CallbackStatus], {
      nullable: true,
      description:
        'Only users whose callback status, set by a CRM, is one of these and who were detected again since it was set (`detectionsSinceCallback` > 0); e.g. [CONVERTED, DECLINED]: users who came back after a final status. With `callbackStatus` too, both apply.',
    })
    redetectedAfter: CallbackStatus[] | null,
  ): Promise<UnpaidUserConnection> {
    const first = firstArg ?? 50;
    if (first < 0 || first > MAX_PAGE_SIZE)
      throw badUserInput('first', `must be between 0 and ${MAX_PAGE_SIZE}, got ${first}`);
    try {
      const page = await ctx.services.modules.get(ABNORMAL_ORDERS_SERVICES).unpaidUsers.page(first, after ?? null, {
        status: callbackStatus ?? null,
        redetectedAfter: redetectedAfter ?? null,
      });
      const edges = page.rows.map((row) => ({ cursor: encodeCursor(row), node: UnpaidUser.from(row) }));
      /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- type-graphql reads these fields off plain objects; the classes only declare the schema's shape */
      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount: page.totalCount,
      };
      /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
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
  @Mutation(() => UnpaidUser, {
    description:
      'Sets the callback status (roles crm, ops) and audits who, when, from, to and the note. Unknown uid: NOT_FOUND. With `expectedStatus`: CONFLICT (with `extensions.currentStatus`) when the status is another, and nothing changes. Many at once, idempotent: `setCallbackStatuses`.',
  })
  async setCallbackStatus(
    @Ctx() ctx: GraphQLContext,
    @Arg('uid', () => ID) uid: string,
    @Arg('status', () => CallbackStatus) status: CallbackStatus,
    @Arg('expectedStatus', () => CallbackStatus, {
      nullable: true,
      description: 'Change only if the status is this one (optimistic concurrency).',
    })
    expectedStatus: CallbackStatus | null,
    @Arg('note', () => String, { nullable: true, description: 'Stored with the audit row; at most 500 characters.' })
    note: string | null,
  ): Promise<UnpaidUser> {
    try {
      const caller = requireCaller(ctx);
      checkNote('note', note ?? null);
      const { outcomes } = await ctx.services.modules
        .get(ABNORMAL_ORDERS_SERVICES)
        .callbackStatuses.apply(
          [{ uid, status, note: note ?? null, expectedStatus: expectedStatus ?? null }],
          { role: caller.role, keyId: keyId(caller.apiKey) },
          null,
        );
      const [outcome] = outcomes;
      if (outcome.error) throw outcome.error;
      return UnpaidUser.from(outcome.row);
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(READ_ROLES)
  @FieldResolver(() => CallbackStatusChangeConnection, {
    description: `The user's callback status changes (the audit), newest first: from, to, by (role and key id), at, note. \`first\`: 0..${MAX_PAGE_SIZE}.`,
    complexity: DATABASE_READ_COST,
  })
  async callbackHistory(
    @Root() user: UnpaidUser,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) firstArg: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<CallbackStatusChangeConnection> {
    const first = firstArg ?? 20;
    if (first < 0 || first > MAX_PAGE_SIZE)
      throw badUserInput('first', `must be between 0 and ${MAX_PAGE_SIZE}, got ${first}`);
    try {
      const page = await ctx.services.modules
        .get(ABNORMAL_ORDERS_SERVICES)
        .callbackHistory.page(user.uid, first, after ?? null);
      const edges = page.entries.map((e) => ({
        cursor: historyCursor(e),
        node: Object.assign(new CallbackStatusChange(), {
          from: CallbackStatus[callbackStatusName(e.from)],
          to: CallbackStatus[callbackStatusName(e.to)],
          by: Object.assign(new CallbackActor(), { role: e.role, keyId: e.keyId }),
          at: e.at,
          note: e.note,
        }),
      }));
      /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- type-graphql reads these fields off plain objects; the classes only declare the schema's shape */
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
      /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(READ_ROLES)
  @Subscription(() => AbnormalUserDetection, {
    description:
      'Each user detected in each window, once, after the detection committed, in commit order per partition. `after`: the cursor of an event received before: every detection committed after it is sent first, then live ones, with no gap and no repeat (CURSOR_EXPIRED past retention, BAD_USER_INPUT for a cursor this subscription did not make); without it, live detections from now. `withProgress`: also a PROGRESS event at least every 5 s with the latest committed cursor.',
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const a = args as { after?: string | null; withProgress?: boolean | null };
      const stream = groupOf(ctx, 'abnormal-orders');
      const { tailer, start, catchUp } = await subscriptionStart(ctx, stream, a.after ?? null);
      return ctx.services.changeFeeds.open({
        tailer,
        store: ctx.services.changeFeeds.store,
        start,
        catchUp,
        filter: (change) => change.kind === ABNORMAL_ORDERS_CHANGE_KIND.abnormalUserDetected,
        progressIntervalMs: a.withProgress ? PROGRESS_INTERVAL_MS : null,
      });
    },
  })
  abnormalUserDetected(
    @Root() event: FeedEvent,
    @Arg('after', () => String, { nullable: true, description: 'Resume after this cursor (of an earlier event).' })
    _after: string | null,
    @Arg('withProgress', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: 'Also send PROGRESS events (at least every 5 s).',
    })
    _withProgress: boolean | null,
    @Ctx() ctx: GraphQLContext,
  ): AbnormalUserDetection {
    // Pruning overtook this subscriber while it read the log: the last event, an error.
    if (event.kind === 'expired') throw cursorExpired(ctx.services.changeFeeds.expired(event.cursor));
    if (event.kind !== 'change') {
      const at = new Date(event.kind === 'progress' ? event.atMs : Date.now());
      return Object.assign(new AbnormalUserDetection(), {
        kind: AbnormalUserEventKind.PROGRESS,
        cursor: event.cursor,
        committedAt: at,
        uid: '',
        phone: '',
        enterOrderCount: 0,
        windowStart: at,
        windowEnd: at,
      });
    }
    const d = event.change.payload as AbnormalUserDetectedEvent;
    return Object.assign(new AbnormalUserDetection(), {
      kind: AbnormalUserEventKind.DETECTION,
      cursor: event.cursor,
      committedAt: new Date(event.change.committedAtMs),
      uid: d.uid,
      phone: d.phone,
      enterOrderCount: d.enterOrderCount,
      windowStart: new Date(d.windowStart),
      windowEnd: new Date(d.windowEnd),
    });
  }
}
