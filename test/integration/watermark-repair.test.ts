// The repair of a watermark a wrong clock moved too far (stored before records
// too far ahead were refused, or by records whose Kafka timestamps were wrong
// too): a partition whose stored watermark is a year ahead makes every real
// record late, and abnormal-orders flags no one. The operator's
// repairWatermark (role ops, dry run first, audited) sets it back without
// touching the offsets or the results, to a given time or to the latest real
// event time of the stored open windows, and the job flags users from the
// next window on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { ENTER_ORDER_PAGE } from '../../src/jobs/abnormal-orders/abnormal-orders-job.js';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { errorCode, gql, type GraphQLResponse } from '../helpers/graphql-client.js';
import {
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
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import { TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, sql, waitFor } from '../helpers/services.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR_MS = 3_600_000;
const YEAR_MS = 365 * 86_400_000;
/** GRACE_MS of the service (its default), milliseconds: the watermark is the largest event time minus this. */
const GRACE_MS = 5_000;
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

const REPAIRED_FROM_OPEN_WINDOWS = `mutation ($dryRun: Boolean) {
  repairWatermark(job: "abnormal-orders", target: OPEN_WINDOWS, dryRun: $dryRun) {
    job target wallClock dryRun applied acknowledged partitions { partition before after }
    report { partition outcome before target after replayFromBefore replayFromAfter
      read { kind fromOffset toOffset records latestEventTime afterWallClock withoutEventTime } } } }`;

interface ReportEntry {
  partition: number;
  outcome: string;
  before: string | null;
  target: string | null;
  after: string | null;
  replayFromBefore: string | number;
  replayFromAfter: string | number;
  read: {
    kind: string;
    fromOffset: string | number;
    toOffset: string | number;
    records: number;
    latestEventTime: string | null;
    afterWallClock: number;
    withoutEventTime: number;
  } | null;
}

describe('repairing a watermark a year ahead to the latest real event time of the open windows', () => {
  const runs = new TestRuns();
  let db: TestDatabase;
  let worker: ServiceProcess;
  let topic: string;
  const group = randomName('abnormal-repair-open');
  const detections = async () => Number((await sql(db.url, 'SELECT COUNT(*) AS n FROM unpayment_record'))[0].n);
  const lateRecords = async () => (await offsetRows(db.url, group)).reduce((n, r) => n + Number(r.late_records), 0);
  const auditRows = async () =>
    rowsAsText(
      await sql(
        db.url,
        "SELECT `partition`, before_offset, after_offset, before_watermark_ms, after_watermark_ms, before_replay_from, after_replay_from, role FROM offset_reset_audit WHERE group_id = ? AND mode = 'WATERMARK' ORDER BY `partition`",
        [group],
      ),
    );
  /** The offset each partition's wrong-clock record got. */
  let wrongClockOffsets = new Map<number, number>();
  /** The stored rows while the watermark is a year ahead. */
  let blindRows: Record<string, string | null>[] = [];
  let flaggedWhileBlind = 0;
  let lateWhileBlind = 0;
  let refusedWithTo: GraphQLResponse;
  let refusedWithoutTo: GraphQLResponse;
  let dry: GraphQLResponse;
  let rowsAfterDryRun: Record<string, string | null>[] = [];
  let auditAfterDryRun: Record<string, string | null>[] = [];
  let repaired: GraphQLResponse;
  // The newest real record of every partition is the flush after the second hour: its time is the latest
  // event time at or before the wall clock among the records of the open windows.
  const secondFlushMs = Math.floor((T0 + 3 * HOUR_MS + 120_000) / 1000) * 1000;
  const expectedWatermarkMs = secondFlushMs - GRACE_MS;

  const start = () =>
    runs.start({
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: topic,
      ABNORMAL_ORDERS_GROUP: group,
      JOBS: 'abnormal-orders',
      IDLE_TIMEOUT_MS: '3600000',
      GRACE_MS: String(GRACE_MS),
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
    });
  const feed = async (records: { key: string | null; value: string; partition: number }[], flushAtMs: number) => {
    await produce(topic, [...records, ...flushRecords(Math.floor(flushAtMs / 1000))]);
    const latest = await latestOffsets(topic);
    await waitForDone('the job to read the records', () => jobProgress(db.url, latest, { windowed: false }), 120_000);
  };

  before(async () => {
    topic = (await runs.createTopic('user-behavior')).topic;
    db = await runs.freshDb(sampleVipUids({ seed: 1, users: 400 }));
    worker = await start();
    await feed(hourFrom(T0, 21), T0 + HOUR_MS + 120_000);
    // A device a year ahead whose producer's clock is a year ahead as well: the event-time guard
    // cannot tell (the record is not ahead of its own Kafka timestamp), so the record moves every
    // partition's watermark a year on, and its windows stay open, holding replay_from at it.
    wrongClockOffsets = await latestOffsets(topic);
    const aheadMs = Date.now() + YEAR_MS;
    await produce(
      topic,
      [0, 1, 2].map((partition) => ({
        key: 'wrong-clock',
        partition,
        value: formatUserBehavior({
          uid: 'wrong-clock',
          phone: '13800000000',
          eventKey: ENTER_ORDER_PAGE,
          eventTimeSec: Math.floor(aheadMs / 1000),
        }),
        timestamp: String(aheadMs),
      })),
    );
    await waitFor('the wrong clock to reach every watermark', async () => {
      const rows = await offsetRows(db.url, group);
      return (
        rows.length === 3 &&
        rows.every(
          (r) =>
            Number(r.watermark_ms) > Date.now() &&
            Number(r.next_offset) === (wrongClockOffsets.get(Number(r.partition)) ?? -1) + 1,
        )
      );
    });
    const flaggedBefore = await detections();
    const lateBefore = await lateRecords();
    await feed(hourFrom(T0 + 2 * HOUR_MS, 22), T0 + 3 * HOUR_MS + 120_000);
    flaggedWhileBlind = (await detections()) - flaggedBefore;
    lateWhileBlind = (await lateRecords()) - lateBefore;
    blindRows = await offsetRows(db.url, group);

    refusedWithTo = await gql(
      worker.url,
      'mutation { repairWatermark(job: "abnormal-orders", target: OPEN_WINDOWS, to: "2026-01-01T04:00:00Z") { applied } }',
      {},
      TEST_KEYS.ops,
    );
    refusedWithoutTo = await gql(
      worker.url,
      'mutation { repairWatermark(job: "abnormal-orders", dryRun: true) { applied } }',
      {},
      TEST_KEYS.ops,
    );
    dry = await gql(worker.url, REPAIRED_FROM_OPEN_WINDOWS, { dryRun: true }, TEST_KEYS.ops);
    rowsAfterDryRun = await offsetRows(db.url, group);
    auditAfterDryRun = await auditRows();
    repaired = await gql(worker.url, REPAIRED_FROM_OPEN_WINDOWS, {}, TEST_KEYS.ops);
  });

  after(() => runs.cleanup());

  it('is blind with the wrong clock: every later record late, no one flagged, the open windows held at the wrong record', () => {
    assert.equal(flaggedWhileBlind, 0);
    assert.ok(lateWhileBlind > 1_000, `${lateWhileBlind} late records`);
    for (const r of blindRows) {
      assert.ok(Number(r.watermark_ms) > Date.now(), 'a watermark a year ahead');
      assert.equal(
        Number(r.replay_from),
        wrongClockOffsets.get(Number(r.partition)),
        'replay_from at the wrong record',
      );
    }
  });

  it('refuses to with OPEN_WINDOWS and no to with GIVEN_TIME as BAD_USER_INPUT', () => {
    assert.equal(errorCode(refusedWithTo), 'BAD_USER_INPUT', JSON.stringify(refusedWithTo));
    assert.equal(refusedWithTo.errors?.[0]?.extensions?.argument, 'to');
    assert.equal(errorCode(refusedWithoutTo), 'BAD_USER_INPUT', JSON.stringify(refusedWithoutTo));
  });

  it('shows in a dry run, per partition, the latest real event time as the target, before and after, and changes nothing', () => {
    const d = dry.data?.repairWatermark;
    assert.ok(d, JSON.stringify(dry));
    assert.equal(d.target, 'OPEN_WINDOWS');
    assert.equal(d.dryRun, true);
    assert.equal(d.applied, false);
    assert.deepEqual(
      d.partitions.map((p: { partition: number; after: string }) => [p.partition, Date.parse(p.after)]),
      [0, 1, 2].map((p) => [p, expectedWatermarkMs]),
    );
    const report = d.report as ReportEntry[];
    assert.deepEqual(
      report.map((e) => e.partition),
      [0, 1, 2],
    );
    for (const e of report) {
      const stored = blindRows[e.partition];
      const wrongAt = wrongClockOffsets.get(e.partition) ?? -1;
      assert.equal(e.outcome, 'SET_BACK');
      assert.equal(Date.parse(e.before ?? ''), Number(stored.watermark_ms));
      assert.equal(Date.parse(e.target ?? ''), expectedWatermarkMs);
      assert.equal(Date.parse(e.after ?? ''), expectedWatermarkMs);
      assert.equal(Number(e.replayFromBefore), wrongAt);
      assert.equal(Number(e.replayFromAfter), wrongAt + 1, 'past the wrong record');
      assert.ok(e.read);
      assert.equal(e.read.kind, 'OPEN_WINDOWS');
      assert.equal(Number(e.read.fromOffset), wrongAt);
      assert.equal(Number(e.read.toOffset), Number(stored.next_offset));
      assert.equal(e.read.records, Number(stored.next_offset) - wrongAt);
      assert.equal(Date.parse(e.read.latestEventTime ?? ''), secondFlushMs);
      assert.equal(e.read.afterWallClock, 1);
    }
    assert.deepEqual(rowsAfterDryRun, blindRows, 'the dry run changed no position');
    assert.deepEqual(auditAfterDryRun, [], 'and audited nothing');
  });

  it('sets each watermark back to the latest real event time minus the grace period, audited, and the job flags users again from the next window on', async () => {
    const r = repaired.data?.repairWatermark;
    assert.ok(r, JSON.stringify(repaired));
    assert.equal(r.applied, true);
    assert.equal(r.acknowledged, true);
    const audit = await auditRows();
    assert.equal(audit.length, 3);
    for (const a of audit) {
      const p = Number(a.partition);
      assert.equal(a.before_offset, a.after_offset, 'the offsets stay');
      assert.equal(Number(a.before_watermark_ms), Number(blindRows[p].watermark_ms));
      assert.equal(Number(a.after_watermark_ms), expectedWatermarkMs);
      assert.equal(Number(a.before_replay_from), wrongClockOffsets.get(p));
      assert.equal(Number(a.after_replay_from), (wrongClockOffsets.get(p) ?? -1) + 1);
      assert.equal(a.role, 'ops');
    }
    const flagged = await detections();
    const lateBefore = await lateRecords();
    await feed(hourFrom(T0 + 5 * HOUR_MS, 23), T0 + 6 * HOUR_MS + 120_000);
    assert.ok((await detections()) - flagged > 10, 'users flagged in the hour after the repair');
    assert.equal((await lateRecords()) - lateBefore, 0, 'no record of that hour is late');
    const thirdFlushMs = Math.floor((T0 + 6 * HOUR_MS + 120_000) / 1000) * 1000;
    for (const row of await offsetRows(db.url, group))
      assert.equal(
        Number(row.watermark_ms),
        thirdFlushMs - GRACE_MS,
        'the wrong record was not replayed into the watermark',
      );
  });
});
