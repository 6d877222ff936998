import 'reflect-metadata';
import { DateTimeResolver } from 'graphql-scalars';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authChecker } from './auth.js';
import { ConsumerOffsetResolver } from './resolvers/consumer-offset-resolver.js';
import { JobResolver } from './resolvers/job-resolver.js';

/**
 * The code-first GraphQL schema: the engine's resolvers (consumer offsets, jobs
 * and their operations) and `jobResolvers`, every job module's. `schema/schema.graphql`
 * is its printed SDL (`npm run schema:emit`); a test fails when the file is stale.
 */
export async function buildApiSchema(
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql takes resolver classes as Function
  jobResolvers: readonly Function[],
  pubSub?: PubSub,
): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [ConsumerOffsetResolver, JobResolver, ...jobResolvers],
    authChecker,
    pubSub,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
  });
}
