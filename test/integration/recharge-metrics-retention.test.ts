// A stored offset below the partition's earliest offset (records deleted by
// retention, here with the admin API while the service was stopped): the job
// restarts at the earliest offset, counts the records it never saw in
// lostToRetention, and shows it through consumerOffsets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { gql } from '../helpers/graphql-client.js';
import { startServiceProcess, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import {
  connectAdmin,
  createTestDatabase,
  createTestTopic,
  produce,
  randomName,
  sql,
  waitFor,
} from '../helpers/services.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
/** 2026-04-01 12:00:00 in Asia/Shanghai. */
const T = Date.UTC(2026, 3, 1, 4);
const DAY = '2026-04-01';

const ids = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `O${String(from + i).padStart(2, '0')}`);
const records = (orderIds: string[]) =>
  orderIds.map((orderId, i) => ({
    key: orderId,
    partition: 0,
    value: formatRecharge(
      {
        orderId,
        cityCode: '440100',
        chargefee: '10',
        requestTimeMs: T + i * 1_000 - 5_000,
        notifyTimeMs: T + i * 1_000,
      },
      calendar,
    ),
  }));

describe('recharge-metrics after retention deleted records it had not read', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let service: ServiceProcess;
  const group = randomName('recharge-metrics');
  let env: Record<string, string>;

  const nextOffset = async () => {
    const rows = await sql<{ next_offset: bigint }>(
      db.url,
      'SELECT next_offset FROM consumer_offset WHERE group_id = ? AND `partition` = 0',
      [group],
    );
    return rows.length ? Number(rows[0].next_offset) : -1;
  };

  before(async () => {
    db = await createTestDatabase();
    topic = await createTestTopic('recharge');
    env = {
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: group,
      JOBS: 'recharge-metrics',
      ROLES: 'worker,api',
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
    };
    service = await startServiceProcess(env);
    // Offsets 0..9: processed and committed.
    await produce(topic.topic, records(ids(0, 10)));
    await waitFor('offsets 0..9 committed', async () => (await nextOffset()) === 10);
    await service.kill('SIGTERM');
    // Offsets 10..29 arrive while the job is down; retention then removes 10..24.
    await produce(topic.topic, records(ids(10, 30)));
    const admin = await connectAdmin();
    try {
      // deleteTopicRecords needs the topic's metadata in the client.
      await admin.fetchTopicMetadata({ topics: [topic.topic] });
      await admin.deleteTopicRecords({ topic: topic.topic, partitions: [{ partition: 0, offset: '25' }] });
      const low = (await admin.fetchTopicOffsets(topic.topic)).find((o) => o.partition === 0)!.low;
      assert.equal(low, '25');
    } finally {
      await admin.disconnect();
    }
    service = await startServiceProcess(env);
    await waitFor('offsets 25..29 committed', async () => (await nextOffset()) === 30);
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    await service?.kill();
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should show the records lost to retention through consumerOffsets', async () => {
    const res = await gql(
      service.url,
      'query($g: String) { consumerOffsets(groupId: $g) { partition offset earliest latest lag lostToRetention } }',
      { g: group },
      TEST_KEYS.viewer,
    );
    assert.deepEqual(
      res.data.consumerOffsets.find((o: any) => o.partition === 0),
      { partition: 0, offset: 30, earliest: 25, latest: 30, lag: 0, lostToRetention: 15 },
    );
    const warning = service.logs.find((l) => String(l.msg).startsWith('records were deleted by retention'));
    assert.equal(warning?.lost, '15');
    assert.equal(warning.partition, 0);
  });

  it('should have resumed at the earliest offset: the records before the deletion and from earliest on are counted, no others', async () => {
    const rows = await sql<{ order_id: string }>(db.url, 'SELECT order_id FROM recharge_order ORDER BY order_id');
    assert.deepEqual(
      rows.map((r) => r.order_id),
      [...ids(0, 10), ...ids(25, 30)],
    );
    const res = await gql(
      service.url,
      'query($d: Date) { rechargeSummary(date: $d) { orders amount } }',
      { d: DAY },
      TEST_KEYS.viewer,
    );
    assert.deepEqual(res.data.rechargeSummary, { orders: 15, amount: '150.00' });
  });
});
