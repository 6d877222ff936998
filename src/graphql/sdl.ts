import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';

/** Path of the checked-in SDL, relative to the package root. */
export const SDL_PATH = 'schema/schema.graphql';

/** The schema's SDL as checked in: sorted so that diffs show real changes only. */
export function printSdl(schema: GraphQLSchema): string {
  const header = '# Generated from the code-first schema by `npm run schema:emit`. Do not edit.\n\n';
  return header + printSchema(lexicographicSortSchema(schema)) + '\n';
}
