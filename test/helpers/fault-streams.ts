// The streams and job sets the fault tests (database and broker restarts)
// share: generated records with explicit partitions, so that the same list
// produced to two topics (or two brokers) gives the same records at the same
// offsets, and one worker process running several jobs whose progress and
// results are read per consumer group.
import { jobSnapshot } from './job-snapshots.js';
import type { FeedRecord, JobFeed } from '../../src/sample/job-feed.js';
import { jobProgress, latestOffsets, runToEnd, type JobProgress, type TestRuns } from './job-runs.js';
import type { ServiceProcess } from './service-process.js';
import { produce, randomName } from './services.js';

export type { FeedRecord };

/** One job of a {@link JobSet}: a job module's feed (its `testing.ts`); its results are read by {@link jobSnapshot}. */
export type FaultJob = JobFeed;

/**
 * Several jobs run by one worker process, each on its own topic with a fresh
 * consumer group: the environment for the worker, the combined progress and
 * every job's snapshot.
 */
export class JobSet {
  readonly groups: string[];
  /** Each job's topic's high watermarks (partition -> offset), set with {@link setLatest}. */
  latest: Map<number, number>[] = [];

  constructor(
    readonly jobs: FaultJob[],
    readonly topics: string[],
  ) {
    this.groups = jobs.map((j) => randomName(`fault-${j.name}`));
  }

  setLatest(latest: Map<number, number>[]): this {
    this.latest = latest;
    return this;
  }

  /** JOBS, each job's topic and group, no idle advance (windows close through event time only). */
  env(): Record<string, string> {
    const env: Record<string, string> = { JOBS: this.jobs.map((j) => j.name).join(','), IDLE_TIMEOUT_MS: '3600000' };
    for (const [i, j] of this.jobs.entries()) {
      env[j.topicVar] = this.topics[i]!;
      env[j.groupVar] = this.groups[i]!;
    }
    return env;
  }

  /** Every job's progress summed: `done` when each job is done; `consumed` the records committed over all of them. */
  async progress(dbUrl: string): Promise<JobProgress> {
    const each = await Promise.all(
      this.jobs.map((j, i) => jobProgress(dbUrl, this.latest[i], { windowed: j.windowed, group: this.groups[i] })),
    );
    return {
      consumed: each.reduce((n, p) => n + p.consumed, 0),
      claimed: each.reduce((n, p) => n + p.claimed, 0),
      unfinished: [...new Set(each.flatMap((p) => p.unfinished))],
      done: each.every((p) => p.done),
    };
  }

  /** Records of every job's feed. */
  get records(): number {
    return this.jobs.reduce((n, j) => n + j.feed.length, 0);
  }

  /** job name -> its snapshot. */
  async snapshot(dbUrl: string): Promise<Record<string, unknown>> {
    return Object.fromEntries(
      await Promise.all(
        this.jobs.map(async (j, i) => [j.name, await jobSnapshot(j.name, dbUrl, this.groups[i])] as const),
      ),
    );
  }
}

/** What {@link uninterruptedReference} leaves for the faulted run to be compared with. */
export interface ReferenceRun {
  /** One topic per job on the suite's broker, holding the job's whole feed. */
  topics: string[];
  /** Each topic's high watermarks (partition -> offset) once the feeds were written. */
  latest: Map<number, number>[];
  /** {@link JobSet.snapshot} of the uninterrupted run's database. */
  snapshot: Record<string, unknown>;
}

/**
 * The reference a fault test compares with: every job's feed written to a fresh topic of its own on the
 * suite's broker, consumed to the end by ONE worker that nothing interrupts (started with `start`, stopped
 * with SIGTERM), in a fresh database seeded with `vipUids`.
 *
 * @param timeoutMs how long the worker may take to finish, MILLISECONDS
 */
export async function uninterruptedReference(
  runs: TestRuns,
  jobs: FaultJob[],
  start: (set: JobSet, dbUrl: string) => Promise<ServiceProcess>,
  vipUids: readonly string[],
  timeoutMs = 180_000,
): Promise<ReferenceRun> {
  // One at a time: the broker answers concurrent creations with a retriable error now and then.
  const topics: string[] = [];
  for (const j of jobs) topics.push((await runs.createTopic(j.name)).topic);
  await Promise.all(jobs.map((j, i) => produce(topics[i], j.feed)));
  const latest = await Promise.all(topics.map((t) => latestOffsets(t)));
  const set = new JobSet(jobs, topics).setLatest(latest);
  const db = await runs.freshDb(vipUids);
  await runToEnd(
    'the uninterrupted run to finish',
    () => start(set, db.url),
    () => set.progress(db.url),
    timeoutMs,
  );
  return { topics, latest, snapshot: await set.snapshot(db.url) };
}
