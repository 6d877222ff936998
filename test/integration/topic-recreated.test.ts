// A topic deleted and created again under a running deployment, against the
// real services. One worker runs abnormal-orders (windowed) and
// recharge-metrics (additive) over a first log to its end and stops; both
// topics are deleted and created again, and a second log is written. The
// worker started again must not resume at the old offsets, which would skip
// every record of the new log below them: it stops the partitions with
// TOPIC_RECREATED (jobs query, /readyz, a metric), processes and skips
// nothing, and an operator's resetConsumerOffsets to EARLIEST counts the new
// log from its start. Three cases: a new log shorter than the stored offsets
// (found at the claim), a new log longer than them (found by the stored
// fingerprint of the last committed record), and ON_TOPIC_RECREATED=earliest
// deciding by itself. Each ends with exactly the results of a run over the
// first log and then the second.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureTopics } from '../../src/ingest/kafka-client.js';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { gql } from '../helpers/graphql-client.js';
import { latestOffsets, runToEnd, TestRuns, waitForDone, withPartitions } from '../helpers/job-runs.js';
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import { withoutOffsets } from '../helpers/job-snapshots.js';
import { TEST_KEYS } from '../helpers/service-process.js';
import { connectAdmin, produce, sql, waitFor } from '../helpers/services.js';
import { JobSet, type FaultJob, type FeedRecord } from '../helpers/fault-streams.js';

const FIRST = 3_000;
/** Records a forward reset moves past on purpose. */
const SKIPPED = 300;
const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2026, 2, 1);
const JOBS = '{ jobs { name state lastError { code message attempts } } }';
const RESET = `mutation($input: ResetConsumerOffsetsInput!) {
  resetConsumerOffsets(input: $input) { applied recordsToRecount partitions { partition before after } }
}`;

/** `count` behaviour records from `startMs`, then one flush record per partition a day later (every window closes). */
function behaviourFeed(count: number, seed: number, startMs: number): FeedRecord[] {
  const records = [...generateUserBehavior({ seed, users: 400, startTimeMs: startMs, eventsPerSecond: 50, count })];
  return [
    ...withPartitions(records.map((r) => ({ key: r.key, value: r.value }))),
    ...flushRecords(Math.floor((startMs + DAY_MS) / 1000)),
  ];
}

/** `count` recharge records from `startMs`, round-robin over the partitions. */
function rechargeFeed(count: number, seed: number, startMs: number): FeedRecord[] {
  return [...generateRecharges({ seed, count, startTimeMs: startMs, eventsPerSecond: 20 })].map((r, i) => ({
    key: r.key,
    value: r.value,
    partition: i % 3,
  }));
}

const jobsOf = (abnormal: FeedRecord[], recharge: FeedRecord[]): FaultJob[] => [
  {
    name: 'abnormal-orders',
    topicVar: 'USER_BEHAVIOR_TOPIC',
    groupVar: 'ABNORMAL_ORDERS_GROUP',
    windowed: true,
    feed: abnormal,
  },
  {
    name: 'recharge-metrics',
    topicVar: 'RECHARGE_TOPIC',
    groupVar: 'RECHARGE_GROUP',
    windowed: false,
    feed: recharge,
  },
];

/** Deletes `topic` (not its dead-letter topic) and creates it again, empty, with 3 partitions. */
async function recreate(topic: string): Promise<void> {
  const admin = await connectAdmin();
  try {
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(`${topic} to be deleted`, async () => !(await admin.listTopics()).includes(topic), 30_000);
    await waitFor(
      `${topic} to be created again`,
      async () => {
        await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
        return (await admin.fetchTopicOffsets(topic)).length === 3;
      },
      30_000,
      500,
    );
  } finally {
    await admin.disconnect();
  }
}

interface CaseResult {
  reference: Record<string, unknown>;
  firstOnly: Record<string, unknown>;
  recreated: Record<string, unknown>;
  failing?: any[];
  ready?: { status: number; body: any };
  metrics?: string;
  resets?: any[];
  offsetRows: Record<string, unknown>[];
  /** A forward reset of the paused recharge job past records it never processed: its consumerOffsets rows. */
  skipped?: any[];
  loud: string[];
}

describe('a topic deleted and created again', () => {
  const runs = new TestRuns();
  const vips = sampleVipUids({ seed: 31, users: 400 });
  const first = jobsOf(behaviourFeed(FIRST, 31, START_MS), rechargeFeed(FIRST, 32, START_MS));
  const cases = new Map<string, CaseResult>();

  const start = (set: JobSet, dbUrl: string, extra: Record<string, string> = {}) =>
    runs.start({
      DATABASE_URL: dbUrl,
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
      PARTITION_STATS_INTERVAL_MS: '500',
      ...set.env(),
      ...extra,
    });

  /** Runs `jobs`' feeds, each on a fresh topic of its own with a fresh consumer group, to the end in `dbUrl`. */
  async function runFeeds(jobs: FaultJob[], dbUrl: string): Promise<JobSet> {
    const topics: string[] = [];
    for (const j of jobs) topics.push((await runs.createTopic(j.name)).topic);
    await Promise.all(jobs.map((j, i) => produce(topics[i], j.feed)));
    const set = new JobSet(jobs, topics).setLatest(await Promise.all(topics.map((t) => latestOffsets(t))));
    await runToEnd(
      'a run to finish',
      () => start(set, dbUrl),
      () => set.progress(dbUrl),
      120_000,
    );
    return set;
  }

  async function runCase(name: string, secondCount: number, policy: 'fail' | 'earliest'): Promise<void> {
    const second = jobsOf(
      behaviourFeed(secondCount, 41, START_MS + 3 * DAY_MS),
      rechargeFeed(secondCount, 42, START_MS + 3 * DAY_MS),
    );
    // The reference: the first log, then the second, on topics of their own.
    const refDb = await runs.freshDb(vips);
    const refSet = await runFeeds(first, refDb.url);
    await runFeeds(second, refDb.url);
    const reference = await refSet.snapshot(refDb.url);

    const db = await runs.freshDb(vips);
    const set = await runFeeds(first, db.url);
    const firstOnly = await set.snapshot(db.url);
    for (const t of set.topics) await recreate(t);
    await Promise.all(second.map((j, i) => produce(set.topics[i], j.feed)));
    set.setLatest(await Promise.all(set.topics.map((t) => latestOffsets(t))));
    const svc = await start(set, db.url, { ON_TOPIC_RECREATED: policy });
    const result: Partial<CaseResult> = { reference, firstOnly };
    if (policy === 'fail') {
      result.failing = await waitFor(
        'both jobs to show FAILING with TOPIC_RECREATED',
        async () => {
          const jobs = (await gql(svc.url, JOBS, {}, TEST_KEYS.viewer)).data?.jobs as any[] | undefined;
          const mine = jobs?.filter((j) => j.lastError?.code === 'TOPIC_RECREATED' && j.state === 'FAILING');
          return mine?.length === 2 ? mine : null;
        },
        90_000,
        250,
      );
      const res = await fetch(svc.url.replace(/\/graphql$/, '/readyz'));
      result.ready = { status: res.status, body: await res.json() };
      result.metrics = await (await fetch(svc.url.replace(/\/graphql$/, '/metrics'))).text();
      result.resets = [];
      for (const groupId of set.groups) {
        const reset = await gql(svc.url, RESET, { input: { groupId, to: 'EARLIEST' } }, TEST_KEYS.ops);
        assert.equal(reset.errors, undefined, JSON.stringify(reset.errors));
        result.resets.push(reset.data.resetConsumerOffsets);
      }
    }
    await waitForDone('the new logs to be counted', () => set.progress(db.url), 120_000);
    result.recreated = await set.snapshot(db.url);
    result.offsetRows = await sql(
      db.url,
      'SELECT group_id, `partition`, skipped_by_reset, topic_recreated_at, last_offset FROM consumer_offset',
    );
    if (name === 'shorter') result.skipped = await skipOnPurpose(svc.url, set, 1, SKIPPED);
    await svc.kill('SIGTERM');
    result.loud = svc.logs.filter((l) => Number(l.level) >= 40).map((l) => String(l.msg));
    cases.set(name, result as CaseResult);
  }

  /**
   * Pauses the job of `set` at `index`, writes `count` records round-robin to its topic, resets it to
   * LATEST (past them), resumes it, and returns its consumerOffsets rows.
   */
  async function skipOnPurpose(url: string, set: JobSet, index: number, count: number): Promise<any[]> {
    const job = set.jobs[index].name;
    const paused = await gql(url, `mutation { pauseJob(job: "${job}") { state } }`, {}, TEST_KEYS.ops);
    assert.equal(paused.data?.pauseJob.state, 'PAUSED', JSON.stringify(paused.errors));
    await produce(set.topics[index], rechargeFeed(count, 51, START_MS + 5 * DAY_MS));
    const reset = await gql(url, RESET, { input: { groupId: set.groups[index], to: 'LATEST' } }, TEST_KEYS.ops);
    assert.equal(reset.errors, undefined, JSON.stringify(reset.errors));
    await gql(url, `mutation { resumeJob(job: "${job}") { state } }`, {}, TEST_KEYS.ops);
    const offsets = await gql(
      url,
      'query($g: String) { consumerOffsets(groupId: $g) { partition offset lostToRetention skippedByReset topicRecreatedAt } }',
      { g: set.groups[index] },
      TEST_KEYS.viewer,
    );
    return offsets.data.consumerOffsets;
  }

  before(async () => {
    await runCase('shorter', FIRST / 3, 'fail');
    await runCase('longer', FIRST * 2, 'fail');
    await runCase('earliest', FIRST * 2, 'earliest');
  });

  after(() => runs.cleanup());

  for (const [name, what] of [
    ['shorter', 'a new log shorter than the stored offsets'],
    ['longer', 'a new log that grew past the stored offsets'],
  ] as const) {
    it(`stops both jobs with TOPIC_RECREATED for ${what}, visible in jobs, /readyz and a metric`, () => {
      const c = cases.get(name)!;
      for (const job of c.failing!) {
        assert.match(job.lastError.message, /stored offset \d+, log offsets 0\.\.\d+/);
        assert.ok(job.lastError.attempts >= 2);
      }
      assert.equal(c.ready!.status, 503);
      assert.match(c.ready!.body.error, /TOPIC_RECREATED/);
      const counted = c
        .metrics!.split('\n')
        .filter((l) => l.startsWith('rt_topic_recreated_total{'))
        .map((l) => Number(l.split(' ').at(-1)));
      assert.equal(counted.length, 2, 'one series per job');
      assert.ok(counted.every((n) => n >= 1));
    });

    it(`counts the new log from its start after resetConsumerOffsets to EARLIEST, exactly (${what})`, () => {
      const c = cases.get(name)!;
      for (const reset of c.resets!) {
        assert.equal(reset.applied, true);
        assert.equal(Number(reset.recordsToRecount), 0, 'a new log is not a recount');
        assert.ok(reset.partitions.every((p: any) => Number(p.after) === 0 && Number(p.before) > 0));
      }
      assert.notDeepEqual(withoutOffsets(c.reference), withoutOffsets(c.firstOnly), 'the second log adds results');
      assert.deepEqual(withoutOffsets(c.recreated), withoutOffsets(c.reference));
      for (const row of c.offsetRows) {
        assert.equal(Number(row.skipped_by_reset), 0, 'nothing of the new log was skipped');
        assert.equal(row.topic_recreated_at, null, 'the reset cleared the mark');
        assert.notEqual(row.last_offset, null, 'the new log fingerprinted');
      }
    });
  }

  it('counts the records a reset moved past on purpose in skippedByReset, beside lostToRetention', () => {
    const rows = cases.get('shorter')!.skipped!;
    assert.equal(rows.length, 3);
    assert.equal(
      rows.reduce((n: number, r: any) => n + Number(r.skippedByReset), 0),
      SKIPPED,
    );
    assert.ok(rows.every((r: any) => Number(r.lostToRetention) === 0 && r.topicRecreatedAt === null));
  });

  it('with ON_TOPIC_RECREATED=earliest counts the new log by itself, exactly, with one warning per partition and no FAILING', () => {
    const c = cases.get('earliest')!;
    assert.deepEqual(withoutOffsets(c.recreated), withoutOffsets(c.reference));
    const warnings = c.loud.filter((m) => m.includes('ON_TOPIC_RECREATED=earliest'));
    assert.equal(warnings.length, 6, c.loud.join('\n'));
    assert.deepEqual(
      c.loud.filter((m) => m.startsWith('job failing')),
      [],
      'never FAILING',
    );
  });
});
