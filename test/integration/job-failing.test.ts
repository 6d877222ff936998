// A job whose commit keeps failing is visible, against the real services: a
// table the job writes is dropped while it runs, the job turns FAILING (jobs
// query with its last error, /readyz 503 naming it, rt_partition_failing 1)
// with one log line, and recovers by itself once the table is back, with
// exactly the results of an uninterrupted run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import {
  jobProgress,
  latestOffsets,
  runToEnd,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  waitForDone,
  type TestDatabase,
  type TestTopic,
} from '../helpers/job-runs.js';
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import { recovered as isRecovered, waitForJob } from '../helpers/jobs-query.js';
import type { ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, sql, waitFor } from '../helpers/services.js';

const GENERATOR = {
  seed: 4242,
  users: 300,
  abnormalShare: 0.2,
  startTimeMs: Date.UTC(2026, 2, 1),
  eventsPerSecond: 200,
  count: 16_000,
};
/** Records before the table is dropped: 5 s of event time, so no window has closed yet and no row was written. */
const BEFORE_DROP = 1_000;

describe('a job that cannot commit', () => {
  let topic: TestTopic;
  const runs = new TestRuns();
  let db: TestDatabase;
  let svc: ServiceProcess;
  let latest = new Map<number, number>();
  let failing: any;
  let readyWhileFailing: { status: number; body: any };
  let metricsWhileFailing: string;
  let recovered: any;
  let readyAfter: number;
  let metricsAfter: string;
  let rowsBeforeDrop: number;
  let live: unknown[];
  let reference: unknown[];

  const start = (d: TestDatabase, group: string) =>
    runs.start({
      DATABASE_URL: d.url,
      USER_BEHAVIOR_TOPIC: topic.topic,
      ABNORMAL_ORDERS_GROUP: group,
      JOBS: 'abnormal-orders',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
      IDLE_TIMEOUT_MS: '3600000',
      PARTITION_STATS_INTERVAL_MS: '500',
    });
  const snapshot = (d: TestDatabase) =>
    sql(
      d.url,
      'SELECT uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end FROM unpayment_record ORDER BY uid',
    );
  const base = () => svc.url.replace(/\/graphql$/, '');
  const failingSeries = (text: string) =>
    text.split('\n').filter((l) => l.startsWith('rt_partition_failing{') && l.includes('job="abnormal-orders"'));

  before(async () => {
    topic = await runs.createTopic();
    db = await runs.freshDb(sampleVipUids(GENERATOR));
    svc = await start(db, randomName('abnormal-failing'));
    const records = [...generateUserBehavior(GENERATOR)].map((r) => ({ key: r.key, value: r.value }));
    await produce(topic.topic, records.slice(0, BEFORE_DROP));
    const first = await latestOffsets(topic.topic);
    await waitFor(
      'the first records to commit',
      async () => (await jobProgress(db.url, first, { windowed: false })).consumed === sumOffsets(first),
      60_000,
      200,
    );
    rowsBeforeDrop = (await snapshot(db)).length;
    // The table as every migration left it, to create it again as it was.
    const [created] = await sql<{ 'Create Table': string }>(db.url, 'SHOW CREATE TABLE unpayment_record');
    await sql(db.url, 'DROP TABLE unpayment_record');
    await produce(topic.topic, records.slice(BEFORE_DROP));
    await produce(topic.topic, flushRecords(Math.floor((GENERATOR.startTimeMs + 3_600_000) / 1000)));
    latest = await latestOffsets(topic.topic);

    failing = await waitForJob(
      svc.url,
      'abnormal-orders',
      'the job to show FAILING',
      (job) => job.state === 'FAILING' && job.lastError?.attempts > 1,
      90_000,
    );
    const res = await fetch(`${base()}/readyz`);
    readyWhileFailing = { status: res.status, body: await res.json() };
    metricsWhileFailing = await (await fetch(`${base()}/metrics`)).text();

    await sql(db.url, created['Create Table']);
    recovered = await waitForJob(svc.url, 'abnormal-orders', 'the job to recover by itself', isRecovered, 120_000);
    readyAfter = (await fetch(`${base()}/readyz`)).status;
    metricsAfter = await (await fetch(`${base()}/metrics`)).text();
    await waitForDone('the job to finish', () => jobProgress(db.url, latest, { windowed: true }), 120_000);
    live = await snapshot(db);

    const refDb = await runs.freshDb(sampleVipUids(GENERATOR));
    await runToEnd(
      'the reference run',
      () => start(refDb, randomName('abnormal-failing-ref')),
      () => jobProgress(refDb.url, latest, { windowed: true }),
      120_000,
    );
    reference = await snapshot(refDb);
  });

  after(() => runs.cleanup());

  it('shows FAILING in the jobs query with the database error, the attempts and since when', () => {
    assert.equal(rowsBeforeDrop, 0, 'nothing was written before the drop (so the re-created table can be compared)');
    assert.equal(failing.lastError.code, 'MYSQL_1146');
    assert.match(failing.lastError.message, /unpayment_record.*doesn't exist/);
    assert.ok(failing.lastError.attempts > 1);
    assert.ok(!Number.isNaN(Date.parse(failing.lastError.since)));
    const failingPartitions = failing.partitions.filter((p: any) => p.lastError);
    assert.ok(failingPartitions.length >= 1);
    assert.ok(failingPartitions.every((p: any) => p.lastError.code === 'MYSQL_1146' && p.owner));
  });

  it('answers /readyz 503 naming the job, and the gauge is 1 for a failing partition', () => {
    assert.equal(readyWhileFailing.status, 503);
    assert.match(readyWhileFailing.body.error, /abnormal-orders/);
    assert.match(readyWhileFailing.body.error, /MYSQL_1146/);
    const series = failingSeries(metricsWhileFailing);
    assert.ok(
      series.some((l) => l.endsWith(' 1')),
      series.join('\n'),
    );
  });

  it('recovers by itself once the table is back: RUNNING, /readyz 200, gauge 0', () => {
    assert.equal(recovered.state, 'RUNNING');
    assert.equal(readyAfter, 200);
    const series = failingSeries(metricsAfter);
    assert.ok(series.length >= 1 && series.every((l) => l.endsWith(' 0')), series.join('\n'));
  });

  it('logs one line when FAILING starts and one when it ends, not one per retry', () => {
    const lines = svc.logs.filter((l) => l.job === 'abnormal-orders');
    const started = lines.filter((l) => String(l.msg).startsWith('job failing'));
    assert.equal(started.length, 1, JSON.stringify(started));
    assert.equal(started[0].code, 'MYSQL_1146');
    assert.match(String(started[0].msg), /doesn't exist/);
    const ended = lines.filter((l) => String(l.msg).startsWith('job recovered'));
    assert.equal(ended.length, 1);
    assert.ok(Number(ended[0].attempts) > 1);
    const loud = lines.filter((l) => Number(l.level) >= 40);
    assert.deepEqual(
      loud.map((l) => l.msg),
      [started[0].msg],
    );
  });

  it('ends with exactly the results of an uninterrupted run', () => {
    assert.ok(reference.length > 10, `only ${reference.length} rows in the reference run`);
    assert.deepEqual(live, reference);
  });
});
