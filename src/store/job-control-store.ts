import type { Db } from './prisma-client.js';

/**
 * Names of the jobs an operator paused (`job_control.paused`): read by the
 * workers' poll and by the `jobs` query.
 */
export async function pausedJobNames(db: Db): Promise<Set<string>> {
  return new Set((await db.jobControl.findMany({ where: { paused: true }, select: { job: true } })).map((c) => c.job));
}
