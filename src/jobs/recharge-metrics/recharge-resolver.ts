import { RECHARGE_SERVICES } from './recharge-services.js';
import { DateResolver } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import { decimalToFen, formatFen } from '../../domain/money.js';
import type { CityDailyStats, CityRow } from './recharge.js';
import { MINUTE_MS } from '../../domain/time-units.js';
import { isNewerCitySnapshot } from './city-snapshot-order.js';
import type { FeedEvent } from '../../subscriptions/change-subscription.js';
import { RECHARGE_CHANGE_KIND } from './recharge-events.js';
import { READ_ROLES } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput, toGraphQLError } from '../../graphql/errors.js';
import { groupOf } from '../../graphql/job-groups.js';
import { cursorExpired, PROGRESS_INTERVAL_MS, subscriptionStart } from '../../graphql/subscription-start.js';
import {
  CityMetricsEventKind,
  CityMetricsUpdate,
  CityRechargeStats,
  RechargeMinute,
  RechargeSummary,
} from './recharge-type.js';

/** Most buckets one `rechargePerMinute` call returns: one day of minutes. */
export const MAX_MINUTE_BUCKETS = 1_440;
/** Largest `topCities(limit:)`. */
export const MAX_TOP_CITIES = 100;

/** The `YYYY-MM-DD` of a `Date` scalar value (graphql-scalars parses it to UTC midnight). */
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const ratio = (n: number, d: number) => (d === 0 ? 0 : n / d);

function toStats(s: CityDailyStats, city: CityRow): CityRechargeStats {
  return Object.assign(new CityRechargeStats(), {
    date: new Date(`${s.date}T00:00:00Z`),
    cityCode: city.code,
    cityName: city.name,
    cityNameEn: city.nameEn,
    longitude: city.longitude,
    latitude: city.latitude,
    orders: s.orders,
    succeeded: s.succeeded,
    failed: s.failed,
    successRate: ratio(s.succeeded, s.orders),
    amount: s.amount,
    avgDurationMs: ratio(s.durationMsSum, s.orders),
  });
}

/** `date` or, without one, today in TIME_ZONE. */
function dayOf(ctx: GraphQLContext, date: Date | null | undefined): string {
  return date ? isoDate(date) : ctx.services.modules.get(RECHARGE_SERVICES).calendar.dateOf(Date.now());
}

/**
 * What the dashboard's fields make of one read of a day's stats (the array `RechargeMetricsReader.cityDaily`
 * shares until its bound): made once per read, not once per request. The objects are shared by the requests
 * served from that read, which graphql-js only reads.
 */
interface DayViews {
  cities: CityRechargeStats[];
  /** Cities with orders, orders descending, ties by cityCode ascending. */
  ranked: CityRechargeStats[];
  summary: Omit<RechargeSummary, 'date'>;
}
const dayViews = new WeakMap<readonly CityDailyStats[], DayViews>();

/** Every city's stats of a day with the city's name and centre, by city code, and their ranking and totals. */
async function viewsOfDay(ctx: GraphQLContext, date: string): Promise<DayViews> {
  const { reader } = ctx.services.modules.get(RECHARGE_SERVICES);
  try {
    const [cities, stats] = await Promise.all([reader.cities(), reader.cityDaily(date)]);
    let views = dayViews.get(stats);
    if (!views) {
      const byCode = new Map(cities.map((c) => [c.code, c]));
      const all = stats.map((s) => {
        const city = byCode.get(s.cityCode);
        if (!city) throw new Error(`no city ${s.cityCode} among the loaded city codes`);
        return toStats(s, city);
      });
      views = {
        cities: all,
        ranked: all
          .filter((c) => c.orders > 0)
          .sort((a, b) => b.orders - a.orders || (a.cityCode < b.cityCode ? -1 : a.cityCode > b.cityCode ? 1 : 0)),
        summary: summaryOf(stats),
      };
      dayViews.set(stats, views);
    }
    return views;
  } catch (err) {
    throw toGraphQLError(err);
  }
}

/** The province's totals over every city's stats of a day. */
function summaryOf(stats: readonly CityDailyStats[]): Omit<RechargeSummary, 'date'> {
  let orders = 0;
  let succeeded = 0;
  let failed = 0;
  let durationMsSum = 0;
  let amountFen = 0n;
  let activeCities = 0;
  for (const s of stats) {
    orders += s.orders;
    succeeded += s.succeeded;
    failed += s.failed;
    durationMsSum += s.durationMsSum;
    amountFen += decimalToFen(s.amount);
    if (s.orders > 0) activeCities++;
  }
  return {
    orders,
    succeeded,
    failed,
    successRate: ratio(succeeded, orders),
    amount: formatFen(amountFen),
    avgDurationMs: ratio(durationMsSum, orders),
    activeCities,
  };
}

/**
 * Recharge analytics by city (job `recharge-metrics`). Values come
 * from Redis when it has them, else from MySQL (and Redis is refilled).
 */
@Resolver()
export class RechargeResolver {
  @Authorized(READ_ROLES)
  @Query(() => [CityRechargeStats], {
    description:
      'Every city of the province on `date` (default: today in TIME_ZONE), by city code; cities without orders as zeros. For a map: `failed` per city with its centre.',
  })
  async cityRechargeStats(
    @Ctx() ctx: GraphQLContext,
    @Arg('date', () => DateResolver, { nullable: true }) date: Date | null,
  ): Promise<CityRechargeStats[]> {
    return (await viewsOfDay(ctx, dayOf(ctx, date))).cities;
  }

  @Authorized(READ_ROLES)
  @Query(() => [CityRechargeStats], {
    description: `The \`limit\` cities with the most orders on \`date\` (default: today in TIME_ZONE), orders descending, ties by cityCode ascending; cities without orders are not ranked. \`limit\`: 0..${MAX_TOP_CITIES}.`,
  })
  async topCities(
    @Ctx() ctx: GraphQLContext,
    @Arg('date', () => DateResolver, { nullable: true }) date: Date | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 5 }) limitArg: number | null,
  ): Promise<CityRechargeStats[]> {
    const limit = limitArg ?? 5;
    if (limit < 0 || limit > MAX_TOP_CITIES)
      throw badUserInput('limit', `must be between 0 and ${MAX_TOP_CITIES}, got ${limit}`);
    return (await viewsOfDay(ctx, dayOf(ctx, date))).ranked.slice(0, limit);
  }

  @Authorized(READ_ROLES)
  @Query(() => [RechargeMinute], {
    description: `One bucket per minute (UTC-aligned) overlapping [from, to), ascending, empty minutes as zeros: from the minute holding \`from\` up to, not including, \`to\`. At most ${MAX_MINUTE_BUCKETS} buckets (one day); more, or \`from\` not before \`to\`, is BAD_USER_INPUT.`,
  })
  async rechargePerMinute(
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
  ): Promise<RechargeMinute[]> {
    const fromMs = from.getTime();
    const toMs = to.getTime();
    if (!(fromMs < toMs))
      throw badUserInput('to', `must be after from (${from.toISOString()}), got ${to.toISOString()}`);
    const start = Math.floor(fromMs / MINUTE_MS) * MINUTE_MS;
    const buckets = Math.ceil((toMs - start) / MINUTE_MS);
    if (buckets > MAX_MINUTE_BUCKETS)
      throw badUserInput('to', `[from, to) covers ${buckets} minutes; at most ${MAX_MINUTE_BUCKETS} per call`);
    try {
      const minutes = await ctx.services.modules.get(RECHARGE_SERVICES).reader.minutes(start, toMs);
      return minutes.map((m) =>
        Object.assign(new RechargeMinute(), {
          minuteStart: new Date(m.minuteStartMs),
          orders: m.orders,
          succeeded: m.succeeded,
          failed: m.orders - m.succeeded,
          successRate: ratio(m.succeeded, m.orders),
          amount: m.amount,
        }),
      );
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(READ_ROLES)
  @Query(() => RechargeSummary, {
    description:
      "The province's totals on `date` (default: today in TIME_ZONE): orders, success rate, amount, average duration.",
  })
  async rechargeSummary(
    @Ctx() ctx: GraphQLContext,
    @Arg('date', () => DateResolver, { nullable: true }) date: Date | null,
  ): Promise<RechargeSummary> {
    const day = dayOf(ctx, date);
    const { summary } = await viewsOfDay(ctx, day);
    return Object.assign(new RechargeSummary(), summary, { date: new Date(`${day}T00:00:00Z`) });
  }

  @Authorized(READ_ROLES)
  @Subscription(() => CityMetricsUpdate, {
    description:
      "A city's new stats of a day after a commit changed them (cityCode null: every city), absolute values, in commit order per partition, at most one event per city per PUBLISH_INTERVAL_MS (1 s) with the newest values (a value older than the last one sent for its city is not sent). `snapshot: true`: first the current values of today of every subscribed city (kind SNAPSHOT, zeros for cities without orders), read consistently with the cursor they carry, then the changes after them. `after`: the cursor of an event received before: every change committed after it first, then live ones, no gap and no repeat (CURSOR_EXPIRED past retention). Not both. `withProgress`: also a PROGRESS event at least every 5 s with the latest committed cursor. An unknown cityCode is BAD_USER_INPUT.",
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const a = args as {
        cityCode?: string | null;
        after?: string | null;
        snapshot?: boolean | null;
        withProgress?: boolean | null;
      };
      const cityCode = a.cityCode ?? null;
      const after = a.after ?? null;
      const snapshot = a.snapshot === true;
      if (snapshot && after !== null)
        throw badUserInput('snapshot', 'either a snapshot (a fresh start) or `after` (a resume), not both');
      // Loaded before the first event, so that resolving an event never waits for MySQL (which would bunch events up).
      const cities = await ctx.services.modules.get(RECHARGE_SERVICES).reader.cities();
      if (cityCode !== null && !cities.some((c) => c.code === cityCode)) {
        throw badUserInput('cityCode', `not a city of the city table, got ${JSON.stringify(cityCode)}`);
      }
      const stream = groupOf(ctx, 'recharge-metrics');
      const wanted = (code: string) => cityCode === null || code === cityCode;
      let start: Map<number, string>;
      let catchUp: boolean;
      let values: CityDailyStats[] | undefined;
      const tailer = await ctx.services.changeFeeds.tailer(stream);
      const snapshotAtMs = Date.now();
      if (snapshot) {
        const date = ctx.services.modules.get(RECHARGE_SERVICES).calendar.dateOf(snapshotAtMs);
        let read;
        try {
          read = await ctx.services.modules.get(RECHARGE_SERVICES).snapshots.read(stream, date);
        } catch (err) {
          throw toGraphQLError(err);
        }
        const byCode = new Map(read.cities.map((c) => [c.cityCode, c]));
        values = cities
          .filter((c) => wanted(c.code))
          .map(
            (c) =>
              byCode.get(c.code) ?? {
                date,
                cityCode: c.code,
                orders: 0,
                succeeded: 0,
                failed: 0,
                amount: '0.00',
                durationMsSum: 0,
              },
          );
        start = read.heads;
        catchUp = true;
      } else {
        ({ start, catchUp } = await subscriptionStart(ctx, stream, after));
      }
      return ctx.services.changeFeeds.open<CityDailyStats>({
        tailer,
        store: ctx.services.changeFeeds.store,
        start,
        catchUp,
        filter: (change) =>
          change.kind === RECHARGE_CHANGE_KIND.cityDailyChanged && wanted((change.payload as CityDailyStats).cityCode),
        coalesce: {
          key: (change) => (change.payload as CityDailyStats).cityCode,
          isNewer: (a, b) => isNewerCitySnapshot(a as CityDailyStats, b as CityDailyStats),
          intervalMs: ctx.services.modules.get(RECHARGE_SERVICES).publishIntervalMs,
          initial: values ? new Map(values.map((v) => [v.cityCode, v])) : undefined,
        },
        snapshot: values,
        snapshotAtMs,
        progressIntervalMs: a.withProgress ? PROGRESS_INTERVAL_MS : null,
      });
    },
  })
  async cityMetricsUpdated(
    @Root() event: FeedEvent<CityDailyStats>,
    @Ctx() ctx: GraphQLContext,
    @Arg('cityCode', () => String, { nullable: true }) _cityCode: string | null,
    @Arg('after', () => String, { nullable: true, description: 'Resume after this cursor (of an earlier event).' })
    _after: string | null,
    @Arg('snapshot', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: "Start with today's current values of the subscribed cities.",
    })
    _snapshot: boolean | null,
    @Arg('withProgress', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: 'Also send PROGRESS events (at least every 5 s).',
    })
    _withProgress: boolean | null,
  ): Promise<CityMetricsUpdate> {
    // Pruning overtook this subscriber while it read the log: the last event, an error.
    if (event.kind === 'expired') throw cursorExpired(ctx.services.changeFeeds.expired(event.cursor));
    if (event.kind === 'progress') {
      const at = new Date(event.atMs);
      return Object.assign(new CityMetricsUpdate(), {
        kind: CityMetricsEventKind.PROGRESS,
        cursor: event.cursor,
        committedAt: at,
        date: new Date(`${ctx.services.modules.get(RECHARGE_SERVICES).calendar.dateOf(event.atMs)}T00:00:00Z`),
        cityCode: '',
        cityName: '',
        cityNameEn: '',
        longitude: 0,
        latitude: 0,
        orders: 0,
        succeeded: 0,
        failed: 0,
        successRate: 0,
        amount: '0.00',
        avgDurationMs: 0,
      });
    }
    const stats = event.kind === 'snapshot' ? event.value : (event.change.payload as CityDailyStats);
    const cities = await ctx.services.modules.get(RECHARGE_SERVICES).reader.cities();
    const city = cities.find((c) => c.code === stats.cityCode) ?? {
      code: stats.cityCode,
      name: stats.cityCode,
      nameEn: stats.cityCode,
      longitude: 0,
      latitude: 0,
      provinceCode: '',
    };
    return Object.assign(new CityMetricsUpdate(), toStats(stats, city), {
      kind: event.kind === 'snapshot' ? CityMetricsEventKind.SNAPSHOT : CityMetricsEventKind.CHANGE,
      cursor: event.cursor,
      committedAt: new Date(event.kind === 'snapshot' ? event.atMs : event.change.committedAtMs),
    });
  }
}
