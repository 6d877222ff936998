import { isIP } from 'node:net';
import { GraphQLError } from 'graphql';
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { MINUTE_MS } from '../../domain/time-units.js';
import { OPS_ROLES, READ_ROLES } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput, toGraphQLError } from '../../graphql/errors.js';
import { groupOf } from '../../graphql/job-groups.js';
import { cursorExpired, PROGRESS_INTERVAL_MS, subscriptionStart } from '../../graphql/subscription-start.js';
import { keyId } from '../../store/key-id.js';
import { minuteRange } from '../../stream/minute-buckets.js';
import type { FeedEvent } from '../../subscriptions/change-subscription.js';
import { MAX_AD_ID_LENGTH, MAX_AD_USER_ID_LENGTH } from './ad-click-format.js';
import type { BlacklistActor as Actor, BlacklistKind as StoredKind } from './ad-click-store.js';
import {
  AdClickMinute,
  AdClicksEventKind,
  AdClicksUpdate,
  AdClickTotal,
  BlacklistAction,
  BlacklistActor,
  BlacklistChange,
  BlacklistChangeResult,
  BlacklistEntry,
  BlacklistKind,
  BlockedClicks,
} from './ad-click-type.js';
import { AD_CLICKS_CHANGE_KIND, type AdClicksChangedPayload } from './ad-clicks-events.js';
import { AD_CLICKS_SERVICES } from './ad-clicks-services.js';

/** Most minutes one `adClicks`, `adClickTotals` or `blockedClicks` call covers (one day). */
export const MAX_AD_CLICK_MINUTES = 1_440;
/** Largest `adClickTotals(limit:)`. */
export const MAX_AD_TOTALS = 100;
/** Largest `blacklistChanges(limit:)`. */
export const MAX_BLACKLIST_CHANGES = 500;
/** Longest note of a blacklist change, in characters (the column is VARCHAR(500)). */
export const MAX_BLACKLIST_NOTE_LENGTH = 500;

const toStoredKind = (kind: BlacklistKind): StoredKind => (kind === BlacklistKind.USER ? 'user' : 'ip');
const fromStoredKind = (kind: string): BlacklistKind => (kind === 'user' ? BlacklistKind.USER : BlacklistKind.IP);

/** Who asks, as the audit table records it: the role and a sha256 prefix of the key, never the key. */
const actorOf = (ctx: GraphQLContext): Actor => {
  // @Authorized admits only authenticated callers; a change is never recorded anonymously.
  if (!ctx.caller)
    throw new GraphQLError('this operation needs an authenticated caller', { extensions: { code: 'UNAUTHENTICATED' } });
  return { role: ctx.caller.role, keyId: keyId(ctx.caller.apiKey) };
};

/** The minute range [from, to) of a range query, refused beyond {@link MAX_AD_CLICK_MINUTES}. */
function checkedRange(from: Date, to: Date): { fromMs: number; toMs: number; firstMs: number; count: number } {
  const fromMs = from.getTime();
  const toMs = to.getTime();
  if (toMs < fromMs)
    throw badUserInput('to', `must not be before from (${from.toISOString()}), got ${to.toISOString()}`);
  const { firstMs, count } = minuteRange(fromMs, toMs);
  if (count > MAX_AD_CLICK_MINUTES)
    throw badUserInput('to', `[from, to) covers ${count} minutes; at most ${MAX_AD_CLICK_MINUTES} per call`);
  return { fromMs, toMs, firstMs, count };
}

function checkedEntry(kind: BlacklistKind, value: string, note: string | null): void {
  if (value.length === 0 || value.length > MAX_AD_USER_ID_LENGTH)
    throw badUserInput('value', `expected 1 to ${MAX_AD_USER_ID_LENGTH} characters, got ${value.length}`);
  if (kind === BlacklistKind.IP && isIP(value) === 0)
    throw badUserInput(
      'value',
      `expected an IPv4 or IPv6 address for kind IP, got ${JSON.stringify(value.slice(0, 60))}`,
    );
  if (note !== null && note.length > MAX_BLACKLIST_NOTE_LENGTH)
    throw badUserInput('note', `at most ${MAX_BLACKLIST_NOTE_LENGTH} characters, got ${note.length}`);
}

const actor = (role: string, id: string) => Object.assign(new BlacklistActor(), { role, keyId: id });

/** Adds `value` to the blacklist or removes it (checked, audited as the caller), as a mutation answers it. */
async function changeBlacklist(
  ctx: GraphQLContext,
  action: 'add' | 'remove',
  kind: BlacklistKind,
  value: string,
  note: string | null,
): Promise<BlacklistChangeResult> {
  checkedEntry(kind, value, note);
  const by = actorOf(ctx);
  try {
    const store = ctx.services.modules.get(AD_CLICKS_SERVICES);
    const { changed } =
      action === 'add'
        ? await store.addToBlacklist(toStoredKind(kind), value, note, by)
        : await store.removeFromBlacklist(toStoredKind(kind), value, note, by);
    return Object.assign(new BlacklistChangeResult(), { changed, kind, value });
  } catch (err) {
    throw toGraphQLError(err);
  }
}

@Resolver()
export class AdClicksResolver {
  @Authorized(READ_ROLES)
  @Query(() => [AdClickMinute], {
    description: `One ad's clicks per minute for every minute overlapping [from, to), empty minutes as zeros: counted clicks and the clicks the blacklist dropped, by reason. At most ${MAX_AD_CLICK_MINUTES} minutes per call (BAD_USER_INPUT beyond).`,
  })
  async adClicks(
    @Ctx() ctx: GraphQLContext,
    @Arg('adId', () => String) adId: string,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
  ): Promise<AdClickMinute[]> {
    if (adId.length === 0 || adId.length > MAX_AD_ID_LENGTH)
      throw badUserInput('adId', `expected 1 to ${MAX_AD_ID_LENGTH} characters, got ${adId.length}`);
    const { toMs, firstMs, count } = checkedRange(from, to);
    if (count === 0) return [];
    let stored;
    try {
      stored = await ctx.services.modules.get(AD_CLICKS_SERVICES).adMinutes(adId, firstMs, toMs);
    } catch (err) {
      throw toGraphQLError(err);
    }
    return Array.from({ length: count }, (_, i) => {
      const minuteMs = firstMs + i * MINUTE_MS;
      const row = stored.get(minuteMs);
      return Object.assign(new AdClickMinute(), {
        minute: new Date(minuteMs),
        clicks: row?.clicks ?? 0,
        blockedByUser: row?.blockedByUser ?? 0,
        blockedByIp: row?.blockedByIp ?? 0,
      });
    });
  }

  @Authorized(READ_ROLES)
  @Query(() => [AdClickTotal], {
    description: `The \`limit\` ads (1..${MAX_AD_TOTALS}) with the most counted clicks in the minutes overlapping [from, to), ties by adId, each with the clicks the blacklist dropped. At most ${MAX_AD_CLICK_MINUTES} minutes per call.`,
  })
  async adClickTotals(
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 10 }) limitArg: number | null,
  ): Promise<AdClickTotal[]> {
    const limit = limitArg ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AD_TOTALS)
      throw badUserInput('limit', `must be between 1 and ${MAX_AD_TOTALS}, got ${limit}`);
    const { toMs, firstMs, count } = checkedRange(from, to);
    if (count === 0) return [];
    try {
      const rows = await ctx.services.modules.get(AD_CLICKS_SERVICES).adTotals(firstMs, toMs, limit);
      return rows.map((r) => Object.assign(new AdClickTotal(), r));
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(READ_ROLES)
  @Query(() => BlockedClicks, {
    description: `Every ad's clicks the blacklist dropped in the minutes overlapping [from, to), by reason (user first, else IP), beside the clicks counted. At most ${MAX_AD_CLICK_MINUTES} minutes per call.`,
  })
  async blockedClicks(
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
  ): Promise<BlockedClicks> {
    const { toMs, firstMs, count } = checkedRange(from, to);
    let totals = { clicks: 0, blockedByUser: 0, blockedByIp: 0 };
    if (count > 0) {
      try {
        totals = await ctx.services.modules.get(AD_CLICKS_SERVICES).blockedTotals(firstMs, toMs);
      } catch (err) {
        throw toGraphQLError(err);
      }
    }
    return Object.assign(new BlockedClicks(), {
      from: new Date(firstMs),
      to,
      ...totals,
      blocked: totals.blockedByUser + totals.blockedByIp,
    });
  }

  @Authorized(OPS_ROLES)
  @Query(() => [BlacklistEntry], {
    description: 'The blacklist of the ad-click filter, by kind and value (at most 10,000 entries; role ops).',
  })
  async blacklist(@Ctx() ctx: GraphQLContext): Promise<BlacklistEntry[]> {
    try {
      const rows = await ctx.services.modules.get(AD_CLICKS_SERVICES).list();
      return rows.map((r) =>
        Object.assign(new BlacklistEntry(), {
          kind: fromStoredKind(r.kind),
          value: r.value,
          note: r.note,
          addedBy: actor(r.role, r.keyId),
          addedAt: r.addedAt,
        }),
      );
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(OPS_ROLES)
  @Query(() => [BlacklistChange], {
    description: `The latest \`limit\` (1..${MAX_BLACKLIST_CHANGES}) audited changes of the blacklist, newest first (role ops).`,
  })
  async blacklistChanges(
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limitArg: number | null,
  ): Promise<BlacklistChange[]> {
    const limit = limitArg ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BLACKLIST_CHANGES)
      throw badUserInput('limit', `must be between 1 and ${MAX_BLACKLIST_CHANGES}, got ${limit}`);
    try {
      const rows = await ctx.services.modules.get(AD_CLICKS_SERVICES).audit(limit);
      return rows.map((r) =>
        Object.assign(new BlacklistChange(), {
          action: r.action === 'add' ? BlacklistAction.ADD : BlacklistAction.REMOVE,
          kind: fromStoredKind(r.kind),
          value: r.value,
          note: r.note,
          by: actor(r.role, r.keyId),
          at: new Date(r.changedAt),
        }),
      );
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(OPS_ROLES)
  @Mutation(() => BlacklistChangeResult, {
    description:
      'Puts a user id or an IP on the ad-click blacklist (role ops); audited (who, when, what, note). Takes effect from the next batch: a click is judged against the blacklist as read in the transaction that counts it. Already listed: nothing changes (changed: false).',
  })
  async addToBlacklist(
    @Ctx() ctx: GraphQLContext,
    @Arg('kind', () => BlacklistKind) kind: BlacklistKind,
    @Arg('value', () => String) value: string,
    @Arg('note', () => String, { nullable: true }) note: string | null,
  ): Promise<BlacklistChangeResult> {
    return changeBlacklist(ctx, 'add', kind, value, note);
  }

  @Authorized(OPS_ROLES)
  @Mutation(() => BlacklistChangeResult, {
    description:
      'Takes a user id or an IP off the ad-click blacklist (role ops); audited. Clicks of later batches count again; clicks already dropped stay dropped. Not listed: nothing changes (changed: false).',
  })
  async removeFromBlacklist(
    @Ctx() ctx: GraphQLContext,
    @Arg('kind', () => BlacklistKind) kind: BlacklistKind,
    @Arg('value', () => String) value: string,
    @Arg('note', () => String, { nullable: true }) note: string | null,
  ): Promise<BlacklistChangeResult> {
    return changeBlacklist(ctx, 'remove', kind, value, note);
  }

  @Authorized(READ_ROLES)
  @Subscription(() => AdClicksUpdate, {
    description:
      'Each (ad, minute) a commit changed, with its values after that commit, in commit order per partition (an (ad, minute) fed by several partitions may come once per partition: keep the event with the larger counts, they only grow). `adId`: only that ad. `after`: the cursor of an earlier event: every change committed after it first, then live ones, with no gap and no repeat (CURSOR_EXPIRED past retention); without it, live changes from now. `withProgress`: also a PROGRESS event at least every 5 s.',
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const a = args as { adId?: string | null; after?: string | null; withProgress?: boolean | null };
      const stream = groupOf(ctx, 'ad-clicks');
      const { tailer, start, catchUp } = await subscriptionStart(ctx, stream, a.after ?? null);
      const adId = a.adId ?? null;
      return ctx.services.changeFeeds.open({
        tailer,
        store: ctx.services.changeFeeds.store,
        start,
        catchUp,
        filter: (change) =>
          change.kind === AD_CLICKS_CHANGE_KIND.adMinuteChanged &&
          (adId === null || (change.payload as AdClicksChangedPayload).adId === adId),
        progressIntervalMs: a.withProgress ? PROGRESS_INTERVAL_MS : null,
      });
    },
  })
  adClicksUpdated(
    @Root() event: FeedEvent,
    @Ctx() ctx: GraphQLContext,
    @Arg('adId', () => ID, { nullable: true, description: 'Only this ad.' }) _adId: string | null,
    @Arg('after', () => String, { nullable: true, description: 'Resume after this cursor (of an earlier event).' })
    _after: string | null,
    @Arg('withProgress', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: 'Also send PROGRESS events (at least every 5 s).',
    })
    _withProgress: boolean | null,
  ): AdClicksUpdate {
    // Pruning overtook this subscriber while it read the log: the last event, an error.
    if (event.kind === 'expired') throw cursorExpired(ctx.services.changeFeeds.expired(event.cursor));
    if (event.kind !== 'change') {
      const at = new Date(event.kind === 'progress' ? event.atMs : Date.now());
      return Object.assign(new AdClicksUpdate(), {
        kind: AdClicksEventKind.PROGRESS,
        cursor: event.cursor,
        committedAt: at,
        adId: '',
        minute: at,
        clicks: 0,
        blockedByUser: 0,
        blockedByIp: 0,
      });
    }
    const p = event.change.payload as AdClicksChangedPayload;
    return Object.assign(new AdClicksUpdate(), {
      kind: AdClicksEventKind.CHANGE,
      cursor: event.cursor,
      committedAt: new Date(event.change.committedAtMs),
      adId: p.adId,
      minute: new Date(p.minute),
      clicks: p.clicks,
      blockedByUser: p.blockedByUser,
      blockedByIp: p.blockedByIp,
    });
  }
}
