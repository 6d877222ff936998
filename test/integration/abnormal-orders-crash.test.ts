// Exactly-once across crashes: SIGKILL at random moments while 50,000 records
// are consumed, and a second worker taking over a killed one, must end with
// exactly the rows and offsets of an uninterrupted run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import {
  withPartitions,
  jobProgress,
  latestOffsets,
  offsetRows,
  runToEnd,
  runWithFailover,
  runWithRandomKills,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  type TestDatabase,
  type TestTopic,
} from '../helpers/job-runs.js';
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import { produce, randomName, sql } from '../helpers/services.js';

const RECORDS = 50_000;
const GENERATOR = { seed: 4242, users: 3000, startTimeMs: Date.UTC(2026, 0, 1), eventsPerSecond: 250, count: RECORDS };

describe('abnormal-orders exactly once across crashes', () => {
  let topic: TestTopic;
  let latest = new Map<number, number>();
  const runs = new TestRuns();
  let reference: Awaited<ReturnType<typeof snapshot>>;

  let feed: { key: string | null; value: string; partition: number }[] = [];

  const start = (db: TestDatabase, group: string, onTopic = topic.topic) =>
    runs.start({
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: onTopic,
      ABNORMAL_ORDERS_GROUP: group,
      JOBS: 'abnormal-orders',
      ROLES: 'worker',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
      // Windows close through event time (the flush records), never wall-clock idleness.
      IDLE_TIMEOUT_MS: '3600000',
    });

  const freshDb = () => runs.freshDb(sampleVipUids(GENERATOR));
  const progress = (db: TestDatabase) => () => jobProgress(db.url, latest, { windowed: true });

  async function snapshot(db: TestDatabase) {
    return {
      rows: await sql(
        db.url,
        'SELECT uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end FROM unpayment_record ORDER BY uid',
      ),
      offsets: await offsetRows(db.url),
    };
  }

  before(async () => {
    topic = await runs.createTopic();
    const records = [...generateUserBehavior(GENERATOR)].map((r) => ({ key: r.key, value: r.value }));
    // One far-future record per partition closes every window through event time.
    const end = Math.floor((GENERATOR.startTimeMs + 86_400_000) / 1000);
    feed = [...withPartitions(records), ...flushRecords(end)];
    await produce(topic.topic, feed);
    latest = await latestOffsets(topic.topic);
    assert.equal(sumOffsets(latest), RECORDS + 3);

    const db = await freshDb();
    await runToEnd(
      'the uninterrupted run to finish',
      () => start(db, randomName('abnormal-ref')),
      progress(db),
      180_000,
    );
    reference = await snapshot(db);
  });

  after(() => runs.cleanup());

  it('should detect users in the uninterrupted run (the comparison is not vacuous)', () => {
    assert.ok(reference.rows.length > 20, `only ${reference.rows.length} rows`);
    assert.ok(
      (reference.offsets as { dead_lettered: string }[]).some((o) => Number(o.dead_lettered) > 0),
      'no dead letters in the reference run',
    );
  });

  it('should end with the same rows and offsets after SIGKILL at random moments, restarted several times', async () => {
    const db = await freshDb();
    const group = randomName('abnormal-crash');
    const kills = await runWithRandomKills({
      records: RECORDS,
      start: () => start(db, group),
      progress: progress(db),
      finishTimeoutMs: 180_000,
    });
    const result = await snapshot(db);
    assert.ok(
      kills.some((k) => k < RECORDS),
      `every kill came after the end: ${kills.join(', ')}`,
    );
    assert.deepEqual(result.rows, reference.rows);
    assert.deepEqual(result.offsets, reference.offsets);
  });

  it('should give the same result when a second worker in the group takes over from a killed one', async () => {
    const db = await freshDb();
    const group = randomName('abnormal-failover');
    // The same records at the same partitions and offsets, written once both workers are up.
    const fresh = await runs.createTopic();
    const second = await runWithFailover({
      records: RECORDS,
      start: () => start(db, group, fresh.topic),
      progress: progress(db),
      finishTimeoutMs: 180_000,
      killAtShare: 0.3,
      feed: () => produce(fresh.topic, feed),
    });
    const owned = second.logs
      .filter((l) => l.msg === 'partitions assigned')
      .map((l) => (l.partitions as number[]).length);
    await second.kill('SIGTERM');
    assert.ok(owned.includes(3), `the survivor never owned all 3 partitions: ${JSON.stringify(owned)}`);
    const result = await snapshot(db);
    assert.deepEqual(result.rows, reference.rows);
    assert.deepEqual(result.offsets, reference.offsets);
  });
});
