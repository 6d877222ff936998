import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import type { PubSub } from 'type-graphql';
import { buildApiSchema } from './graphql/schema.js';
import { printSdl } from './graphql/sdl.js';
import { JOB_MODULES } from './jobs/index.js';

export { SDL_PATH } from './graphql/sdl.js';

/** The service's GraphQL schema: the engine's resolvers and those of every job module. */
export async function createSchema(pubSub?: PubSub): Promise<GraphQLSchema> {
  return buildApiSchema(
    JOB_MODULES.flatMap((m) => m.resolvers ?? []),
    pubSub,
  );
}

/** The SDL of `schema/schema.graphql`. (An in-memory pub/sub: printing needs none, building does.) */
export async function renderSdl(): Promise<string> {
  return printSdl(await createSchema(createPubSub()));
}
