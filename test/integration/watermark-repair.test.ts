// The repair of a watermark a wrong clock moved too far (stored before records
// too far ahead were refused): a partition whose stored watermark is a year
// ahead makes every real record late, and abnormal-orders flags no one. The
// operator's repairWatermark (role ops, dry run first, audited) sets it back
// without touching the offsets or the results, and the job flags users from
// the next window on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateUserBehavior, sampleVipUids } from '../../src/sample/user-behavior-generator.js';
import { errorCode, gql, type GraphQLResponse } from '../helpers/graphql-client.js';
import {
  flushRecords,
  jobProgress,
  latestOffsets,
  offsetRows,
  rowsAsText,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  waitForDone,
  withPartitions,
  type TestDatabase,
} from '../helpers/job-runs.js';
import { TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, sql } from '../helpers/services.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR_MS = 3_600_000;
const YEAR_MS = 365 * 86_400_000;
/** One hour of behaviour events from `startTimeMs` (epoch MILLISECONDS), by uid over 3 partitions. */
const hourFrom = (startTimeMs: number, seed: number) =>
  withPartitions(
    [...generateUserBehavior({ seed, users: 400, startTimeMs, eventsPerSecond: 5, count: 18_000 })].map((r) => ({
      key: r.key,
      value: r.value,
    })),
  );
const REPAIRED =
  'mutation ($to: DateTime!, $dryRun: Boolean) { repairWatermark(job: "abnormal-orders", to: $to, dryRun: $dryRun) { job dryRun applied acknowledged partitions { partition before after } } }';

describe('repairing a watermark a wrong clock moved a year ahead', () => {
  const runs = new TestRuns();
  let db: TestDatabase;
  let worker: ServiceProcess;
  let topic: string;
  const group = randomName('abnormal-repair');
  const detections = async () => Number((await sql(db.url, 'SELECT COUNT(*) AS n FROM unpayment_record'))[0].n);
  const lateRecords = async () => (await offsetRows(db.url, group)).reduce((n, r) => n + Number(r.late_records), 0);
  let flaggedBefore = 0;
  let flaggedWhileBlind = 0;
  let lateWhileBlind = 0;
  let dry: GraphQLResponse;
  let repaired: GraphQLResponse;
  let refused: GraphQLResponse;

  const start = () =>
    runs.start({
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: topic,
      ABNORMAL_ORDERS_GROUP: group,
      JOBS: 'abnormal-orders',
      IDLE_TIMEOUT_MS: '3600000',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
    });
  /** Writes `records` and a flush at `flushAtMs`, and waits until the job read them all. */
  const feed = async (records: { key: string | null; value: string; partition: number }[], flushAtMs: number) => {
    await produce(topic, [...records, ...flushRecords(Math.floor(flushAtMs / 1000))]);
    const latest = await latestOffsets(topic);
    await waitForDone('the job to read the records', () => jobProgress(db.url, latest, { windowed: false }), 120_000);
  };

  before(async () => {
    topic = (await runs.createTopic('user-behavior')).topic;
    db = await runs.freshDb(sampleVipUids({ seed: 1, users: 400 }));
    worker = await start();
    // An hour counted as usual.
    await feed(hourFrom(T0, 11), T0 + HOUR_MS + 120_000);
    flaggedBefore = await detections();
    await worker.kill('SIGTERM');
    // A watermark a year ahead, as records of a wrong clock left it before they were refused.
    await sql(db.url, 'UPDATE consumer_offset SET watermark_ms = ? WHERE group_id = ?', [Date.now() + YEAR_MS, group]);
    worker = await start();
    const lateBefore = await lateRecords();
    await feed(hourFrom(T0 + 2 * HOUR_MS, 12), T0 + 3 * HOUR_MS + 120_000);
    flaggedWhileBlind = (await detections()) - flaggedBefore;
    lateWhileBlind = (await lateRecords()) - lateBefore;

    const to = new Date(T0 + 4 * HOUR_MS).toISOString();
    refused = await gql(worker.url, REPAIRED, { to: new Date(Date.now() + 3_600_000).toISOString() }, TEST_KEYS.ops);
    dry = await gql(worker.url, REPAIRED, { to, dryRun: true }, TEST_KEYS.ops);
    repaired = await gql(worker.url, REPAIRED, { to }, TEST_KEYS.ops);
  });

  after(() => runs.cleanup());

  it('is blind with a watermark a year ahead: every record late, no one flagged', () => {
    assert.ok(flaggedBefore > 10, `${flaggedBefore} users flagged in the first hour`);
    assert.equal(flaggedWhileBlind, 0);
    assert.ok(lateWhileBlind > 1_000, `${lateWhileBlind} late records`);
  });

  it('refuses a watermark after the wall clock with BAD_USER_INPUT, and shows a dry run without changing it', async () => {
    assert.equal(errorCode(refused), 'BAD_USER_INPUT', JSON.stringify(refused));
    const d = dry.data?.repairWatermark;
    assert.equal(d.applied, false);
    assert.deepEqual(
      d.partitions.map((p: { partition: number }) => p.partition),
      [0, 1, 2],
    );
    assert.ok(Date.parse(d.partitions[0].before) > Date.now(), 'the stored watermark is shown before');
  });

  it('sets the watermark back, audited, without touching the offsets, and the job flags users again from the next window on', async () => {
    const r = repaired.data?.repairWatermark;
    assert.equal(r.applied, true, JSON.stringify(repaired));
    assert.equal(r.acknowledged, true);
    const audit = rowsAsText(
      await sql(
        db.url,
        "SELECT `partition`, before_offset, after_offset, after_watermark_ms, role FROM offset_reset_audit WHERE group_id = ? AND mode = 'WATERMARK' ORDER BY `partition`",
        [group],
      ),
    );
    assert.equal(audit.length, 3);
    for (const a of audit) {
      assert.equal(a.before_offset, a.after_offset, 'the offsets stay');
      assert.equal(Number(a.after_watermark_ms), T0 + 4 * HOUR_MS);
      assert.equal(a.role, 'ops');
    }
    const flagged = await detections();
    const lateBefore = await lateRecords();
    await feed(hourFrom(T0 + 5 * HOUR_MS, 13), T0 + 6 * HOUR_MS + 120_000);
    assert.ok((await detections()) - flagged > 10, 'users flagged in the hour after the repair');
    assert.equal((await lateRecords()) - lateBefore, 0, 'no record of that hour is late');
    const offsets = await latestOffsets(topic);
    assert.equal(
      (await offsetRows(db.url, group)).reduce((n, o) => n + Number(o.next_offset), 0),
      sumOffsets(offsets),
    );
  });
});
