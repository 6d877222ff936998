// Daily active users on a hand-built stream through the real Kafka and MariaDB,
// read back through GraphQL: duplicates, two days around midnight Asia/Shanghai,
// new users (a late event moves a user's first day back), and a replay of the
// whole topic (offset row rewound to 0 while the service is stopped) that
// changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAILY_ACTIVE_USERS_SNAPSHOT } from '../../src/jobs/daily-active-users/testing.js';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { errorCode, gql } from '../helpers/graphql-client.js';
import { jobProgress, latestOffsets } from '../helpers/job-runs.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import {
  createTestDatabase,
  createTestTopic,
  produce,
  randomName,
  readTopic,
  sql,
  waitFor,
} from '../helpers/services.js';

// Midnight 2026-01-02 in Asia/Shanghai (UTC+8) is 2026-01-01T16:00:00Z.
const MIDNIGHT = Date.UTC(2026, 0, 1, 16);
const line = (uid: string, atMs: number, eventKey = 'viewProduct') =>
  formatUserBehavior({ uid, phone: '18700000000', eventKey, eventTimeSec: Math.floor(atMs / 1000) });

/** In offset order per partition; the order matters only for u4 (its day-1 event comes last). */
const STREAM: [uid: string, atMs: number, partition: number][] = [
  // u1: four events on 2026-01-01, on two partitions, one line sent twice (a producer duplicate).
  ['u1', MIDNIGHT - 10 * 3_600_000, 0],
  ['u1', MIDNIGHT - 10 * 3_600_000, 0],
  ['u1', MIDNIGHT - 5_000, 0],
  ['u1', MIDNIGHT - 7_200_000, 1],
  // u2: the last second of 2026-01-01 and the first of 2026-01-02 (local).
  ['u2', MIDNIGHT - 1_000, 1],
  ['u2', MIDNIGHT, 1],
  // u3: only 2026-01-02.
  ['u3', MIDNIGHT + 3_600_000, 2],
  ['u3', MIDNIGHT + 3_601_000, 2],
  // u4: seen on 2026-01-02 first, then a late event of 2026-01-01: its first day is 2026-01-01.
  ['u4', MIDNIGHT + 60_000, 2],
  ['u4', MIDNIGHT - 60_000, 0],
];

const EXPECTED = [
  { date: '2025-12-31', activeUsers: 0, newUsers: 0 },
  { date: '2026-01-01', activeUsers: 3, newUsers: 3 }, // u1, u2, u4
  { date: '2026-01-02', activeUsers: 3, newUsers: 1 }, // u2, u3, u4; new: u3
  { date: '2026-01-03', activeUsers: 0, newUsers: 0 },
];
const QUERY =
  'query($from: Date!, $to: Date!) { dailyActiveUsers(from: $from, to: $to) { date activeUsers newUsers } }';

describe('daily-active-users on a hand-built stream', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let service: ServiceProcess | null = null;
  let group: string;
  let env: Record<string, string>;

  async function caughtUp(): Promise<void> {
    const latest = await latestOffsets(topic.topic);
    await waitFor(
      'the job to commit every record',
      async () => (await jobProgress(db.url, latest, { windowed: false, group })).done,
      60_000,
    );
  }

  async function snapshot() {
    return {
      active: await sql(
        db.url,
        "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, uid FROM user_daily_active ORDER BY day, uid",
      ),
      counts: await sql(db.url, DAILY_ACTIVE_USERS_SNAPSHOT.counts),
      firstSeen: await sql(
        db.url,
        "SELECT uid, DATE_FORMAT(first_day, '%Y-%m-%d') AS first_day FROM user_first_seen ORDER BY uid",
      ),
    };
  }

  before(async () => {
    db = await createTestDatabase();
    topic = await createTestTopic('user-behavior', 3);
    group = randomName('dau');
    env = {
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: topic.topic,
      DAU_GROUP: group,
      JOBS: 'daily-active-users',
      TIME_ZONE: 'Asia/Shanghai',
    };
    service = await startServiceProcess(env);
    await produce(topic.topic, [
      ...STREAM.map(([uid, at, partition]) => ({ key: uid, partition, value: line(uid, at) })),
      { key: 'bad', partition: 1, value: 'not\ta\tbehaviour line' },
    ]);
    await caughtUp();
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    await service?.kill();
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should count each user once per local day, split at midnight Asia/Shanghai, with the new users of each day', async () => {
    const res = await gql(service!.url, QUERY, { from: '2025-12-31', to: '2026-01-03' }, TEST_KEYS.viewer);
    assert.deepEqual(res.data?.dailyActiveUsers, EXPECTED);
    assert.deepEqual((await snapshot()).firstSeen, [
      { uid: 'u1', first_day: '2026-01-01' },
      { uid: 'u2', first_day: '2026-01-01' },
      { uid: 'u3', first_day: '2026-01-02' },
      { uid: 'u4', first_day: '2026-01-01' },
    ]);
  });

  it('should dead-letter the malformed line with its reason', async () => {
    const dead = await readTopic(topic.dlq, 1);
    assert.deepEqual(
      dead.map((d) => [d.headers['dlq.reason'], d.headers['dlq.job']]),
      [['field-count', 'daily-active-users']],
    );
  });

  it('should change nothing when the whole topic is replayed (offset rows rewound to 0 while stopped)', async () => {
    const before = await snapshot();
    assert.equal(await service!.kill('SIGTERM'), 0);
    service = null;
    await sql(db.url, 'UPDATE consumer_offset SET next_offset = 0, replay_from = 0 WHERE group_id = ?', [group]);
    service = await startServiceProcess(env);
    await caughtUp();
    // The malformed line was read (and dead-lettered) again: the replay really happened.
    await waitFor(
      'the replay of the malformed line',
      async () => {
        const [row] = await sql<{ dead: bigint }>(
          db.url,
          'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?',
          [group],
        );
        return Number(row.dead) === 2;
      },
      20_000,
    );
    assert.deepEqual(await snapshot(), before);
    const res = await gql(service.url, QUERY, { from: '2025-12-31', to: '2026-01-03' }, TEST_KEYS.viewer);
    assert.deepEqual(res.data?.dailyActiveUsers, EXPECTED);
  });

  it('should add a returning user to a new day without making them new again', async () => {
    await produce(topic.topic, [{ key: 'u1', partition: 0, value: line('u1', MIDNIGHT + 86_400_000 + 1_000) }]);
    await caughtUp();
    const res = await gql(service!.url, QUERY, { from: '2026-01-03', to: '2026-01-03' }, TEST_KEYS.viewer);
    assert.deepEqual(res.data?.dailyActiveUsers, [{ date: '2026-01-03', activeUsers: 1, newUsers: 0 }]);
  });

  it('should refuse a reversed range, more than 366 days and a date that does not exist; allow exactly 366', async () => {
    const code = async (from: string, to: string) =>
      errorCode(await gql(service!.url, QUERY, { from, to }, TEST_KEYS.viewer));
    assert.equal(await code('2026-01-02', '2026-01-01'), 'BAD_USER_INPUT');
    assert.equal(await code('2026-01-01', '2027-01-02'), 'BAD_USER_INPUT');
    assert.equal(await code('2026-02-30', '2026-03-01'), 'BAD_USER_INPUT');
    const year = await gql(service!.url, QUERY, { from: '2028-01-01', to: '2028-12-31' }, TEST_KEYS.viewer);
    assert.equal(year.data?.dailyActiveUsers.length, 366);
    assert.equal(
      errorCode(await gql(service!.url, QUERY, { from: '2026-01-01', to: '2026-01-01' })),
      'UNAUTHENTICATED',
    );
  });
});
