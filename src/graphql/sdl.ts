import { lexicographicSortSchema, printSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { createSchema } from './schema.js';

/** Path of the checked-in SDL, relative to the package root. */
export const SDL_PATH = 'schema/schema.graphql';

/** The schema's SDL as checked in: sorted so that diffs show real changes only. (An in-memory pub/sub: printing needs none, building does.) */
export async function renderSdl(): Promise<string> {
  const header = '# Generated from the code-first schema by `npm run schema:emit`. Do not edit.\n\n';
  return header + printSchema(lexicographicSortSchema(await createSchema(createPubSub()))) + '\n';
}
