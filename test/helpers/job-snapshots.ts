// Everything a job wrote that a run with faults must reproduce exactly, read
// back as text (BIGINT and DECIMAL exact, DATETIME as ISO UTC), so that two
// runs compare with one deepEqual. Each snapshot holds the job's result tables
// and its consumer group's `consumer_offset` rows (positions, watermarks, late
// and dead-lettered counters); the tables of one job are only written by that
// job, so several jobs may share a database.
import { JOB_MODULES } from '../../src/jobs/index.js';
import { offsetRows, rowsAsText } from './job-runs.js';
import { sql } from './services.js';

/** Rows read as text: one table of a snapshot. */
export type SnapshotRows = Record<string, string | null>[];

/** A job's snapshot: each of its module's `snapshotQueries` by name, and its group's `offsets`. */
export type JobSnapshot = Record<string, SnapshotRows> & { offsets: SnapshotRows };

/**
 * Snapshot of the job named `job` (its module's `snapshotQueries`, each read as
 * text) and the `consumer_offset` rows of `group`.
 * @throws {Error} when no module has that name or its module declares no snapshot.
 */
export async function jobSnapshot(job: string, dbUrl: string, group: string): Promise<JobSnapshot> {
  const queries = JOB_MODULES.find((m) => m.name === job)?.snapshotQueries;
  if (!queries) throw new Error(`no job module "${job}" with snapshotQueries`);
  const snapshot: JobSnapshot = { offsets: [] };
  for (const [name, query] of Object.entries(queries)) snapshot[name] = rowsAsText(await sql(dbUrl, query));
  snapshot.offsets = await offsetRows(dbUrl, group);
  return snapshot;
}

/**
 * A snapshot of several jobs (job name -> its snapshot, as `JobSet.snapshot` reads it) without each job's
 * `offsets`: the result tables alone, for runs over different topics (or a
 * topic with other records in front) whose positions cannot match.
 */
export function withoutOffsets(snapshot: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([job, s]) => {
      const { offsets: _offsets, ...rest } = s as Record<string, unknown>;
      return [job, rest];
    }),
  );
}

/**
 * Per job of a several-job snapshot (job name -> its snapshot, as `JobSet.snapshot` reads it), the sum of
 * one `consumer_offset` counter column (e.g. `dead_lettered`) over the job's partitions.
 */
export function sumOffsetColumn(snapshot: Record<string, unknown>, column: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([job, s]) => [
      job,
      (s as { offsets: Record<string, string | null>[] }).offsets.reduce((n, r) => n + Number(r[column] ?? 0), 0),
    ]),
  );
}
