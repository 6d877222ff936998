// The `jobs` query as the tests of a job's health read it: one job's entry,
// and a wait until that entry is in the state a test expects.
import { gql } from './graphql-client.js';
import { TEST_KEYS } from './service-process.js';
import { waitFor } from './services.js';

/** The fields of the `jobs` query the health tests read. */
export const JOBS_HEALTH =
  '{ jobs { name state lastError { code message since attempts } partitions { partition owner lastError { code attempts } } } }';

/** The `jobs` entry of the job `name` through the API at `url` (viewer key), or undefined when it is not listed. */
export async function jobEntry(url: string, name: string): Promise<any> {
  return (await gql(url, JOBS_HEALTH, {}, TEST_KEYS.viewer)).data?.jobs.find((j: any) => j.name === name);
}

/**
 * Polls {@link jobEntry} every 250 ms until `check` holds for it.
 * @returns the entry that passed
 * @throws naming `what` after `timeoutMs` MILLISECONDS
 */
export function waitForJob(
  url: string,
  name: string,
  what: string,
  check: (job: any) => boolean,
  timeoutMs: number,
): Promise<any> {
  return waitFor(
    what,
    async () => {
      const job = await jobEntry(url, name);
      return job && check(job) ? job : null;
    },
    timeoutMs,
    250,
  );
}

/** A job that works again: RUNNING with no last error. */
export const recovered = (job: any): boolean => job.state === 'RUNNING' && job.lastError === null;
