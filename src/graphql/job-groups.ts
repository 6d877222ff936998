import type { GraphQLContext } from './context.js';

/**
 * The consumer group of a configured job (its name when it is not configured):
 * subscription channels are per group, so deployments sharing one Redis stay apart.
 */
export function groupOf(ctx: GraphQLContext, job: string): string {
  return ctx.services.jobs.find((j) => j.name === job)?.groupId ?? job;
}
