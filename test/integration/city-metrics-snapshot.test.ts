// cityMetricsUpdated(snapshot: true) starts with today's values read
// consistently with its cursor, then sends the changes after it; its cursors
// resume exactly after an event. One process with both roles.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { createTestDatabase, createTestTopic, produce, randomName, sql, waitFor } from '../helpers/services.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
// Today in TIME_ZONE, a minute ago: the snapshot is of today.
const NOW = Date.now() - 60_000;
const order = (orderId: string, cityCode: string, ok: boolean, chargefee: string) => ({
  key: orderId,
  value: formatRecharge(
    {
      orderId,
      cityCode,
      chargefee,
      bussinessRst: ok ? '0000' : '0001',
      requestTimeMs: NOW - 10_000,
      notifyTimeMs: NOW,
    },
    calendar,
  ),
});

const SUBSCRIPTION = `subscription($after: String, $snapshot: Boolean, $cityCode: String) {
  cityMetricsUpdated(after: $after, snapshot: $snapshot, cityCode: $cityCode) { kind cursor cityCode orders failed amount }
}`;

function subscribe(url: string, variables: Record<string, unknown>) {
  const client: Client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${TEST_KEYS.viewer}` },
    retryAttempts: 0,
  });
  const events: any[] = [];
  const errors: any[] = [];
  client.subscribe<any>(
    { query: SUBSCRIPTION, variables },
    {
      next: (v) => (v.errors ? errors.push(v.errors) : events.push(v.data.cityMetricsUpdated)),
      error: (e) => errors.push(e),
      // The test closes the client itself: completion needs no action.
      complete: () => undefined,
    },
  );
  return { events, errors, close: () => client.dispose() };
}

describe('cityMetricsUpdated: snapshot, then changes, resumable', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let service: ServiceProcess;
  const group = randomName('recharge-metrics');
  const subs: ReturnType<typeof subscribe>[] = [];
  const open = (vars: Record<string, unknown>) => {
    const s = subscribe(service.url, vars);
    subs.push(s);
    return s;
  };
  const committed = async (total: number) => {
    const rows = await sql<{ n: bigint }>(
      db.url,
      'SELECT COALESCE(SUM(next_offset), 0) AS n FROM consumer_offset WHERE group_id = ?',
      [group],
    );
    return Number(rows[0].n) >= total;
  };

  before(async () => {
    db = await createTestDatabase();
    topic = await createTestTopic('recharge', 2);
    service = await startServiceProcess({
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      ROLES: 'worker,api',
    });
    await produce(topic.topic, [order('S1', '440100', true, '100'), order('S2', '440300', false, '50')]);
    await waitFor('the first orders committed', () => committed(2));
  });

  after(async () => {
    for (const s of subs) await s.close();
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    await service?.kill();
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  let snapshotCursor: string;

  it("should start with every city's current values of today, then send the changes after them", async () => {
    const s = open({ snapshot: true });
    await waitFor('the snapshot', () => s.events.length >= 21, 20_000);
    const snapshot = s.events.slice(0, 21);
    assert.ok(snapshot.every((e) => e.kind === 'SNAPSHOT'));
    assert.equal(new Set(snapshot.map((e) => e.cursor)).size, 1, 'one cursor: the position the values were read at');
    snapshotCursor = snapshot[0].cursor;
    const byCity = new Map(snapshot.map((e) => [e.cityCode, e]));
    assert.deepEqual(byCity.get('440100'), {
      kind: 'SNAPSHOT',
      cursor: snapshotCursor,
      cityCode: '440100',
      orders: 1,
      failed: 0,
      amount: '100.00',
    });
    assert.deepEqual(byCity.get('440300'), {
      kind: 'SNAPSHOT',
      cursor: snapshotCursor,
      cityCode: '440300',
      orders: 1,
      failed: 1,
      amount: '0.00',
    });
    assert.equal(byCity.get('440400').orders, 0);

    await produce(topic.topic, [
      order('S3', '440100', true, '20.50'),
      order('S4', '440300', true, '30'),
      order('S1', '440100', true, '100'),
    ]);
    await waitFor(
      'the changes',
      () => {
        const last = new Map(s.events.slice(21).map((e) => [e.cityCode, e]));
        return last.get('440100')?.orders === 2 && last.get('440300')?.orders === 2;
      },
      20_000,
    );
    const changes = s.events.slice(21);
    assert.ok(changes.every((e) => e.kind === 'CHANGE' && e.cursor !== snapshotCursor));
    assert.ok(
      changes.every((e) => e.cityCode === '440100' || e.cityCode === '440300'),
      'only the cities that changed',
    );
    assert.deepEqual(s.errors, []);
  });

  it("should resume after the snapshot's cursor with exactly the changes since, newest per city", async () => {
    const s = open({ after: snapshotCursor, cityCode: '440100' });
    await waitFor('the change of 440100', () => s.events.length > 0, 20_000);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(
      s.events.map(({ kind, cityCode, orders, amount }) => ({ kind, cityCode, orders, amount })),
      [{ kind: 'CHANGE', cityCode: '440100', orders: 2, amount: '120.50' }],
    );
    assert.deepEqual(s.errors, []);
  });

  it('should refuse a snapshot together with a cursor, and a malformed cursor', async () => {
    const both = open({ after: snapshotCursor, snapshot: true });
    const bad = open({ after: 'bm9wZQ' });
    await waitFor('the errors', () => both.errors.length > 0 && bad.errors.length > 0, 10_000);
    assert.equal(both.errors[0][0].extensions.code, 'BAD_USER_INPUT');
    assert.equal(bad.errors[0][0].extensions.code, 'BAD_USER_INPUT');
  });
});
