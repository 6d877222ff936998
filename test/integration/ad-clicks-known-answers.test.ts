// A hand-built ad click stream with known answers, through the real Kafka,
// MariaDB and Redis, read back through GraphQL: robots' clicks dropped against
// a blacklist edited by the mutations (one entry removed mid-way: the clicks
// of later batches count), malformed records dead-lettered with their reasons,
// and the adClicksUpdated subscription fed from the change log across Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatAdClick } from '../../src/jobs/ad-clicks/ad-click-format.js';
import { collect, errorCode, gql, wsClient } from '../helpers/graphql-client.js';
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

const T = Date.UTC(2026, 0, 1, 12);
const SEC = 1_000;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

type Click = [adId: string, atMs: number, userId: string, ip: string, partition: number];

const record = ([adId, atMs, userId, ip, partition]: Click) => ({
  key: userId,
  partition,
  value: formatAdClick({ eventTimeMs: atMs, adId, userId, ip }),
});

// Blacklisted before stage 1: users bot_1 and bot_2, IP 198.51.100.7.
const STAGE_1: Click[] = [
  ['adA', T + 1 * SEC, 'u1', '10.0.0.1', 0], // counted (A, T)
  ['adA', T + 2 * SEC, 'u2', '10.0.0.2', 0], // counted (A, T)
  ['adA', T + 3 * SEC, 'bot_1', '203.0.113.11', 0], // blocked, user (A, T)
  ['adA', T + MIN + 5 * SEC, 'u1', '10.0.0.1', 0], // counted (A, T+1)
  ['adA', T + 10 * SEC, 'u3', '198.51.100.7', 1], // blocked, ip (A, T)
  ['adA', T + 11 * SEC, 'bot_2', '198.51.100.7', 1], // blocked, user first (A, T)
  ['adB', T + 20 * SEC, 'u4', '10.0.0.4', 1], // counted (B, T)
  ['adB', T + MIN, 'bot_2', '10.0.0.9', 1], // blocked, user (B, T+1): exactly at the minute's start
  ['adA', T + MIN - 1, 'u5', '10.0.0.5', 2], // counted (A, T): 1 ms before the minute's end
  ['adA', T + 2 * MIN, 'bot_1', '203.0.113.11', 2], // blocked, user (A, T+2)
  ['adB', T + 2 * MIN + 1, 'u6', '198.51.100.7', 2], // blocked, ip (B, T+2)
];

// After removeFromBlacklist(USER, bot_2).
const STAGE_2: Click[] = [
  ['adA', T + 30 * SEC, 'bot_2', '10.0.0.9', 1], // counted now (A, T)
  ['adB', T + MIN + 1 * SEC, 'bot_2', '10.0.0.9', 0], // counted now (B, T+1)
  ['adA', T + 40 * SEC, 'bot_2', '198.51.100.7', 2], // blocked, ip still listed (A, T)
  ['adA', T + 45 * SEC, 'bot_1', '203.0.113.11', 0], // blocked, user (A, T)
];

const MINUTES = '{ minute clicks blockedByUser blockedByIp }';
const bucket = (minuteMs: number, clicks: number, blockedByUser: number, blockedByIp: number) => ({
  minute: iso(minuteMs),
  clicks,
  blockedByUser,
  blockedByIp,
});

describe('ad-clicks on a hand-built stream', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  let ws: ReturnType<typeof wsClient>;
  let subscription: ReturnType<typeof collect>;
  let group: string;
  const stage1: Record<string, unknown> = {};

  const q = async (query: string, variables: Record<string, unknown> = {}, key: string = TEST_KEYS.viewer) => {
    const res = await gql(api.url, query, variables, key);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    return res.data;
  };
  const minutes = async (adId: string) =>
    (
      await q(
        `query($ad: String!, $from: DateTime!, $to: DateTime!) { adClicks(adId: $ad, from: $from, to: $to) ${MINUTES} }`,
        { ad: adId, from: iso(T), to: iso(T + 3 * MIN) },
      )
    ).adClicks;
  const blacklistChange = async (op: 'addToBlacklist' | 'removeFromBlacklist', kind: string, value: string) =>
    (
      await q(
        `mutation($kind: BlacklistKind!, $value: String!, $note: String) { ${op}(kind: $kind, value: $value, note: $note) { changed kind value } }`,
        { kind, value, note: `${op} ${value} in the test` },
        TEST_KEYS.ops,
      )
    )[op];

  async function caughtUp(): Promise<void> {
    const latest = await latestOffsets(topic.topic);
    await waitFor(
      'the worker to commit every record',
      async () => (await jobProgress(db.url, latest, { windowed: false, group })).done,
      60_000,
    );
  }

  before(async () => {
    db = await createTestDatabase();
    topic = await createTestTopic('ad-clicks', 3);
    group = randomName('ad-clicks');
    const env = { DATABASE_URL: db.url, AD_CLICKS_TOPIC: topic.topic, AD_CLICKS_GROUP: group, JOBS: 'ad-clicks' };
    api = await startServiceProcess({ ...env, ROLES: 'api' });
    ws = wsClient(api.url, TEST_KEYS.viewer);
    subscription = collect(
      ws,
      `subscription { adClicksUpdated(adId: "adA") { kind cursor adId minute clicks blockedByUser blockedByIp } }`,
    );
    for (const [kind, value] of [
      ['USER', 'bot_1'],
      ['USER', 'bot_2'],
      ['IP', '198.51.100.7'],
    ])
      assert.deepEqual(await blacklistChange('addToBlacklist', kind, value), { changed: true, kind, value });
    worker = await startServiceProcess({ ...env, ROLES: 'worker' });
    await produce(topic.topic, [
      ...STAGE_1.map(record),
      { key: 'bad', partition: 2, value: 'not json at all' },
      {
        key: 'bad',
        partition: 2,
        value: JSON.stringify({ event_time: Math.floor(T / 1000), ad_id: 'adA', user_id: 'u1', ip: '10.0.0.1' }),
      },
      {
        key: 'bad',
        partition: 2,
        value: JSON.stringify({ event_time: T, ad_id: 'adA', user_id: 'u1', ip: '10.0.0.300' }),
      },
      {
        key: 'bad',
        partition: 2,
        // A wrong clock: a year ahead of the record's own Kafka timestamp.
        value: JSON.stringify({
          event_time: Date.now() + 365 * 86_400_000,
          ad_id: 'adA',
          user_id: 'u1',
          ip: '10.0.0.1',
        }),
      },
    ]);
    await caughtUp();
    stage1.adA = await minutes('adA');
    stage1.adB = await minutes('adB');
    assert.deepEqual(await blacklistChange('removeFromBlacklist', 'USER', 'bot_2'), {
      changed: true,
      kind: 'USER',
      value: 'bot_2',
    });
    await produce(topic.topic, STAGE_2.map(record));
    await caughtUp();
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

  it('should count clicks per ad and minute and drop blacklisted users and IPs apart (before the removal)', () => {
    assert.deepEqual(stage1.adA, [bucket(T, 3, 2, 1), bucket(T + MIN, 1, 0, 0), bucket(T + 2 * MIN, 0, 1, 0)]);
    assert.deepEqual(stage1.adB, [bucket(T, 1, 0, 0), bucket(T + MIN, 0, 1, 0), bucket(T + 2 * MIN, 0, 0, 1)]);
  });

  it("should count a removed user's clicks of later batches, and still drop them for a listed IP", async () => {
    assert.deepEqual(await minutes('adA'), [
      bucket(T, 4, 3, 2),
      bucket(T + MIN, 1, 0, 0),
      bucket(T + 2 * MIN, 0, 1, 0),
    ]);
    assert.deepEqual(await minutes('adB'), [
      bucket(T, 1, 0, 0),
      bucket(T + MIN, 1, 1, 0),
      bucket(T + 2 * MIN, 0, 0, 1),
    ]);
  });

  it('should total blocked clicks by reason and rank ads by counted clicks over a range', async () => {
    const res = await q(
      `query($from: DateTime!, $to: DateTime!) {
        blockedClicks(from: $from, to: $to) { from to clicks blockedByUser blockedByIp blocked }
        adClickTotals(from: $from, to: $to) { adId clicks blockedByUser blockedByIp } }`,
      { from: iso(T + 10 * SEC), to: iso(T + 3 * MIN) },
    );
    assert.deepEqual(res.blockedClicks, {
      from: iso(T),
      to: iso(T + 3 * MIN),
      clicks: 7,
      blockedByUser: 5,
      blockedByIp: 3,
      blocked: 8,
    });
    assert.deepEqual(res.adClickTotals, [
      { adId: 'adA', clicks: 5, blockedByUser: 4, blockedByIp: 2 },
      { adId: 'adB', clicks: 2, blockedByUser: 1, blockedByIp: 1 },
    ]);
    const second = await q(
      `query($from: DateTime!, $to: DateTime!) { blockedClicks(from: $from, to: $to) { clicks blockedByUser blockedByIp } }`,
      { from: iso(T + MIN), to: iso(T + 2 * MIN) },
    );
    assert.deepEqual(second.blockedClicks, { clicks: 2, blockedByUser: 1, blockedByIp: 0 });
  });

  it('should refuse a range beyond one day and a bad entry with BAD_USER_INPUT, and non-ops callers', async () => {
    const tooLong = await gql(
      api.url,
      `query($from: DateTime!, $to: DateTime!) { adClicks(adId: "adA", from: $from, to: $to) { clicks } }`,
      { from: iso(T), to: iso(T + 1_441 * MIN) },
      TEST_KEYS.viewer,
    );
    assert.equal(errorCode(tooLong), 'BAD_USER_INPUT');
    const blocked = await gql(
      api.url,
      `query($from: DateTime!, $to: DateTime!) { blockedClicks(from: $from, to: $to) { blocked } }`,
      { from: iso(T), to: iso(T + 2_000 * MIN) },
      TEST_KEYS.viewer,
    );
    assert.equal(errorCode(blocked), 'BAD_USER_INPUT');
    const badIp = await gql(
      api.url,
      'mutation { addToBlacklist(kind: IP, value: "10.0.0.300") { changed } }',
      {},
      TEST_KEYS.ops,
    );
    assert.equal(errorCode(badIp), 'BAD_USER_INPUT');
    for (const key of [TEST_KEYS.viewer, TEST_KEYS.crm]) {
      const res = await gql(api.url, 'mutation { addToBlacklist(kind: USER, value: "u1") { changed } }', {}, key);
      assert.equal(errorCode(res), 'FORBIDDEN');
      assert.equal(errorCode(await gql(api.url, '{ blacklist { value } }', {}, key)), 'FORBIDDEN');
    }
    // Adding an entry already there (or removing one that is not) changes and audits nothing.
    assert.deepEqual(await blacklistChange('addToBlacklist', 'USER', 'bot_1'), {
      changed: false,
      kind: 'USER',
      value: 'bot_1',
    });
    assert.deepEqual(await blacklistChange('removeFromBlacklist', 'USER', 'nobody'), {
      changed: false,
      kind: 'USER',
      value: 'nobody',
    });
  });

  it('should list the blacklist and audit every change: who, when, what, note', async () => {
    const res = await q(
      '{ blacklist { kind value note addedBy { role keyId } addedAt } blacklistChanges { action kind value note by { role keyId } at } }',
      {},
      TEST_KEYS.ops,
    );
    assert.deepEqual(
      res.blacklist.map((e: any) => [e.kind, e.value, e.note, e.addedBy.role]),
      [
        ['IP', '198.51.100.7', 'addToBlacklist 198.51.100.7 in the test', 'ops'],
        ['USER', 'bot_1', 'addToBlacklist bot_1 in the test', 'ops'],
      ],
    );
    assert.deepEqual(
      res.blacklistChanges.map((c: any) => [c.action, c.kind, c.value, c.note, c.by.role]),
      [
        ['REMOVE', 'USER', 'bot_2', 'removeFromBlacklist bot_2 in the test', 'ops'],
        ['ADD', 'IP', '198.51.100.7', 'addToBlacklist 198.51.100.7 in the test', 'ops'],
        ['ADD', 'USER', 'bot_2', 'addToBlacklist bot_2 in the test', 'ops'],
        ['ADD', 'USER', 'bot_1', 'addToBlacklist bot_1 in the test', 'ops'],
      ],
    );
    assert.ok(
      res.blacklistChanges.every((c: any) => /^[0-9a-f]{12}$/.test(c.by.keyId) && !Number.isNaN(Date.parse(c.at))),
    );
  });

  it('should put the malformed records in the dead-letter topic with their reasons, counted', async () => {
    const dead = await readTopic(topic.dlq, 4);
    assert.deepEqual(dead.map((d) => d.headers['dlq.reason']).sort(), [
      'bad-ip',
      'bad-json',
      'event-time-ahead',
      'event-time-unit',
    ]);
    const [row] = await sql<{ dead: bigint }>(
      db.url,
      'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?',
      [group],
    );
    assert.equal(Number(row.dead), 4);
  });

  it('should send every change of adA through adClicksUpdated, the newest values last per partition', async () => {
    const newest = () => {
      interface Update {
        minute: string;
        clicks: number;
        blockedByUser: number;
        blockedByIp: number;
      }
      const byMinute = new Map<string, Update>();
      for (const e of subscription.events.map((x: any) => x.adClicksUpdated as Update)) {
        const seen = byMinute.get(e.minute);
        if (!seen || e.clicks + e.blockedByUser + e.blockedByIp >= seen.clicks + seen.blockedByUser + seen.blockedByIp)
          byMinute.set(e.minute, e);
      }
      return [...byMinute.values()]
        .sort((a, b) => a.minute.localeCompare(b.minute))
        .map((e) => bucket(Date.parse(e.minute), e.clicks, e.blockedByUser, e.blockedByIp));
    };
    await waitFor('the last change of adA', () => newest()[0]?.clicks === 4, 20_000);
    assert.deepEqual(newest(), [bucket(T, 4, 3, 2), bucket(T + MIN, 1, 0, 0), bucket(T + 2 * MIN, 0, 1, 0)]);
    const events = subscription.events.map((x: any) => x.adClicksUpdated);
    assert.ok(events.every((e: any) => e.kind === 'CHANGE' && e.adId === 'adA' && e.cursor.length > 0));
    assert.deepEqual(subscription.errors, []);
    // Resuming after the first event's cursor gives every later change again (in any order across
    // partitions, their cursors the resumed subscriber's own position vectors), nothing before it.
    const resumed = collect(
      ws,
      `subscription { adClicksUpdated(adId: "adA", after: "${events[0].cursor}") { minute clicks blockedByUser blockedByIp } }`,
    );
    const text = (e: any) => JSON.stringify([e.minute, e.clicks, e.blockedByUser, e.blockedByIp]);
    try {
      await waitFor('the resumed changes', () => resumed.events.length >= events.length - 1, 20_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(
        resumed.events.map((x: any) => text(x.adClicksUpdated)).sort(),
        events.slice(1).map(text).sort(),
      );
    } finally {
      resumed.dispose();
    }
  });
});
