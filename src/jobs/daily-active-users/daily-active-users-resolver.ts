import { DAILY_ACTIVE_USERS_SERVICES } from './daily-active-users-services.js';
import { DateResolver } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { calendarDays, daysInclusive } from '../../stream/calendar-days.js';
import { READ_ROLES } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput, toGraphQLError } from '../../graphql/errors.js';
import { DailyActiveUsers } from './daily-active-users-type.js';

/** Most days one `dailyActiveUsers` call covers. */
export const MAX_DAU_DAYS = 366;

/** The `YYYY-MM-DD` of a `Date` scalar value (graphql-scalars parses it to UTC midnight). */
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

@Resolver()
export class DailyActiveUsersResolver {
  @Authorized(READ_ROLES)
  @Query(() => [DailyActiveUsers], {
    description: `Active and new users of every date in [from, to], both inclusive, ascending; days without users as zeros. Dates are local to TIME_ZONE (Asia/Shanghai by default). At most ${MAX_DAU_DAYS} days.`,
  })
  async dailyActiveUsers(
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => DateResolver) from: Date,
    @Arg('to', () => DateResolver) to: Date,
  ): Promise<DailyActiveUsers[]> {
    const f = isoDate(from);
    const t = isoDate(to);
    if (t < f) throw badUserInput('to', `must not be before from (${f}), got ${t}`);
    const n = daysInclusive(f, t);
    if (n > MAX_DAU_DAYS) throw badUserInput('to', `[from, to] covers ${n} days; at most ${MAX_DAU_DAYS} per call`);
    let stored;
    try {
      stored = await ctx.services.modules.get(DAILY_ACTIVE_USERS_SERVICES).range(f, t);
    } catch (err) {
      throw toGraphQLError(err);
    }
    return calendarDays(f, t).map((date) =>
      Object.assign(new DailyActiveUsers(), {
        date: new Date(`${date}T00:00:00Z`),
        activeUsers: stored.get(date)?.activeUsers ?? 0,
        newUsers: stored.get(date)?.newUsers ?? 0,
      }),
    );
  }
}
