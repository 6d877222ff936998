// Two workers over a 12-partition topic, each committing its partitions of the
// job together in one transaction per commit: a SIGKILL of one mid-stream must
// end with exactly the sums of an uninterrupted run, and no transaction may be
// rolled back by another (a deadlock or a lock wait timeout). recharge-metrics
// keeps partition-local city-day and minute rows and orders only the tail of
// its transactions (the commit number); abnormal-orders writes rows of its own
// partitions' users; hot-products keeps partition-local rows and takes no
// ordering row at all; ad-clicks keeps partition-local rows and takes its
// ordering row last, so each change-log total is the total after its commit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import { abnormalOrdersJob } from '../../src/jobs/abnormal-orders/testing.js';
import { hotProductsJob } from '../../src/jobs/hot-products/testing.js';
import { adClicksJob } from '../../src/jobs/ad-clicks/testing.js';
import { type JobSnapshot, jobSnapshot, withoutOffsets } from '../helpers/job-snapshots.js';
import {
  jobProgress,
  latestOffsets,
  runToEnd,
  runWithFailover,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  waitForDone,
  withPartitions,
  type TestDatabase,
} from '../helpers/job-runs.js';
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import type { JobFeed } from '../../src/sample/job-feed.js';
import { produce, randomName, sql } from '../helpers/services.js';

const PARTITIONS = 12;
const RECORDS = 30_000;
const GENERATOR = {
  seed: 1212,
  count: RECORDS,
  startTimeMs: Date.UTC(2025, 11, 31, 15, 30),
  eventsPerSecond: 20,
  duplicateShare: 0.03,
};

/** Messages of every process `runs` started so far that report a transaction rolled back by another one, or a failed commit. */
const contention = (runs: TestRuns) =>
  runs.processes
    .flatMap((p) => p.logs)
    .filter((l) => /rolled back|partition commit failed|deadlock|lock wait/i.test(String(l.msg)))
    .map((l) => l.msg);

describe('two workers over 12 partitions, one transaction per commit for each', () => {
  const runs = new TestRuns();
  let latest = new Map<number, number>();
  let feed: { key: string | null; value: string; partition: number }[] = [];
  let reference: JobSnapshot;

  const start = (db: TestDatabase, group: string, topic: string) =>
    runs.start({
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
      ROLES: 'worker',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
    });
  const progress = (db: TestDatabase) => () => jobProgress(db.url, latest, { windowed: false });

  before(async () => {
    // Round-robin over the partitions (not by key): duplicates of one order land on other partitions.
    feed = [...generateRecharges(GENERATOR)].map((r, i) => ({
      key: r.key,
      value: r.value,
      partition: i % PARTITIONS,
    }));
    const topic = await runs.createTopic('recharge', PARTITIONS);
    await produce(topic.topic, feed);
    latest = await latestOffsets(topic.topic);
    assert.equal(sumOffsets(latest), RECORDS);
    const db = await runs.freshDb();
    const group = randomName('many-ref');
    await runToEnd('the uninterrupted run to finish', () => start(db, group, topic.topic), progress(db), 240_000);
    reference = await jobSnapshot('recharge-metrics', db.url, group);
  });

  after(() => runs.cleanup());

  it('counts every partition in the uninterrupted run (the comparison is not vacuous)', () => {
    assert.equal(reference.offsets.length, PARTITIONS);
    const orders = reference.daily.reduce((n, r) => n + Number(r.orders), 0);
    assert.ok(orders > 0.9 * RECORDS, `${orders} orders counted`);
    assert.equal(Number(reference.orders[0].n), orders);
  });

  it('ends exact after a SIGKILL of one of two workers mid-stream, with no transaction rolled back by another', async () => {
    const db = await runs.freshDb();
    const group = randomName('many-failover');
    // The same records at the same partitions and offsets, written once both workers own partitions.
    const topic = await runs.createTopic('recharge', PARTITIONS);
    const survivor = await runWithFailover({
      records: RECORDS,
      start: () => start(db, group, topic.topic),
      progress: progress(db),
      finishTimeoutMs: 240_000,
      killAtShare: 0.3,
      partitions: PARTITIONS,
      feed: () => produce(topic.topic, feed),
    });
    await survivor.kill('SIGTERM');
    const result = await jobSnapshot('recharge-metrics', db.url, group);
    assert.deepEqual(result.daily, reference.daily);
    assert.deepEqual(result.minutes, reference.minutes);
    assert.deepEqual(result.orders, reference.orders);
    assert.deepEqual(result.offsets, reference.offsets);
    const [rows] = await sql<{ n: bigint }>(db.url, 'SELECT COUNT(DISTINCT `partition`) AS n FROM recharge_city_daily');
    assert.ok(Number(rows.n) > 1, `the city-days have rows of ${rows.n.toString()} partition(s): partition-local`);
    const [state] = await sql(db.url, 'SELECT seq FROM recharge_serving_state WHERE group_id = ?', [group]);
    assert.ok(Number(state.seq) > 0, 'the transactions numbered their commits on the ordering row');
    assert.deepEqual(contention(runs), [], 'no deadlock, lock wait timeout or failed commit in any run');
  });
});

describe('two abnormal-orders workers over 12 partitions', () => {
  const runs = new TestRuns();
  const job = abnormalOrdersJob(20_000, 1313);
  let reference: unknown;

  const start = (db: TestDatabase, group: string, topic: string) =>
    runs.start({
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: topic,
      ABNORMAL_ORDERS_GROUP: group,
      JOBS: 'abnormal-orders',
      ROLES: 'worker',
      IDLE_TIMEOUT_MS: '3600000',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
    });
  // The job's records by uid over 12 partitions (a user's events in one partition, as in production).
  const feed = withPartitions(
    job.feed.filter((r) => r.key !== 'flush').map((r) => ({ key: r.key, value: r.value })),
    PARTITIONS,
  );
  const flush = flushRecords(Math.floor((Date.UTC(2026, 0, 1) + 86_400_000) / 1000), PARTITIONS);

  before(async () => {
    const topic = await runs.createTopic('user-behavior', PARTITIONS);
    await produce(topic.topic, [...feed, ...flush]);
    const latest = await latestOffsets(topic.topic);
    const db = await runs.freshDb(job.vips);
    const group = randomName('many-ao-ref');
    await runToEnd(
      'the uninterrupted run to finish',
      () => start(db, group, topic.topic),
      () => jobProgress(db.url, latest, { windowed: true }),
      240_000,
    );
    reference = await jobSnapshot('abnormal-orders', db.url, group);
  });

  after(() => runs.cleanup());

  it('ends with the rows of one worker, no transaction of one rolled back by the other', async () => {
    assert.ok((reference as { rows: unknown[] }).rows.length > 10, 'the uninterrupted run flagged users');
    const db = await runs.freshDb(job.vips);
    const group = randomName('many-ao');
    const topic = await runs.createTopic('user-behavior', PARTITIONS);
    const first = await start(db, group, topic.topic);
    const second = await start(db, group, topic.topic);
    await produce(topic.topic, [...feed, ...flush]);
    const latest = await latestOffsets(topic.topic);
    await waitForDone('both workers to finish', () => jobProgress(db.url, latest, { windowed: true }), 240_000);
    await Promise.all([first.kill('SIGTERM'), second.kill('SIGTERM')]);
    assert.deepEqual(
      withoutOffsets({ job: await jobSnapshot('abnormal-orders', db.url, group) }),
      withoutOffsets({ job: reference }),
    );
    assert.deepEqual(contention(runs), []);
  });
});

/**
 * Two workers of `job` (an additive job with partition-local rows, the feed
 * spread by key over 12 partitions) with a SIGKILL of one at 30%: the sums and
 * offsets of an uninterrupted run, rows of more than one partition in
 * `table`, and no deadlock, lock wait or failed commit in any process;
 * `more` checks what is the job's own (the run's database, group, the result
 * and the uninterrupted run's snapshot).
 */
function describeTwoWorkers(
  title: string,
  job: JobFeed,
  table: string,
  more: (db: TestDatabase, group: string, result: JobSnapshot, reference: JobSnapshot) => Promise<void>,
): void {
  describe(title, () => {
    const runs = new TestRuns();
    // By key over 12 partitions: every partition adds to the same keys.
    const feed = withPartitions(
      job.feed.map((r) => ({ key: r.key, value: r.value })),
      PARTITIONS,
    );
    let latest = new Map<number, number>();
    let reference: JobSnapshot;

    const start = (db: TestDatabase, group: string, topic: string) =>
      runs.start({
        DATABASE_URL: db.url,
        [job.topicVar]: topic,
        [job.groupVar]: group,
        JOBS: job.name,
        ROLES: 'worker',
        IDLE_TIMEOUT_MS: '3600000',
        ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
      });
    const progress = (db: TestDatabase) => () => jobProgress(db.url, latest, { windowed: false });

    before(async () => {
      const topic = await runs.createTopic(job.name, PARTITIONS);
      await produce(topic.topic, feed);
      latest = await latestOffsets(topic.topic);
      const db = await runs.freshDb();
      const group = randomName(`many-${job.name}-ref`);
      await runToEnd('the uninterrupted run to finish', () => start(db, group, topic.topic), progress(db), 240_000);
      reference = await jobSnapshot(job.name, db.url, group);
    });

    after(() => runs.cleanup());

    it('ends with the sums of an uninterrupted run after a SIGKILL of one of two workers', async () => {
      const db = await runs.freshDb();
      const group = randomName(`many-${job.name}`);
      const topic = await runs.createTopic(job.name, PARTITIONS);
      const survivor = await runWithFailover({
        records: feed.length,
        start: () => start(db, group, topic.topic),
        progress: progress(db),
        finishTimeoutMs: 240_000,
        killAtShare: 0.3,
        partitions: PARTITIONS,
        feed: () => produce(topic.topic, feed),
      });
      await survivor.kill('SIGTERM');
      // Summed per key: which partition's row a batch added to may differ from the uninterrupted run.
      const result = await jobSnapshot(job.name, db.url, group);
      for (const name of Object.keys(reference)) assert.deepEqual(result[name], reference[name], name);
      const [rows] = await sql<{ partitions: bigint }>(
        db.url,
        `SELECT COUNT(DISTINCT \`partition\`) AS partitions FROM ${table}`,
      );
      assert.ok(Number(rows.partitions) > 1, 'both workers added to rows of their own partitions');
      await more(db, group, result, reference);
      assert.deepEqual(contention(runs), [], 'no deadlock, lock wait timeout or failed commit in any run');
    });
  });
}

describeTwoWorkers(
  'two hot-products workers over 12 partitions: partition-local rows, no ordering row',
  hotProductsJob(20_000, 1414),
  'product_click_total',
  async (db, group, _result, reference) => {
    assert.ok(reference.totals.length > 100, 'the uninterrupted run counted products');
    assert.deepEqual(await sql(db.url, 'SELECT commits FROM commit_order WHERE group_id = ?', [group]), []);
  },
);

describeTwoWorkers(
  'two ad-clicks workers over 12 partitions: partition-local rows, totals ordered at the tail',
  adClicksJob(20_000, 1414),
  'ad_click_minute',
  async (db, group, result, reference) => {
    assert.ok(reference.minutes.length > 300, `the uninterrupted run counted ${reference.minutes.length} ad minutes`);
    // Each entry carries a key's total after its commit, and the totals only grow: the largest a key's
    // entries carry is its final total, unless a commit summed before another one committed.
    const logged = new Map<string, number>();
    const entries = await sql<{ payload: unknown }>(db.url, 'SELECT payload FROM change_log WHERE stream = ?', [group]);
    for (const { payload } of entries) {
      // The driver parses a JSON column itself.
      const p = (typeof payload === 'string' ? JSON.parse(payload) : payload) as {
        adId: string;
        minute: string;
        clicks: number;
      };
      const key = `${p.adId}|${new Date(p.minute).getTime()}`;
      logged.set(key, Math.max(logged.get(key) ?? 0, p.clicks));
    }
    const totals = new Map(
      result.minutes.map((m) => [`${String(m.ad_id)}|${new Date(String(m.window_start)).getTime()}`, Number(m.clicks)]),
    );
    const behind = [...totals].filter(([key, clicks]) => clicks > 0 && logged.get(key) !== clicks);
    assert.deepEqual(
      behind.slice(0, 5),
      [],
      `${behind.length} of ${totals.size} ad minutes end below their total in the change log`,
    );
  },
);
