import 'reflect-metadata';
import { DateTimeResolver } from 'graphql-scalars';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authChecker } from './auth.js';
import { ConsumerOffsetResolver } from './resolvers/consumer-offset-resolver.js';
import { JobResolver } from './resolvers/job-resolver.js';
import { UnpaidUserResolver } from './resolvers/unpaid-user-resolver.js';
import { CallbackStatusResolver } from './resolvers/callback-status-resolver.js';
import { UnpaidUserChangeResolver } from './resolvers/unpaid-user-change-resolver.js';
import { DailyActiveUsersResolver } from './resolvers/daily-active-users-resolver.js';
import { HotProductResolver } from './resolvers/hot-product-resolver.js';
import { RechargeResolver } from './resolvers/recharge-resolver.js';

/**
 * The code-first GraphQL schema. `schema/schema.graphql` is its printed SDL
 * (`npm run schema:emit`); a test fails when the file is stale.
 */
export async function createSchema(pubSub?: PubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      UnpaidUserResolver,
      CallbackStatusResolver,
      UnpaidUserChangeResolver,
      ConsumerOffsetResolver,
      JobResolver,
      HotProductResolver,
      DailyActiveUsersResolver,
      RechargeResolver,
    ],
    authChecker,
    pubSub,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
  });
}
