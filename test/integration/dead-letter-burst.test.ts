// A burst of malformed records must not stop a job, against the real services:
// 40,000 malformed records of about 300 bytes on each job's topic, then a
// known-answer stream, for one windowed job (abnormal-orders) and one
// additive job (recharge-metrics) run by one worker with the default
// transaction size. The dead letters of one transaction then add up to several
// megabytes, more than the broker accepts in one request (1 MiB by default).
// Each job must reach the end of its topic, with every bad record in the
// dead-letter topic with its reason, counted once, and exactly the results of
// the known-answer stream alone. A second worker killed twice with SIGKILL in
// the middle of the burst must end with the same rows and counters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deadLetterTopic } from '../../src/config/topics.js';
import { JobSet, uninterruptedReference, type FaultJob, type FeedRecord } from '../helpers/fault-streams.js';
import { rechargeMetricsJob } from '../../src/jobs/recharge-metrics/testing.js';
import { abnormalOrdersJob } from '../../src/jobs/abnormal-orders/testing.js';
import { latestOffsets, runToEnd, sumOffsets, TestRuns } from '../helpers/job-runs.js';
import { sumOffsetColumn, withoutOffsets } from '../helpers/job-snapshots.js';
import { produce, readTopic, waitFor } from '../helpers/services.js';

/** Malformed records written ahead of each job's known-answer stream. */
const BURST = 40_000;
const GOOD = 5_000;

/** `count` records of about 300 bytes that no parser accepts (cut-off JSON), spread over 3 partitions. */
function malformedBurst(count: number): FeedRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `bad-${i}`,
    value: `{"broken":${i},"padding":"${'x'.repeat(270)}`,
    partition: i % 3,
  }));
}

/** `job` with the burst in front of its feed. */
const withBurst = (job: FaultJob): FaultJob => ({ ...job, feed: [...malformedBurst(BURST), ...job.feed] });

/** Sum of the `dead_lettered` counters of a snapshot's offsets, per job. */
const deadLettered = (snapshot: Record<string, unknown>) => sumOffsetColumn(snapshot, 'dead_lettered');

describe('a burst of malformed records', () => {
  const runs = new TestRuns();
  const abnormal = abnormalOrdersJob(GOOD, 9191);
  const recharge = rechargeMetricsJob(GOOD, 9292);
  const jobs = [abnormal, recharge];
  const burstJobs = jobs.map(withBurst);
  let reference: Record<string, unknown>;
  let burstRun: Record<string, unknown>;
  let killedRun: Record<string, unknown>;
  const consumedAtKills: number[] = [];
  let set: JobSet;
  let dlq: { topic: string; records: Awaited<ReturnType<typeof readTopic>> }[] = [];

  const start = (s: JobSet, dbUrl: string, extra: Record<string, string> = {}) =>
    runs.start({
      DATABASE_URL: dbUrl,
      ROLES: 'worker',
      // Fixed notify times in the past: a 10-year horizon keeps them countable.
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
      ...s.env(),
      ...extra,
    });

  before(async () => {
    reference = (await uninterruptedReference(runs, jobs, (s, dbUrl) => start(s, dbUrl), abnormal.vips)).snapshot;

    const topics: string[] = [];
    for (const j of burstJobs) topics.push((await runs.createTopic(j.name)).topic);
    await Promise.all(burstJobs.map((j, i) => produce(topics[i], j.feed)));
    const latest = await Promise.all(topics.map((t) => latestOffsets(t)));
    assert.deepEqual(
      latest.map(sumOffsets),
      burstJobs.map((j) => j.feed.length),
    );

    // Uninterrupted, with the default transaction size (20,000 records).
    set = new JobSet(burstJobs, topics).setLatest(latest);
    const db = await runs.freshDb(abnormal.vips);
    await runToEnd(
      'the burst run to finish',
      () => start(set, db.url),
      () => set.progress(db.url),
      180_000,
    );
    burstRun = await set.snapshot(db.url);
    // The dead-letter topic is at-least-once (a retried transaction sends its dead letters again): read all of it.
    dlq = await Promise.all(
      topics.map(async (t) => {
        const topic = deadLetterTopic(t);
        return { topic, records: await readTopic(topic, sumOffsets(await latestOffsets(topic)), 60_000) };
      }),
    );

    // Killed twice while the burst is being read: transactions of 5,000 records, several per partition.
    const killed = new JobSet(burstJobs, topics).setLatest(latest);
    const killedDb = await runs.freshDb(abnormal.vips);
    const env = {
      TRANSACTION_MAX_RECORDS: '5000',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    };
    for (const share of [0.15, 0.4]) {
      const p = await start(killed, killedDb.url, env);
      await waitFor(
        `progress past ${share * 100}% of the bursts`,
        async () => (await killed.progress(killedDb.url)).consumed >= share * BURST * jobs.length,
        120_000,
        20,
      );
      await new Promise((r) => setTimeout(r, Math.random() * 100));
      await p.kill('SIGKILL');
      consumedAtKills.push((await killed.progress(killedDb.url)).consumed);
    }
    await runToEnd(
      'the killed run to finish',
      () => start(killed, killedDb.url, env),
      () => killed.progress(killedDb.url),
      180_000,
    );
    killedRun = await killed.snapshot(killedDb.url);
  });

  after(() => runs.cleanup());

  it('reads every topic to its end and gives exactly the results of the known-answer stream alone', () => {
    const ref = withoutOffsets(reference) as Record<string, Record<string, unknown[]>>;
    assert.ok(ref['abnormal-orders'].rows.length > 10, `${ref['abnormal-orders'].rows.length} users flagged`);
    assert.ok(ref['recharge-metrics'].daily.length > 10, `${ref['recharge-metrics'].daily.length} city-days`);
    assert.deepEqual(withoutOffsets(burstRun), withoutOffsets(reference));
  });

  it('counts every bad record once, beside those of the known-answer stream', () => {
    const before = deadLettered(reference);
    const after = deadLettered(burstRun);
    for (const j of jobs) assert.equal(after[j.name], before[j.name] + BURST, j.name);
  });

  it('puts every bad record in the dead-letter topic with its reason and source position', () => {
    for (const [i, { topic, records }] of dlq.entries()) {
      const expected = deadLettered(burstRun)[burstJobs[i].name];
      const keys = new Set(records.map((r) => r.key));
      assert.equal(keys.size, expected, `${topic}: distinct dead letters`);
      const burst = records.filter((r) => r.value?.startsWith('{"broken":'));
      const positions = new Set(
        burst.map((r) => `${r.headers['dlq.source.partition']}:${r.headers['dlq.source.offset']}`),
      );
      assert.equal(positions.size, BURST, `${topic}: burst records`);
      for (let p = 0; p < 3; p++)
        for (let offset = 0; offset < BURST / 3 - 1; offset++)
          assert.ok(positions.has(`${p}:${offset}`), `${p}:${offset}`);
      assert.ok(
        burst.every((r) => r.headers['dlq.reason'] && !('dlq.truncated' in r.headers)),
        `${topic}: a reason each, none cut`,
      );
    }
  });

  it('ends with the same rows and counters after SIGKILL in the middle of the burst', () => {
    assert.ok(
      consumedAtKills.every((c) => c < BURST * jobs.length),
      `kills after the bursts were read: ${consumedAtKills.join(', ')}`,
    );
    assert.deepEqual(killedRun, burstRun);
  });
});
