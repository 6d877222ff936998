// Exactly-once across crashes: SIGKILL at random moments while 50,000 records
// are consumed, and a second worker taking over a killed one, must end with
// exactly the rows and offsets of an uninterrupted run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatUserBehavior } from '../../src/ingest/formats/user-behavior.js';
import { generateUserBehavior, sampleVipUids } from '../../src/sample/user-behavior-generator.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { connectAdmin, createTestDatabase, createTestTopic, produce, randomName, sql, waitFor } from '../helpers/services.js';

const RECORDS = 50_000;
const GENERATOR = { seed: 4242, users: 3000, startTimeMs: Date.UTC(2026, 0, 1), eventsPerSecond: 250, count: RECORDS };

type Db = Awaited<ReturnType<typeof createTestDatabase>>;

describe('abnormal-orders exactly once across crashes', () => {
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let latest = new Map<number, number>();
  const dbs: Db[] = [];
  const processes: ServiceProcess[] = [];
  let reference: { rows: unknown[]; offsets: unknown[] };

  const envFor = (db: Db, group: string) => ({
    DATABASE_URL: db.url,
    USER_BEHAVIOR_TOPIC: topic.topic,
    ABNORMAL_ORDERS_GROUP: group,
    JOBS: 'abnormal-orders',
    ROLES: 'worker',
    // Small batches: many transactions, so kills land between and inside them.
    KAFKA_MAX_BYTES_PER_PARTITION: '16384',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    // Windows close through event time (the flush records), never wall-clock idleness.
    IDLE_TIMEOUT_MS: '3600000',
  });

  async function freshDb(): Promise<Db> {
    const db = await createTestDatabase();
    dbs.push(db);
    const vips = sampleVipUids(GENERATOR);
    await sql(db.url, `INSERT INTO vip_user (uid) VALUES ${vips.map(() => '(?)').join(',')}`, vips);
    return db;
  }

  async function start(db: Db, group: string): Promise<ServiceProcess> {
    const p = await startServiceProcess(envFor(db, group));
    processes.push(p);
    return p;
  }

  async function progress(db: Db): Promise<{ consumed: number; done: boolean }> {
    const rows = await sql<{ partition: number; next_offset: bigint; replay_from: bigint }>(db.url, 'SELECT `partition`, next_offset, replay_from FROM consumer_offset');
    let consumed = 0;
    let done = rows.length === latest.size;
    for (const r of rows) {
      consumed += Math.max(0, Number(r.next_offset));
      if (Number(r.next_offset) !== latest.get(r.partition) || Number(r.replay_from) !== Number(r.next_offset)) done = false;
    }
    return { consumed, done };
  }

  async function snapshot(db: Db) {
    return {
      rows: await sql(db.url, 'SELECT uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end FROM unpayment_record ORDER BY uid'),
      offsets: (await sql(db.url, 'SELECT `partition`, next_offset, replay_from, watermark_ms, late_records, dead_lettered, lost_to_retention FROM consumer_offset ORDER BY `partition`'))
        .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)]))),
    };
  }

  before(async () => {
    topic = await createTestTopic();
    const records = [...generateUserBehavior(GENERATOR)].map((r) => ({ key: r.key, value: r.value }));
    // One far-future record per partition closes every window through event time.
    const end = Math.floor((GENERATOR.startTimeMs + 86_400_000) / 1000);
    const flush = [0, 1, 2].map((partition) => ({ key: 'flush', partition, value: formatUserBehavior({ uid: 'flush', phone: '0', eventKey: 'startApp', eventTimeSec: end }) }));
    await produce(topic.topic, [...records, ...flush]);
    const admin = await connectAdmin();
    latest = new Map((await admin.fetchTopicOffsets(topic.topic)).map((o) => [o.partition, Number(o.high)]));
    await admin.disconnect();
    assert.equal([...latest.values()].reduce((a, b) => a + b, 0), RECORDS + 3);

    const db = await freshDb();
    const p = await start(db, randomName('abnormal-ref'));
    await waitFor('the uninterrupted run to finish', async () => (await progress(db)).done, 180_000, 250);
    await p.kill('SIGTERM');
    reference = await snapshot(db);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await Promise.all(dbs.map((d) => d.drop()));
    await topic?.delete();
  });

  it('should detect users in the uninterrupted run (the comparison is not vacuous)', () => {
    assert.ok(reference.rows.length > 20, `only ${reference.rows.length} rows`);
    assert.ok((reference.offsets as Array<{ dead_lettered: string }>).some((o) => Number(o.dead_lettered) > 0), 'no dead letters in the reference run');
  });

  it('should end with the same rows and offsets after SIGKILL at random moments, restarted several times', async () => {
    const db = await freshDb();
    const group = randomName('abnormal-crash');
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
    await waitFor('the crashed run to finish', async () => (await progress(db)).done, 180_000, 250);
    await last.kill('SIGTERM');
    const result = await snapshot(db);
    assert.ok(kills.some((k) => k < RECORDS), `every kill came after the end: ${kills.join(', ')}`);
    assert.deepEqual(result.rows, reference.rows);
    assert.deepEqual(result.offsets, reference.offsets);
  });

  it('should give the same result when a second worker in the group takes over from a killed one', async () => {
    const db = await freshDb();
    const group = randomName('abnormal-failover');
    const first = await start(db, group);
    const second = await start(db, group);
    await waitFor('progress past 30%', async () => (await progress(db)).consumed >= 0.3 * RECORDS, 120_000, 20);
    await first.kill('SIGKILL');
    await waitFor('the surviving worker to finish', async () => (await progress(db)).done, 180_000, 250);
    const owned = second.logs.filter((l) => l.msg === 'partitions assigned').map((l) => (l.partitions as number[]).length);
    await second.kill('SIGTERM');
    assert.ok(owned.includes(3), `the survivor never owned all 3 partitions: ${JSON.stringify(owned)}`);
    const result = await snapshot(db);
    assert.deepEqual(result.rows, reference.rows);
    assert.deepEqual(result.offsets, reference.offsets);
  });
});
