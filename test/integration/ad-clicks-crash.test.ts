// Exactly-once across crashes for the additive ad-clicks job: SIGKILL at
// random moments while 20,000 clicks (10% from robots, some blacklisted) are
// consumed, restarted several times, must end with exactly the (ad, minute)
// counts, blocked counts and offsets of an uninterrupted run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateAdClicks, SAMPLE_ROBOT_IP, SAMPLE_ROBOT_USERS } from '../../src/jobs/ad-clicks/ad-click-generator.js';
import { AD_CLICKS_SNAPSHOT } from '../../src/jobs/ad-clicks/testing.js';
import {
  withPartitions,
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

const RECORDS = 20_000;
const GENERATOR = {
  seed: 4242,
  ads: 300,
  users: 3_000,
  startTimeMs: Date.UTC(2026, 0, 1),
  eventsPerSecond: 100,
  count: RECORDS,
  malformedShare: 0.002,
};

describe('ad-clicks exactly once across crashes', () => {
  let topic: TestTopic;
  let latest = new Map<number, number>();
  const runs = new TestRuns();
  let reference: Awaited<ReturnType<typeof snapshot>>;

  const start = (db: TestDatabase, group: string) =>
    runs.start({
      DATABASE_URL: db.url,
      AD_CLICKS_TOPIC: topic.topic,
      AD_CLICKS_GROUP: group,
      JOBS: 'ad-clicks',
      ROLES: 'worker',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
    });

  /** A fresh database with two robot users and the robot IP on the blacklist (the third robot counts). */
  async function freshDb(): Promise<TestDatabase> {
    const db = await runs.freshDb();
    await sql(
      db.url,
      "INSERT INTO ad_blacklist (kind, value, role, key_id) VALUES ('user', ?, 'ops', 'test'), ('user', ?, 'ops', 'test'), ('ip', ?, 'ops', 'test')",
      [SAMPLE_ROBOT_USERS[0], SAMPLE_ROBOT_USERS[1], SAMPLE_ROBOT_IP],
    );
    return db;
  }
  const progress = (db: TestDatabase) => () => jobProgress(db.url, latest, { windowed: false });

  async function snapshot(db: TestDatabase) {
    return { minutes: rowsAsText(await sql(db.url, AD_CLICKS_SNAPSHOT.minutes)), offsets: await offsetRows(db.url) };
  }

  before(async () => {
    topic = await runs.createTopic('ad-clicks', 3);
    const feed = withPartitions([...generateAdClicks(GENERATOR)].map((r) => ({ key: r.key, value: r.value })));
    await produce(topic.topic, feed);
    latest = await latestOffsets(topic.topic);
    assert.equal(sumOffsets(latest), RECORDS);
    const db = await freshDb();
    await runToEnd('the uninterrupted run to finish', () => start(db, randomName('ads-ref')), progress(db), 180_000);
    reference = await snapshot(db);
  });

  after(() => runs.cleanup());

  it('should count, block by user and by IP, and dead-letter in the uninterrupted run (the comparison is not vacuous)', () => {
    const sum = (column: string) => reference.minutes.reduce((s, m) => s + Number(m[column]), 0);
    const clicks = sum('clicks');
    const byUser = sum('blocked_user');
    const byIp = sum('blocked_ip');
    assert.ok(clicks > 0.85 * RECORDS, `only ${clicks} clicks counted`);
    assert.ok(byUser > 0.03 * RECORDS && byIp > 0.01 * RECORDS, `${byUser} blocked by user, ${byIp} by IP`);
    assert.ok(reference.minutes.length > 1_000, `${reference.minutes.length} minute rows`);
    assert.ok(
      reference.offsets.some((o) => Number(o.dead_lettered) > 0),
      'no dead letters in the reference run',
    );
  });

  it('should end with the same counts and offsets after SIGKILL at random moments, restarted several times', async () => {
    const db = await freshDb();
    const group = randomName('ads-crash');
    const kills = await runWithRandomKills({
      records: RECORDS,
      start: () => start(db, group),
      progress: progress(db),
      finishTimeoutMs: 180_000,
    });
    assert.ok(
      kills.some((k) => k < RECORDS),
      `every kill came after the end: ${kills.join(', ')}`,
    );
    const result = await snapshot(db);
    assert.deepEqual(result.offsets, reference.offsets);
    assert.deepEqual(result.minutes, reference.minutes);
  });
});
