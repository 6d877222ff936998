// The streams and job sets the fault tests (database and broker restarts)
// share: generated records with explicit partitions, so that the same list
// produced to two topics (or two brokers) gives the same records at the same
// offsets, and one worker process running several jobs whose progress and
// results are read per consumer group.
import { generateProductClicks } from '../../src/jobs/hot-products/product-click-generator.js';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import {
  abnormalOrdersSnapshot,
  dailyActiveUsersSnapshot,
  hotProductsSnapshot,
  rechargeMetricsSnapshot,
} from './job-snapshots.js';
import {
  flushRecords,
  jobProgress,
  latestOffsets,
  runToEnd,
  withPartitions,
  type JobProgress,
  type TestRuns,
} from './job-runs.js';
import type { ServiceProcess } from './service-process.js';
import { produce, randomName } from './services.js';

export interface FeedRecord {
  key: string | null;
  value: string;
  partition: number;
}

/** One job of a {@link JobSet}: what it reads, its group, how to read its progress and results. */
export interface FaultJob {
  name: 'abnormal-orders' | 'recharge-metrics' | 'hot-products' | 'daily-active-users';
  /** Environment variables naming its topic and its consumer group. */
  topicVar: string;
  groupVar: string;
  /** Whether `done` also needs replay_from == next_offset (open windows). */
  windowed: boolean;
  /** The records, with explicit partitions. */
  feed: FeedRecord[];
  snapshot(dbUrl: string, group: string): Promise<unknown>;
}

/** `count` user-behaviour records (+ one far-future flush record per partition that closes every window) and the sample's VIP uids. */
export function abnormalOrdersJob(count: number, seed = 4242): FaultJob & { vips: string[] } {
  const generator = { seed, users: 2000, startTimeMs: Date.UTC(2026, 0, 1), eventsPerSecond: 250, count };
  const records = [...generateUserBehavior(generator)].map((r) => ({ key: r.key, value: r.value }));
  const feed = [...withPartitions(records), ...flushRecords(Math.floor((generator.startTimeMs + 86_400_000) / 1000))];
  return {
    name: 'abnormal-orders',
    topicVar: 'USER_BEHAVIOR_TOPIC',
    groupVar: 'ABNORMAL_ORDERS_GROUP',
    windowed: true,
    feed,
    snapshot: abnormalOrdersSnapshot,
    vips: sampleVipUids(generator),
  };
}

/** daily-active-users over the feed of `behaviour` (an {@link abnormalOrdersJob}): the two jobs may share its topic. */
export function dailyActiveUsersJob(behaviour: FaultJob): FaultJob {
  return {
    name: 'daily-active-users',
    topicVar: 'USER_BEHAVIOR_TOPIC',
    groupVar: 'DAU_GROUP',
    windowed: false,
    feed: behaviour.feed,
    snapshot: dailyActiveUsersSnapshot,
  };
}

/** `count` recharge records (3% duplicates, across local midnight), round-robin over the partitions so that duplicates race. */
export function rechargeMetricsJob(count: number, seed = 4343): FaultJob {
  const generated = [
    ...generateRecharges({
      seed,
      count,
      startTimeMs: Date.UTC(2025, 11, 31, 15, 50),
      eventsPerSecond: 20,
      duplicateShare: 0.03,
    }),
  ];
  return {
    name: 'recharge-metrics',
    topicVar: 'RECHARGE_TOPIC',
    groupVar: 'RECHARGE_GROUP',
    windowed: false,
    feed: generated.map((r, i) => ({ key: r.key, value: r.value, partition: i % 3 })),
    snapshot: rechargeMetricsSnapshot,
  };
}

/** `count` product clicks (0.2% malformed). */
export function hotProductsJob(count: number, seed = 4242): FaultJob {
  const generator = {
    seed,
    products: 1_000,
    users: 3_000,
    startTimeMs: Date.UTC(2026, 0, 1),
    eventsPerSecond: 250,
    count,
    malformedShare: 0.002,
  };
  return {
    name: 'hot-products',
    topicVar: 'PRODUCT_CLICKS_TOPIC',
    groupVar: 'HOT_PRODUCTS_GROUP',
    windowed: false,
    feed: withPartitions([...generateProductClicks(generator)].map((r) => ({ key: r.key, value: r.value }))),
    snapshot: hotProductsSnapshot,
  };
}

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
      await Promise.all(this.jobs.map(async (j, i) => [j.name, await j.snapshot(dbUrl, this.groups[i])] as const)),
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
