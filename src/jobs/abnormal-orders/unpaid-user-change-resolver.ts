import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { ABNORMAL_ORDERS_CHANGE_KIND, type AbnormalUserDetectedEvent } from './abnormal-orders-events.js';
import { CursorExpiredError } from '../../errors/cursor-expired-error.js';
import type { ChangeRow } from '../../store/change-log-store.js';
import type { CallbackStatusChangedEvent } from './callback-status-updater.js';
import { readChangePage } from '../../subscriptions/change-page.js';
import { READ_ROLES } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput, toGraphQLError } from '../../graphql/errors.js';
import { groupOf } from '../../graphql/job-groups.js';
import { cursorExpired } from '../../graphql/subscription-start.js';
import { CallbackActor, CallbackStatusChange } from './callback-history-type.js';
import {
  UnpaidUserChange,
  UnpaidUserChangeConnection,
  UnpaidUserChangeKind,
  UnpaidUserDetectionChange,
} from './unpaid-user-change-type.js';
import { CallbackStatus } from './unpaid-user-type.js';
import type { CallbackStatusName } from './unpaid-user-store.js';

/** Largest page `unpaidUserChanges(first:)` serves. */
export const MAX_CHANGES_PAGE = 200;

@Resolver(() => UnpaidUserChange)
export class UnpaidUserChangeResolver {
  @Authorized(READ_ROLES)
  @Query(() => UnpaidUserChangeConnection, {
    description: `The pull change feed of abnormal-order users over HTTP: detections and callback status changes in commit order, after the cursor \`after\` (a cursor of this feed or of \`abnormalUserDetected\`: the same change-log positions). Pass \`pageInfo.endCursor\` as the next \`after\`: every change comes once, with no gap and no repeat, whichever API process answers. Without \`after\`: from the oldest change kept. CURSOR_EXPIRED (with \`extensions.oldestCursor\`) past the change log's retention; BAD_USER_INPUT for a cursor of another feed. \`first\`: 1..${MAX_CHANGES_PAGE}.`,
  })
  async unpaidUserChanges(
    @Ctx() ctx: GraphQLContext,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100 }) firstArg: number | null,
  ): Promise<UnpaidUserChangeConnection> {
    const first = firstArg ?? 100;
    if (first < 1 || first > MAX_CHANGES_PAGE)
      throw badUserInput('first', `must be between 1 and ${MAX_CHANGES_PAGE}, got ${first}`);
    try {
      const page = await readChangePage(
        ctx.services.changeFeeds.store,
        groupOf(ctx, 'abnormal-orders'),
        after ?? null,
        first,
        ctx.services.changeLogRetentionHours,
      );
      const edges = page.changes.map(({ cursor, change }) => ({ cursor, node: toChange(cursor, change) }));
      /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- type-graphql reads these fields off plain objects; the classes only declare the schema's shape */
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
      /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    } catch (err) {
      if (err instanceof CursorExpiredError) throw cursorExpired(err);
      throw toGraphQLError(err);
    }
  }
}

const statusOf = (name: string | undefined): CallbackStatus =>
  name !== undefined && name in CallbackStatus ? CallbackStatus[name as CallbackStatusName] : CallbackStatus.PENDING;

function toChange(cursor: string, change: ChangeRow): UnpaidUserChange {
  const committedAt = new Date(change.committedAtMs);
  if (change.kind === ABNORMAL_ORDERS_CHANGE_KIND.callbackStatusChanged) {
    const c = change.payload as CallbackStatusChangedEvent;
    return Object.assign(new UnpaidUserChange(), {
      kind: UnpaidUserChangeKind.STATUS_CHANGE,
      cursor,
      committedAt,
      uid: c.uid,
      detection: null,
      statusChange: Object.assign(new CallbackStatusChange(), {
        from: statusOf(c.from),
        to: statusOf(c.to),
        by: Object.assign(new CallbackActor(), { role: c.role, keyId: c.keyId }),
        at: new Date(c.at),
        note: c.note,
      }),
    });
  }
  const d = change.payload as AbnormalUserDetectedEvent;
  return Object.assign(new UnpaidUserChange(), {
    kind: UnpaidUserChangeKind.DETECTION,
    cursor,
    committedAt,
    uid: d.uid,
    statusChange: null,
    detection: Object.assign(new UnpaidUserDetectionChange(), {
      phone: d.phone,
      enterOrderCount: d.enterOrderCount,
      windowStart: new Date(d.windowStart),
      windowEnd: new Date(d.windowEnd),
      redetected: d.callbackStatus !== undefined,
      callbackStatus: statusOf(d.callbackStatus),
    }),
  });
}
