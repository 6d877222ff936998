// Exactly-once across crashes for recharge-metrics: SIGKILL at random moments
// while 50,000 recharge events are consumed, restarted several times, must end
// with exactly the aggregates of an uninterrupted run, to the cent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import {
  jobProgress,
  latestOffsets,
  offsetRows,
  rowsAsText,
  runToEnd,
  runWithRandomKills,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  type TestDatabase,
  type TestTopic,
} from '../helpers/job-runs.js';
import { produce, randomName, sql } from '../helpers/services.js';
import { RECHARGE_METRICS_SNAPSHOT } from '../../src/jobs/recharge-metrics/testing.js';

const RECORDS = 50_000;
/** 20 records per second of event time from 23:30 local: the stream crosses midnight in Asia/Shanghai. */
const GENERATOR = {
  seed: 4343,
  count: RECORDS,
  startTimeMs: Date.UTC(2025, 11, 31, 15, 30),
  eventsPerSecond: 20,
  duplicateShare: 0.03,
};

describe('recharge-metrics exactly once across crashes', () => {
  let topic: TestTopic;
  let latest = new Map<number, number>();
  const runs = new TestRuns();
  let reference: Awaited<ReturnType<typeof snapshot>>;
  let expected: { orders: number; duplicates: number; malformed: number };

  const start = (db: TestDatabase, group: string) =>
    runs.start({
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      // Fixed notify times in the past: a 10-year horizon keeps them countable.
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
      ROLES: 'worker',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
    });

  const freshDb = () => runs.freshDb();
  const progress = (db: TestDatabase) => () => jobProgress(db.url, latest, { windowed: false });

  /** Both aggregate tables (each key's rows summed), the seen orders and the offsets, as text (DECIMAL exact). */
  async function snapshot(db: TestDatabase) {
    return {
      daily: rowsAsText(await sql(db.url, RECHARGE_METRICS_SNAPSHOT.daily)),
      minutes: rowsAsText(await sql(db.url, RECHARGE_METRICS_SNAPSHOT.minutes)),
      orders: rowsAsText(
        await sql(db.url, 'SELECT COUNT(*) AS n, SUM(CRC32(order_id)) AS checksum FROM recharge_order'),
      ),
      offsets: await offsetRows(db.url),
    };
  }

  before(async () => {
    topic = await runs.createTopic('recharge');
    const generated = [...generateRecharges(GENERATOR)];
    const orders = new Set(generated.filter((r) => r.kind === 'order').map((r) => r.key));
    expected = {
      orders: orders.size,
      duplicates: generated.filter((r) => r.kind === 'duplicate').length,
      malformed: generated.filter((r) => r.kind === 'malformed').length,
    };
    // Round-robin partitions (not by key): duplicates of one order land on other
    // partitions too, whose transactions race to insert the same order id.
    await produce(
      topic.topic,
      generated.map((r, i) => ({ key: r.key, value: r.value, partition: i % 3 })),
    );
    latest = await latestOffsets(topic.topic);
    assert.equal(sumOffsets(latest), RECORDS);

    const db = await freshDb();
    await runToEnd(
      'the uninterrupted run to finish',
      () => start(db, randomName('recharge-ref')),
      progress(db),
      240_000,
    );
    reference = await snapshot(db);
  });

  after(() => runs.cleanup());

  it('should count each order once in the uninterrupted run, across midnight (the comparison is not vacuous)', () => {
    assert.equal(Number(reference.orders[0].n), expected.orders);
    assert.ok(expected.duplicates > 1_000, `${expected.duplicates} duplicates`);
    const days = new Set(reference.daily.map((r) => r.day));
    assert.deepEqual([...days], ['2025-12-31', '2026-01-01']);
    const sum = (rows: Record<string, unknown>[], k: string) => rows.reduce((n, r) => n + Number(r[k]), 0);
    assert.equal(sum(reference.daily, 'orders'), expected.orders);
    assert.equal(sum(reference.minutes, 'orders'), expected.orders);
    assert.equal(sum(reference.offsets, 'dead_lettered'), expected.malformed);
  });

  it('should end with the same rows, to the cent, after SIGKILL at random moments, restarted several times', async () => {
    const db = await freshDb();
    const group = randomName('recharge-crash');
    const kills = await runWithRandomKills({
      records: RECORDS,
      start: () => start(db, group),
      progress: progress(db),
      finishTimeoutMs: 240_000,
    });
    const result = await snapshot(db);
    assert.ok(
      kills.some((k) => k < RECORDS),
      `every kill came after the end: ${kills.join(', ')}`,
    );
    assert.deepEqual(result.daily, reference.daily);
    assert.deepEqual(result.minutes, reference.minutes);
    assert.deepEqual(result.orders, reference.orders);
    assert.deepEqual(result.offsets, reference.offsets);
  });
});
