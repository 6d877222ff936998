// A hand-built stream with known answers, through the real Kafka, MariaDB and
// Redis, read back through GraphQL; worker and API in separate processes so the
// subscription crosses Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { collect, errorCode, gql, wsClient } from '../helpers/graphql-client.js';
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

// Window starts are multiples of 30 s; T is one of them (2026-01-01T00:00:00Z).
const T = Date.UTC(2026, 0, 1);
const s = (seconds: number) => T + seconds * 1000;
const iso = (seconds: number) => new Date(s(seconds)).toISOString();

function line(uid: string, atSeconds: number, eventKey = 'enterOrderPage'): string {
  return formatUserBehavior({
    uid,
    phone: /^\d+$/.test(uid) ? `187${uid.padStart(8, '0')}` : '18700000000',
    eventKey,
    eventTimeSec: Math.floor(s(atSeconds) / 1000),
  });
}

/** All on partition 0, in this order: the order decides stream time and lateness. */
const STREAM: [uid: string, at: number, key?: string][] = [
  ['1002', 1],
  ['1002', 2], // 2 events: never detected
  ['1005', 1],
  ['1005', 2],
  ['1005', 3],
  ['1005', 4],
  ['1005', 5], // 5 events: detected in [-30,30) and [0,60)
  ['1003', 5],
  ['1003', 10],
  ['1003', 15], // 3: detected in [-30,30) and [0,60)
  ['1020', 6],
  ['1020', 7],
  ['1020', 8],
  ['1020', 9], // a VIP: never recorded
  ['1010', 25],
  ['1010', 28], // with 62 below: 3 within 37 s, but never 3 in one window
  ['1011', 35],
  ['1011', 50],
  ['1010', 62],
  ['1011', 80], // 35, 50, 80: 3 only in [30,90)
  ['1030', 100],
  ['1030', 110],
  ['1030', 95], // out of order, within grace (watermark 105): counts in [60,120) and [90,150)
  ['1040', 180],
  ['1040', 200],
  ['1040', 216],
  ['1040', 178], // late: watermark 211 >= 210, the end of its last window [150,210)
];

describe('abnormal-orders on a hand-built stream', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  let subscription: ReturnType<typeof collect>;
  let ws: ReturnType<typeof wsClient>;

  before(async () => {
    db = await createTestDatabase();
    topic = await createTestTopic();
    await sql(db.url, "INSERT INTO vip_user (uid) VALUES ('1020'), ('99999')");
    const env = {
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: topic.topic,
      ABNORMAL_ORDERS_GROUP: randomName('abnormal-orders'),
      JOBS: 'abnormal-orders',
      // Windows close through event time here, never through idleness.
      IDLE_TIMEOUT_MS: '600000',
    };
    api = await startServiceProcess({ ...env, ROLES: 'api' });
    ws = wsClient(api.url, TEST_KEYS.viewer);
    subscription = collect(ws, 'subscription { abnormalUserDetected { uid enterOrderCount windowStart windowEnd } }');
    worker = await startServiceProcess({ ...env, ROLES: 'worker' });
    // Let the subscription reach the server before anything is published.
    await new Promise((r) => setTimeout(r, 500));
    await produce(topic.topic, [
      ...STREAM.map(([uid, at, key]) => ({ key: uid, value: line(uid, at, key), partition: 0 })),
      { key: '1050', value: 'not\ta\tbehaviour line', partition: 0 },
      // Pushes the watermark of partition 0 past every window above.
      { key: 'flush', value: line('flush', 3600, 'startApp'), partition: 0 },
    ]);
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    subscription?.dispose();
    await ws?.dispose();
    await worker?.kill();
    await api?.kill();
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  const QUERY = `{ unpaidUsers(first: 50) { totalCount edges { cursor node { uid phone callbackStatus enterOrderCount firstDetectedAt lastDetectedAt windowStart windowEnd } } pageInfo { hasNextPage endCursor } } }`;

  it('should record exactly the users who crossed the threshold in one window, read back through GraphQL', async () => {
    const res = await waitFor('the five detections', async () => {
      const r = await gql(api.url, QUERY, {}, TEST_KEYS.viewer);
      return r.data?.unpaidUsers.totalCount === 5 ? r : null;
    });
    const nodes = res.data.unpaidUsers.edges.map((e: any) => e.node);
    assert.deepEqual(nodes, [
      {
        uid: '1040',
        phone: '18700001040',
        callbackStatus: 'PENDING',
        enterOrderCount: 3,
        firstDetectedAt: iso(240),
        lastDetectedAt: iso(240),
        windowStart: iso(180),
        windowEnd: iso(240),
      },
      {
        uid: '1030',
        phone: '18700001030',
        callbackStatus: 'PENDING',
        enterOrderCount: 3,
        firstDetectedAt: iso(120),
        lastDetectedAt: iso(150),
        windowStart: iso(90),
        windowEnd: iso(150),
      },
      {
        uid: '1011',
        phone: '18700001011',
        callbackStatus: 'PENDING',
        enterOrderCount: 3,
        firstDetectedAt: iso(90),
        lastDetectedAt: iso(90),
        windowStart: iso(30),
        windowEnd: iso(90),
      },
      {
        uid: '1003',
        phone: '18700001003',
        callbackStatus: 'PENDING',
        enterOrderCount: 3,
        firstDetectedAt: iso(30),
        lastDetectedAt: iso(60),
        windowStart: iso(0),
        windowEnd: iso(60),
      },
      {
        uid: '1005',
        phone: '18700001005',
        callbackStatus: 'PENDING',
        enterOrderCount: 5,
        firstDetectedAt: iso(30),
        lastDetectedAt: iso(60),
        windowStart: iso(0),
        windowEnd: iso(60),
      },
    ]);
    assert.equal(res.data.unpaidUsers.pageInfo.hasNextPage, false);
  });

  it('should page with cursors, newest last detection first', async () => {
    const first = await gql(
      api.url,
      '{ unpaidUsers(first: 2) { totalCount edges { node { uid } } pageInfo { hasNextPage endCursor } } }',
      {},
      TEST_KEYS.viewer,
    );
    assert.deepEqual(
      first.data.unpaidUsers.edges.map((e: any) => e.node.uid),
      ['1040', '1030'],
    );
    assert.equal(first.data.unpaidUsers.pageInfo.hasNextPage, true);
    const second = await gql(
      api.url,
      'query($after: String) { unpaidUsers(first: 10, after: $after) { edges { node { uid } } pageInfo { hasNextPage } } }',
      { after: first.data.unpaidUsers.pageInfo.endCursor },
      TEST_KEYS.viewer,
    );
    assert.deepEqual(
      second.data.unpaidUsers.edges.map((e: any) => e.node.uid),
      ['1011', '1003', '1005'],
    );
    assert.equal(second.data.unpaidUsers.pageInfo.hasNextPage, false);
    const bad = await gql(api.url, '{ unpaidUsers(after: "nonsense") { totalCount } }', {}, TEST_KEYS.viewer);
    assert.equal(errorCode(bad), 'BAD_USER_INPUT');
    const tooMany = await gql(api.url, '{ unpaidUsers(first: 100000) { totalCount } }', {}, TEST_KEYS.viewer);
    assert.equal(errorCode(tooMany), 'BAD_USER_INPUT');
  });

  it('should put the malformed and the late record in the dead-letter topic with their reasons', async () => {
    const dead = await readTopic(topic.dlq, 2);
    const reasons = dead.map((d) => [d.headers['dlq.reason'], d.headers['dlq.source.offset']]).sort();
    const lateOffset = String(STREAM.length - 1);
    const malformedOffset = String(STREAM.length);
    assert.deepEqual(
      reasons,
      [
        ['field-count', malformedOffset],
        ['late', lateOffset],
      ].sort(),
    );
    const [row] = await sql<{ late_records: bigint; dead_lettered: bigint; next_offset: bigint }>(
      db.url,
      'SELECT late_records, dead_lettered, next_offset FROM consumer_offset WHERE `partition` = 0',
    );
    assert.equal(Number(row.late_records), 1);
    assert.equal(Number(row.dead_lettered), 2);
    assert.equal(Number(row.next_offset), STREAM.length + 2);
  });

  it('should deliver each detection once to a subscriber of another API process', async () => {
    // 1003 and 1005 in two windows each, 1030 in two, 1011 and 1040 in one.
    await waitFor('8 subscription events', () => subscription.events.length >= 8, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const got = subscription.events
      .map((e: any) => `${e.abnormalUserDetected.uid}@${e.abnormalUserDetected.windowEnd}`)
      .sort();
    assert.deepEqual(
      got,
      [
        `1003@${iso(30)}`,
        `1003@${iso(60)}`,
        `1005@${iso(30)}`,
        `1005@${iso(60)}`,
        `1011@${iso(90)}`,
        `1030@${iso(120)}`,
        `1030@${iso(150)}`,
        `1040@${iso(240)}`,
      ].sort(),
    );
    assert.deepEqual(subscription.errors, []);
  });

  it('should show the committed offsets and lag through consumerOffsets', async () => {
    const res = await gql(
      api.url,
      '{ consumerOffsets { groupId topic partition offset earliest latest lag } }',
      {},
      TEST_KEYS.viewer,
    );
    const p0 = res.data.consumerOffsets.find((o: any) => o.partition === 0);
    assert.equal(res.data.consumerOffsets.length, 3);
    assert.equal(p0.offset, STREAM.length + 2);
    assert.equal(p0.latest, STREAM.length + 2);
    assert.equal(p0.lag, 0);
  });

  it('should let crm and ops set a callback status, audit it, and refuse the others', async () => {
    const m =
      'mutation($uid: ID!, $status: CallbackStatus!) { setCallbackStatus(uid: $uid, status: $status) { uid callbackStatus } }';
    assert.equal(errorCode(await gql(api.url, m, { uid: '1003', status: 'CONTACTED' })), 'UNAUTHENTICATED');
    assert.equal(
      errorCode(await gql(api.url, m, { uid: '1003', status: 'CONTACTED' }, 'no-such-key')),
      'UNAUTHENTICATED',
    );
    assert.equal(errorCode(await gql(api.url, m, { uid: '1003', status: 'CONTACTED' }, TEST_KEYS.viewer)), 'FORBIDDEN');
    const crm = await gql(api.url, m, { uid: '1003', status: 'CONTACTED' }, TEST_KEYS.crm);
    assert.deepEqual(crm.data, { setCallbackStatus: { uid: '1003', callbackStatus: 'CONTACTED' } });
    const ops = await gql(api.url, m, { uid: '1005', status: 'DECLINED' }, TEST_KEYS.ops);
    assert.deepEqual(ops.data, { setCallbackStatus: { uid: '1005', callbackStatus: 'DECLINED' } });
    assert.equal(errorCode(await gql(api.url, m, { uid: 'nobody', status: 'CONTACTED' }, TEST_KEYS.crm)), 'NOT_FOUND');
    assert.equal(errorCode(await gql(api.url, m, { uid: '1003', status: 'LOST' }, TEST_KEYS.crm)), 'BAD_USER_INPUT');
    const audit = await sql<{
      uid: string;
      from_status: number | null;
      to_status: number;
      role: string;
      key_id: string;
    }>(db.url, 'SELECT uid, from_status, to_status, role, key_id FROM callback_status_audit ORDER BY id');
    assert.deepEqual(
      audit.map((a) => [a.uid, a.from_status, a.to_status, a.role]),
      [
        ['1003', null, 1, 'crm'],
        ['1005', null, 4, 'ops'],
      ],
    );
    assert.ok(
      audit.every((a) => /^[0-9a-f]{12}$/.test(a.key_id) && !Object.values(TEST_KEYS).includes(a.key_id as never)),
    );
    const filtered = await gql(
      api.url,
      '{ unpaidUsers(callbackStatus: PENDING) { totalCount } }',
      {},
      TEST_KEYS.viewer,
    );
    assert.equal(filtered.data.unpaidUsers.totalCount, 3);
    assert.equal(errorCode(await gql(api.url, '{ unpaidUsers { totalCount } }')), 'UNAUTHENTICATED');
  });

  it('should keep a callback status when the user is detected again, with a new last detection', async () => {
    await produce(topic.topic, [
      { key: '1003', value: line('1003', 4000), partition: 0 },
      { key: '1003', value: line('1003', 4001), partition: 0 },
      { key: '1003', value: line('1003', 4002), partition: 0 },
      { key: 'flush', value: line('flush', 7200, 'startApp'), partition: 0 },
    ]);
    const q = '{ unpaidUser(uid: "1003") { callbackStatus enterOrderCount firstDetectedAt lastDetectedAt } }';
    const res = await waitFor('the new detection of 1003', async () => {
      const r = await gql(api.url, q, {}, TEST_KEYS.viewer);
      return r.data?.unpaidUser.lastDetectedAt === iso(4050) ? r : null;
    });
    assert.deepEqual(res.data.unpaidUser, {
      callbackStatus: 'CONTACTED',
      enterOrderCount: 3,
      firstDetectedAt: iso(30),
      lastDetectedAt: iso(4050),
    });
  });
});
