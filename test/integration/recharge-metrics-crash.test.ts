// Exactly-once across crashes for recharge-metrics: SIGKILL at random moments
// while 50,000 recharge events are consumed, restarted several times, must end
// with exactly the aggregates of an uninterrupted run, to the cent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateRecharges } from '../../src/sample/recharge-generator.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { connectAdmin, createTestDatabase, createTestTopic, produce, randomName, sql, waitFor } from '../helpers/services.js';

const RECORDS = 50_000;
/** 20 records per second of event time from 23:30 local: the stream crosses midnight in Asia/Shanghai. */
const GENERATOR = { seed: 4343, count: RECORDS, startTimeMs: Date.UTC(2025, 11, 31, 15, 30), eventsPerSecond: 20, duplicateShare: 0.03 };

type Db = Awaited<ReturnType<typeof createTestDatabase>>;

describe('recharge-metrics exactly once across crashes', () => {
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let latest = new Map<number, number>();
  const dbs: Db[] = [];
  const processes: ServiceProcess[] = [];
  let reference: Awaited<ReturnType<typeof snapshot>>;
  let expected: { orders: number; duplicates: number; malformed: number };

  const envFor = (db: Db, group: string) => ({
    DATABASE_URL: db.url,
    RECHARGE_TOPIC: topic.topic,
    RECHARGE_GROUP: group,
    JOBS: 'recharge-metrics',
    ROLES: 'worker',
    // Small batches: many transactions, so kills land between and inside them.
    KAFKA_MAX_BYTES_PER_PARTITION: '16384',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
  });

  async function freshDb(): Promise<Db> {
    const db = await createTestDatabase();
    dbs.push(db);
    return db;
  }

  async function start(db: Db, group: string): Promise<ServiceProcess> {
    const p = await startServiceProcess(envFor(db, group));
    processes.push(p);
    return p;
  }

  async function progress(db: Db): Promise<{ consumed: number; done: boolean }> {
    const rows = await sql<{ partition: number; next_offset: bigint }>(db.url, 'SELECT `partition`, next_offset FROM consumer_offset');
    let consumed = 0;
    let done = rows.length === latest.size;
    for (const r of rows) {
      consumed += Math.max(0, Number(r.next_offset));
      if (Number(r.next_offset) !== latest.get(r.partition)) done = false;
    }
    return { consumed, done };
  }

  /** Every row of both aggregate tables, the seen orders and the offsets, as text (DECIMAL exact). */
  async function snapshot(db: Db) {
    const text = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : v instanceof Date ? v.toISOString() : String(v)])));
    return {
      daily: text(await sql(db.url, "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, city_code, orders, succeeded, failed, CAST(amount AS CHAR) AS amount, duration_ms_sum FROM recharge_city_daily ORDER BY day, city_code")),
      minutes: text(await sql(db.url, 'SELECT minute_start, orders, succeeded, CAST(amount AS CHAR) AS amount FROM recharge_minute ORDER BY minute_start')),
      orders: text(await sql(db.url, 'SELECT COUNT(*) AS n, SUM(CRC32(order_id)) AS checksum FROM recharge_order')),
      offsets: text(await sql(db.url, 'SELECT `partition`, next_offset, replay_from, watermark_ms, late_records, dead_lettered, lost_to_retention FROM consumer_offset ORDER BY `partition`')),
    };
  }

  before(async () => {
    topic = await createTestTopic('recharge');
    const generated = [...generateRecharges(GENERATOR)];
    const orders = new Set(generated.filter((r) => r.kind === 'order').map((r) => r.key));
    expected = {
      orders: orders.size,
      duplicates: generated.filter((r) => r.kind === 'duplicate').length,
      malformed: generated.filter((r) => r.kind === 'malformed').length,
    };
    // Round-robin partitions (not by key): duplicates of one order land on other
    // partitions too, whose transactions race to insert the same order id.
    await produce(topic.topic, generated.map((r, i) => ({ key: r.key, value: r.value, partition: i % 3 })));
    const admin = await connectAdmin();
    latest = new Map((await admin.fetchTopicOffsets(topic.topic)).map((o) => [o.partition, Number(o.high)]));
    await admin.disconnect();
    assert.equal([...latest.values()].reduce((a, b) => a + b, 0), RECORDS);

    const db = await freshDb();
    const p = await start(db, randomName('recharge-ref'));
    await waitFor('the uninterrupted run to finish', async () => (await progress(db)).done, 240_000, 250);
    await p.kill('SIGTERM');
    reference = await snapshot(db);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await Promise.all(dbs.map((d) => d.drop()));
    await topic?.delete();
  });

  it('should count each order once in the uninterrupted run, across midnight (the comparison is not vacuous)', () => {
    assert.equal(Number(reference.orders[0]!.n), expected.orders);
    assert.ok(expected.duplicates > 1_000, `${expected.duplicates} duplicates`);
    const days = new Set(reference.daily.map((r) => r.day));
    assert.deepEqual([...days], ['2025-12-31', '2026-01-01']);
    const sum = (rows: Array<Record<string, unknown>>, k: string) => rows.reduce((n, r) => n + Number(r[k]), 0);
    assert.equal(sum(reference.daily, 'orders'), expected.orders);
    assert.equal(sum(reference.minutes, 'orders'), expected.orders);
    assert.equal(sum(reference.offsets, 'dead_lettered'), expected.malformed);
  });

  it('should end with the same rows, to the cent, after SIGKILL at random moments, restarted several times', async () => {
    const db = await freshDb();
    const group = randomName('recharge-crash');
    const targets = [0.05, 0.2, 0.4, 0.6, 0.8].map((f) => Math.floor((f + Math.random() * 0.15) * RECORDS));
    const kills: number[] = [];
    for (const target of targets) {
      const p = await start(db, group);
      // Kill once the committed progress passed the target, plus a random delay up to 300 ms
      // so that some kills land inside a batch or a transaction rather than between them.
      await waitFor(`progress past ${target}`, async () => (await progress(db)).consumed >= target, 120_000, 20);
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      await p.kill('SIGKILL');
      kills.push((await progress(db)).consumed);
    }
    const last = await start(db, group);
    await waitFor('the crashed run to finish', async () => (await progress(db)).done, 240_000, 250);
    await last.kill('SIGTERM');
    const result = await snapshot(db);
    assert.ok(kills.some((k) => k < RECORDS), `every kill came after the end: ${kills.join(', ')}`);
    assert.deepEqual(result.daily, reference.daily);
    assert.deepEqual(result.minutes, reference.minutes);
    assert.deepEqual(result.orders, reference.orders);
    assert.deepEqual(result.offsets, reference.offsets);
  });
});
