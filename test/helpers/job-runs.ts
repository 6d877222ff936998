// Running a job's worker against a topic and a fresh database and telling when
// it has committed everything: the pieces the crash and operations tests (and
// the benchmarks) share. Offsets are Kafka offsets (a partition's high
// watermark is the offset of its next record, so from offset 0 it is also the
// partition's record count); progress is read from `consumer_offset`, the
// positions a job commits in the same transaction as its results.
import { withPartitions } from '../../src/sample/job-feed.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import { connectAdmin, createTestDatabase, createTestTopic, sql, waitFor } from './services.js';

export { withPartitions };

/** A fresh, migrated database of {@link createTestDatabase}. */
export type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;
/** A fresh topic (and its dead-letter topic) of {@link createTestTopic}. */
export type TestTopic = Awaited<ReturnType<typeof createTestTopic>>;

/**
 * Kafka settings for runs that are killed or reset midway: at most 16 KiB per
 * partition per fetch and at most 400 records per transaction (small batches,
 * about two or three merged into each transaction while a partition is behind:
 * many transactions, and kills land between and inside them), a 6 s session
 * with a 1 s heartbeat (a killed worker's partitions move to a survivor quickly).
 */
export const SMALL_BATCHES_QUICK_FAILOVER_ENV = {
  KAFKA_MAX_BYTES_PER_PARTITION: '16384',
  TRANSACTION_MAX_RECORDS: '400',
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
} as const;

/** Each partition's high watermark (the offset its next record will get): partition -> offset; on `brokers` (default the suite's broker). */
export async function latestOffsets(topic: string, brokers?: string[]): Promise<Map<number, number>> {
  const admin = await connectAdmin(brokers);
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** The sum of `offsets`' values: with partitions that start at offset 0, the records in the topic. */
export function sumOffsets(offsets: ReadonlyMap<number, number>): number {
  return [...offsets.values()].reduce((a, b) => a + b, 0);
}

/** Inserts `uids` into `vip_user` of the database at `dbUrl` (one statement; `uids` must not be empty). */
export async function seedVips(dbUrl: string, uids: readonly string[]): Promise<void> {
  await sql(dbUrl, `INSERT INTO vip_user (uid) VALUES ${uids.map(() => '(?)').join(',')}`, [...uids]);
}

/** One `consumer_offset` row as {@link progressOf} reads it (BIGINTs come back as bigint). */
export interface OffsetRow {
  partition: number;
  next_offset: bigint | number;
  replay_from: bigint | number;
}

/** A job's committed progress over one topic. */
export interface JobProgress {
  /** Sum of the committed next_offset of every row (a negative one counts as 0): records consumed and committed. */
  consumed: number;
  /** `consumer_offset` rows: partitions claimed so far. */
  claimed: number;
  /** Partitions whose committed next_offset has not reached the latest offset yet. */
  unfinished: number[];
  /**
   * Every partition of `latest` has a row and no other row exists, each with
   * next_offset == latest; for a windowed job also replay_from == next_offset
   * (no window state left to rebuild by replaying).
   */
  done: boolean;
}

/**
 * The progress of `rows` towards `latest` (partition -> high watermark).
 * `windowed`: also require replay_from == next_offset for `done` (jobs that
 * keep open windows, such as abnormal-orders; additive jobs leave it behind).
 */
export function progressOf(
  rows: readonly OffsetRow[],
  latest: ReadonlyMap<number, number>,
  windowed: boolean,
): JobProgress {
  let consumed = 0;
  let done = rows.length === latest.size;
  const finished = new Set<number>();
  for (const r of rows) {
    consumed += Math.max(0, Number(r.next_offset));
    if (Number(r.next_offset) === latest.get(r.partition)) finished.add(r.partition);
    if (
      Number(r.next_offset) !== latest.get(r.partition) ||
      (windowed && Number(r.replay_from) !== Number(r.next_offset))
    )
      done = false;
  }
  const unfinished = [...latest.keys()].filter((p) => !finished.has(p)).sort((a, b) => a - b);
  return { consumed, claimed: rows.length, unfinished, done };
}

export async function jobProgress(
  dbUrl: string,
  latest: ReadonlyMap<number, number>,
  opts: { windowed: boolean; group?: string },
): Promise<JobProgress> {
  const rows =
    opts.group === undefined
      ? await sql<OffsetRow>(dbUrl, 'SELECT `partition`, next_offset, replay_from FROM consumer_offset')
      : await sql<OffsetRow>(
          dbUrl,
          'SELECT `partition`, next_offset, replay_from FROM consumer_offset WHERE group_id = ?',
          [opts.group],
        );
  return progressOf(rows, latest, opts.windowed);
}

/** Polls `progress` every 250 ms until it is `done`; throws naming `what` after `timeoutMs` (MILLISECONDS). */
export async function waitForDone(
  what: string,
  progress: () => Promise<JobProgress>,
  timeoutMs: number,
): Promise<void> {
  await waitFor(what, async () => (await progress()).done, timeoutMs, 250);
}

/** Starts a worker with `start`, waits as {@link waitForDone} until `progress` is done, then stops it with SIGTERM. */
export async function runToEnd(
  what: string,
  start: () => Promise<ServiceProcess>,
  progress: () => Promise<JobProgress>,
  timeoutMs: number,
): Promise<void> {
  const p = await start();
  await waitForDone(what, progress, timeoutMs);
  await p.kill('SIGTERM');
}

/** What a crash schedule needs: how to start a worker (in the group under test) and how far it committed. */
export interface CrashRunOptions {
  /** Records in the topic (without flush records): the kill targets are shares of it. */
  records: number;
  start: () => Promise<ServiceProcess>;
  progress: () => Promise<JobProgress>;
  /** How long the last worker may take to finish, MILLISECONDS. */
  finishTimeoutMs: number;
}

/**
 * Five times: starts a worker and SIGKILLs it once the committed progress
 * passed a random target (5-20%, 20-35%, 40-55%, 60-75% and 80-95% of
 * `records`, polled every 20 ms for up to 120 s) plus a random 0-300 ms, so
 * that some kills land inside a batch or a transaction rather than between
 * them. Then a last worker runs to the end (see {@link runToEnd}).
 *
 * @returns the committed progress (records) read right after each kill
 */
export async function runWithRandomKills(opts: CrashRunOptions): Promise<number[]> {
  const targets = [0.05, 0.2, 0.4, 0.6, 0.8].map((f) => Math.floor((f + Math.random() * 0.15) * opts.records));
  const kills: number[] = [];
  for (const target of targets) {
    const p = await opts.start();
    await waitFor(`progress past ${target}`, async () => (await opts.progress()).consumed >= target, 120_000, 20);
    await new Promise((r) => setTimeout(r, Math.random() * 300));
    await p.kill('SIGKILL');
    kills.push((await opts.progress()).consumed);
  }
  await runToEnd('the crashed run to finish', opts.start, opts.progress, opts.finishTimeoutMs);
  return kills;
}

/**
 * Starts two workers and waits until the group split the partitions between
 * them; only then does `feed` write the records (so neither worker can finish
 * its share early). SIGKILLs the first once the committed progress passed
 * `killAtShare` of `records` while one of its partitions is unfinished (polled
 * every 20 ms for up to 120 s), waits until the survivor was assigned all
 * `partitions` (3 by default), then until it finished.
 *
 * @returns the surviving worker, still running: the caller reads its logs and stops it
 */
export async function runWithFailover(
  opts: CrashRunOptions & { killAtShare: number; feed: () => Promise<void>; partitions?: number },
): Promise<ServiceProcess> {
  const partitions = opts.partitions ?? 3;
  const ownedBy = (p: ServiceProcess): number[] =>
    (p.logs.filter((l) => l.msg === 'partitions assigned').at(-1)?.partitions as number[] | undefined) ?? [];
  const first = await opts.start();
  const second = await opts.start();
  await waitFor(
    'both workers to own partitions',
    () =>
      ownedBy(first).length > 0 &&
      ownedBy(second).length > 0 &&
      ownedBy(first).length + ownedBy(second).length === partitions,
    60_000,
    100,
  );
  const feeding = opts.feed();
  await waitFor(
    `progress past ${Math.round(opts.killAtShare * 100)}% with the first worker mid-partition`,
    async () => {
      const progress = await opts.progress();
      return (
        progress.consumed >= opts.killAtShare * opts.records &&
        ownedBy(first).some((p) => progress.unfinished.includes(p))
      );
    },
    120_000,
    20,
  );
  await first.kill('SIGKILL');
  await feeding;
  await waitFor(
    'the survivor to be assigned every partition',
    () => ownedBy(second).length === partitions,
    60_000,
    100,
  );
  await waitForDone('the surviving worker to finish', opts.progress, opts.finishTimeoutMs);
  return second;
}

/**
 * The topics, databases and service processes one test file creates, so that
 * its `after()` removes them all with {@link TestRuns.cleanup}.
 */
export class TestRuns {
  readonly topics: TestTopic[] = [];
  readonly dbs: TestDatabase[] = [];
  /** Every process started, in order (their `logs` stay readable after they exit). */
  readonly processes: ServiceProcess[] = [];

  /** {@link createTestTopic}, remembered for {@link cleanup}. */
  async createTopic(prefix?: string, partitions?: number, brokers?: string[]): Promise<TestTopic> {
    const topic = await createTestTopic(prefix, partitions, brokers);
    this.topics.push(topic);
    return topic;
  }

  /**
   * A fresh, migrated database; with `vipUids`, seeded into `vip_user` ({@link seedVips}).
   * @param serverUrl `mysql://user@host:port` of another server than the suite's MariaDB
   */
  async freshDb(vipUids?: readonly string[], serverUrl?: string): Promise<TestDatabase> {
    const db = await createTestDatabase({ serverUrl });
    this.dbs.push(db);
    if (vipUids) await seedVips(db.url, vipUids);
    return db;
  }

  /** {@link startServiceProcess} with `env`, remembered for {@link cleanup}. */
  async start(env: Record<string, string>): Promise<ServiceProcess> {
    const p = await startServiceProcess(env);
    this.processes.push(p);
    return p;
  }

  /** SIGKILLs every process started (those still running), then drops every database, then deletes every topic. */
  async cleanup(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
    await Promise.all(this.dbs.map((d) => d.drop()));
    await Promise.all(this.topics.map((t) => t.delete()));
  }
}

/** Rows with every value as text: null stays null, a Date becomes its ISO string, anything else `String(v)` (BIGINT and DECIMAL exact). */
export function rowsAsText(rows: readonly Record<string, unknown>[]): Record<string, string | null>[] {
  return rows.map((r) =>
    Object.fromEntries(
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the driver's values are strings, numbers, bigints and Buffers, each printed as its value
      Object.entries(r).map(([k, v]) => [k, v === null ? null : v instanceof Date ? v.toISOString() : String(v)]),
    ),
  );
}

/**
 * Every column of `consumer_offset` that a rerun must reproduce, one row per
 * partition in order, as text ({@link rowsAsText}); with `group`, only that
 * consumer group's rows (a database shared by several jobs).
 */
export async function offsetRows(dbUrl: string, group?: string): Promise<Record<string, string | null>[]> {
  const columns =
    '`partition`, next_offset, replay_from, watermark_ms, late_records, dead_lettered, lost_to_retention, event_time_ahead';
  return rowsAsText(
    group === undefined
      ? await sql(dbUrl, `SELECT ${columns} FROM consumer_offset ORDER BY \`partition\``)
      : await sql(dbUrl, `SELECT ${columns} FROM consumer_offset WHERE group_id = ? ORDER BY \`partition\``, [group]),
  );
}
