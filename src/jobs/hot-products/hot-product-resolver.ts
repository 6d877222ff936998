import { HOT_PRODUCTS_SERVICES } from './hot-products-services.js';
import { Arg, Authorized, Ctx, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import { groupOf } from '../../graphql/job-groups.js';
import { TOPIC_HOT_PRODUCTS_UPDATED, type HotProductsUpdatedEvent } from './hot-products-events.js';
import { assignRanks, rankingWindowAt, type RankedProduct } from './hot-ranking.js';
import { minuteBuckets, minuteRange } from '../../stream/minute-buckets.js';
import { READ_ROLES } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput, toGraphQLError } from '../../graphql/errors.js';
import { CategoryHotProducts, HotProduct, HotProductsUpdate, ProductClickBucket } from './hot-product-type.js';

/** Largest `limit` of the hot-products rankings. */
export const MAX_HOT_PRODUCTS = 100;
/** Most minute buckets one `productClicks` call returns (one day). */
export const MAX_CLICK_BUCKETS = 1_440;

/** Explicit `null` means the default. */
function checkLimit(limitArg: number | null | undefined, defaultLimit: number): number {
  const limit = limitArg ?? defaultLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HOT_PRODUCTS)
    throw badUserInput('limit', `must be between 1 and ${MAX_HOT_PRODUCTS}, got ${limit}`);
  return limit;
}

function toHotProduct(p: RankedProduct): HotProduct {
  return Object.assign(new HotProduct(), {
    productId: p.productId,
    clicks: p.clicks,
    rank: p.rank,
    category: p.category,
  });
}

@Resolver()
export class HotProductResolver {
  @Authorized(READ_ROLES)
  @Query(() => [HotProduct], {
    description: `The hottest products (by clicks) over the hour of event time that ends at the last 5-minute boundary at or before \`at\` (default now): minutes starting in [end - 1 h, end). Ties by productId. \`limit\`: 1..${MAX_HOT_PRODUCTS}.`,
  })
  async hotProducts(
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 10 }) limitArg: number | null,
    @Arg('at', () => Date, { nullable: true }) at: Date | null,
  ): Promise<HotProduct[]> {
    const limit = checkLimit(limitArg, 10);
    const { startMs, endMs } = rankingWindowAt((at ?? new Date()).getTime());
    try {
      return assignRanks(
        await ctx.services.modules.get(HOT_PRODUCTS_SERVICES).servedRanking(startMs, endMs, limit),
      ).map(toHotProduct);
    } catch (err) {
      throw toGraphQLError(err);
    }
  }

  @Authorized(READ_ROLES)
  @Query(() => [CategoryHotProducts], {
    description: `Per category (by name), its \`limit\` hottest products over the same hour as hotProducts. A product counts under the category of its latest click; products without a category are left out. \`limit\`: 1..${MAX_HOT_PRODUCTS}.`,
  })
  async hotProductsByCategory(
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 3 }) limitArg: number | null,
    @Arg('at', () => Date, { nullable: true }) at: Date | null,
  ): Promise<CategoryHotProducts[]> {
    const limit = checkLimit(limitArg, 3);
    const { startMs, endMs } = rankingWindowAt((at ?? new Date()).getTime());
    let rows;
    try {
      rows = await ctx.services.modules.get(HOT_PRODUCTS_SERVICES).rankingByCategory(startMs, endMs, limit);
    } catch (err) {
      throw toGraphQLError(err);
    }
    const byCategory = new Map<string, typeof rows>();
    for (const r of rows) {
      let list = byCategory.get(r.category);
      if (!list) byCategory.set(r.category, (list = []));
      list.push(r);
    }
    return [...byCategory].map(([category, products]) =>
      Object.assign(new CategoryHotProducts(), { category, products: assignRanks(products).map(toHotProduct) }),
    );
  }

  @Authorized(READ_ROLES)
  @Query(() => [ProductClickBucket], {
    description: `One product's clicks per minute for every minute overlapping [from, to), empty minutes as zeros, each with the running total of all its clicks up to and including that minute. At most ${MAX_CLICK_BUCKETS} minutes per call.`,
  })
  async productClicks(
    @Ctx() ctx: GraphQLContext,
    @Arg('productId', () => ID) productId: string,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
  ): Promise<ProductClickBucket[]> {
    if (productId.length === 0) throw badUserInput('productId', 'must not be empty');
    const fromMs = from.getTime();
    const toMs = to.getTime();
    if (toMs < fromMs)
      throw badUserInput('to', `must not be before from (${from.toISOString()}), got ${to.toISOString()}`);
    const { firstMs, count } = minuteRange(fromMs, toMs);
    if (count > MAX_CLICK_BUCKETS) {
      throw badUserInput('to', `[from, to) covers ${count} minutes; at most ${MAX_CLICK_BUCKETS} per call`);
    }
    if (count === 0) return [];
    let stored;
    try {
      stored = await ctx.services.modules.get(HOT_PRODUCTS_SERVICES).productMinutes(productId, firstMs, toMs);
    } catch (err) {
      throw toGraphQLError(err);
    }
    return minuteBuckets(fromMs, toMs, stored.minutes, stored.before).map((b) =>
      Object.assign(new ProductClickBucket(), {
        minute: new Date(b.minuteMs),
        clicks: b.clicks,
        runningTotal: b.runningTotal,
      }),
    );
  }

  @Authorized(READ_ROLES)
  @Subscription(() => HotProductsUpdate, {
    // Called once at subscribe time: a bad limit is refused then, not on every event.
    topics: ({ args }) => {
      checkLimit((args as { limit?: number | null }).limit, 10);
      return TOPIC_HOT_PRODUCTS_UPDATED;
    },
    topicId: ({ context }: { context: GraphQLContext }) => groupOf(context, 'hot-products'),
    description: `The new ranking (top \`limit\`, 1..${MAX_HOT_PRODUCTS}) at each 5-minute boundary of event time, once every partition's watermark has passed it; once per boundary across all workers.`,
  })
  hotProductsUpdated(
    @Root() event: HotProductsUpdatedEvent,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 10 }) limitArg: number | null,
  ): HotProductsUpdate {
    const limit = limitArg ?? 10;
    return Object.assign(new HotProductsUpdate(), {
      windowStart: new Date(event.windowStart),
      windowEnd: new Date(event.windowEnd),
      products: event.products.slice(0, limit).map((p) => Object.assign(new HotProduct(), p)),
    });
  }
}
