// A restart with another window specification, against the real services:
// a stream under 60 s / 30 s windows is stopped in the middle and restarted
// with 120 s / 60 s. The stored positions were computed for the old windows,
// so the job is refused with one line naming the change and the way out
// (FAILING with WINDOW_SPEC_CHANGED, nothing changed in the database); after
// rebuildJob it starts and ends with the results of a run that only ever
// used 120 s / 60 s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { gql } from '../helpers/graphql-client.js';
import { waitForJob } from '../helpers/jobs-query.js';
import {
  jobProgress,
  latestOffsets,
  rowsAsText,
  runToEnd,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  waitForDone,
  type TestDatabase,
  type TestTopic,
} from '../helpers/job-runs.js';
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import { TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, sql, waitFor } from '../helpers/services.js';

const GENERATOR = {
  seed: 9090,
  users: 300,
  abnormalShare: 0.2,
  startTimeMs: Date.UTC(2026, 3, 1),
  eventsPerSecond: 100,
  count: 24_000,
};
const OLD = { ABNORMAL_WINDOW_SIZE_MS: '60000', ABNORMAL_WINDOW_ADVANCE_MS: '30000' };
const NEW = { ABNORMAL_WINDOW_SIZE_MS: '120000', ABNORMAL_WINDOW_ADVANCE_MS: '60000' };
/** Every column an uninterrupted run fixes; first_detected_at keeps the earliest detection, old windows included. */
const ROWS =
  'SELECT uid, phone, callback_status, enter_order_count, last_detected_at, window_start, window_end FROM unpayment_record ORDER BY uid';
const POSITIONS =
  'SELECT `partition`, next_offset, replay_from, watermark_ms, epoch, window_size_ms, window_advance_ms, grace_ms FROM consumer_offset ORDER BY `partition`';

describe('a restart with another window specification', () => {
  let topic: TestTopic;
  const runs = new TestRuns();
  let db: TestDatabase;
  let group: string;
  let latest = new Map<number, number>();
  let stoppedAt: Record<string, string | null>[];
  let refused: any;
  let refusedReady: { status: number; body: any };
  let positionsWhileRefused: Record<string, string | null>[];
  let restarted: ServiceProcess;
  let rebuild: any;
  let afterRebuild: any;
  let positionsAfter: Record<string, string | null>[];
  let live: Record<string, string | null>[];
  let liveFirst: Map<string, string>;
  let reference: Record<string, string | null>[];
  let referenceFirst: Map<string, string>;

  const start = (d: TestDatabase, groupId: string, spec: Record<string, string>) =>
    runs.start({
      DATABASE_URL: d.url,
      USER_BEHAVIOR_TOPIC: topic.topic,
      ABNORMAL_ORDERS_GROUP: groupId,
      JOBS: 'abnormal-orders',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
      IDLE_TIMEOUT_MS: '3600000',
      PARTITION_STATS_INTERVAL_MS: '500',
      GRACE_MS: '5000',
      ...spec,
    });
  const firstDetections = async (d: TestDatabase) =>
    new Map(
      rowsAsText(await sql(d.url, 'SELECT uid, first_detected_at FROM unpayment_record')).map((r) => [
        r.uid!,
        r.first_detected_at!,
      ]),
    );

  before(async () => {
    topic = await runs.createTopic();
    db = await runs.freshDb(sampleVipUids(GENERATOR));
    group = randomName('abnormal-spec');
    const records = [...generateUserBehavior(GENERATOR)].map((r) => ({ key: r.key, value: r.value }));
    const half = records.length / 2;

    const first = await start(db, group, OLD);
    await produce(topic.topic, records.slice(0, half));
    const halfway = await latestOffsets(topic.topic);
    await waitFor(
      'the first half to commit',
      async () => (await jobProgress(db.url, halfway, { windowed: false })).consumed === sumOffsets(halfway),
      90_000,
      200,
    );
    await first.kill('SIGTERM');
    stoppedAt = rowsAsText(await sql(db.url, POSITIONS));

    restarted = await start(db, group, NEW);
    await produce(topic.topic, records.slice(half));
    await produce(topic.topic, flushRecords(Math.floor((GENERATOR.startTimeMs + 3_600_000) / 1000)));
    latest = await latestOffsets(topic.topic);
    refused = await waitForJob(
      restarted.url,
      'abnormal-orders',
      'the job to be refused',
      (job) => job.state === 'FAILING',
      60_000,
    );
    const res = await fetch(restarted.url.replace(/\/graphql$/, '/readyz'));
    refusedReady = { status: res.status, body: await res.json() };
    positionsWhileRefused = rowsAsText(await sql(db.url, POSITIONS));

    rebuild = await gql(
      restarted.url,
      'mutation { rebuildJob(job: "abnormal-orders") { job acknowledged } }',
      {},
      TEST_KEYS.ops,
    );
    await waitForDone('the rebuilt job to finish', () => jobProgress(db.url, latest, { windowed: true }), 180_000);
    afterRebuild = await waitForJob(
      restarted.url,
      'abnormal-orders',
      'the job to run',
      (job) => job.state === 'RUNNING',
      30_000,
    );
    positionsAfter = rowsAsText(await sql(db.url, POSITIONS));
    live = rowsAsText(await sql(db.url, ROWS));
    liveFirst = await firstDetections(db);

    const refDb = await runs.freshDb(sampleVipUids(GENERATOR));
    await runToEnd(
      'the reference run under 120 s / 60 s',
      () => start(refDb, randomName('abnormal-spec-ref'), NEW),
      () => jobProgress(refDb.url, latest, { windowed: true }),
      180_000,
    );
    reference = rowsAsText(await sql(refDb.url, ROWS));
    referenceFirst = await firstDetections(refDb);
  });

  after(() => runs.cleanup());

  it('stores the window specification with each position', () => {
    assert.equal(stoppedAt.length, 3);
    for (const row of stoppedAt) {
      assert.deepEqual([row.window_size_ms, row.window_advance_ms, row.grace_ms], ['60000', '30000', '5000']);
    }
  });

  it('refuses the job with one line naming the change and the way out, changing nothing', () => {
    const lines = restarted.logs.filter((l) => String(l.msg).includes('window specification changed'));
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].level, 50);
    assert.match(String(lines[0].msg), /size 60000 -> 120000 ms, advance 30000 -> 60000 ms/);
    assert.match(String(lines[0].msg), /rebuildJob/);
    assert.match(String(lines[0].msg), /set the old values back/);
    assert.equal(refused.lastError.code, 'WINDOW_SPEC_CHANGED');
    assert.match(refused.lastError.message, /size 60000 -> 120000 ms/);
    assert.equal(refusedReady.status, 503);
    assert.match(refusedReady.body.error, /abnormal-orders/);
    assert.deepEqual(positionsWhileRefused, stoppedAt, 'a refused claim changes nothing');
  });

  it('starts after rebuildJob, under the new specification', () => {
    assert.equal(rebuild.errors, undefined, JSON.stringify(rebuild.errors));
    assert.equal(rebuild.data.rebuildJob.acknowledged, true);
    assert.equal(afterRebuild.lastError, null);
    for (const row of positionsAfter) {
      assert.deepEqual([row.window_size_ms, row.window_advance_ms, row.grace_ms], ['120000', '60000', '5000']);
    }
    assert.ok(restarted.logs.some((l) => String(l.msg).startsWith('job recovered')));
  });

  it('ends with the results of a run that only used 120 s / 60 s windows', () => {
    assert.ok(reference.length > 10, `only ${reference.length} rows in the reference run`);
    assert.deepEqual(live, reference);
    // A detection of an old 60 s window may only make a first detection earlier.
    assert.deepEqual([...liveFirst.keys()].sort(), [...referenceFirst.keys()].sort());
    for (const [uid, first] of liveFirst) assert.ok(first <= referenceFirst.get(uid)!, uid);
  });
});
