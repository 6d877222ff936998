// A hand-built click stream with known answers, through the real Kafka, MariaDB
// and Redis, read back through GraphQL; worker and API in separate processes so
// the hotProductsUpdated subscription crosses Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatProductClick } from '../../src/jobs/hot-products/product-click-format.js';
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

// T is a 5-minute boundary (and an hour): hotProducts(at: T) ranks minutes in [T - 1 h, T).
const T = Date.UTC(2026, 0, 1, 12);
const SEC = 1_000;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

type Click = [productId: string, atMs: number, category: string | null, partition: number, action?: string];

const STAGE_1: Click[] = [
  // p100 (phone): 2 clicks in minute T-40, one exactly at the minute boundary T-30 and one
  // 1 ms before T-29 (both in minute T-30), one exactly at T-29 (minute T-29): 5 clicks.
  ['p100', T - 40 * MIN + 1 * SEC, 'phone', 0],
  ['p100', T - 40 * MIN + 2 * SEC, 'phone', 0],
  ['p100', T - 30 * MIN, 'phone', 0],
  ['p100', T - 29 * MIN - 1, 'phone', 0],
  ['p100', T - 29 * MIN, 'phone', 0],
  // Exactly at the start of the ranked hour (inclusive): counts at T, not at T+5 min.
  ['p400', T - 60 * MIN, 'phone', 0],
  // 1 ms before the hour (excluded at T), and exactly at T (the end, exclusive: counts from T+5 min on).
  ['p500', T - 60 * MIN - 1, 'tv', 0],
  ['p500', T, 'tv', 0],
  // Other actions are counted, never ranked.
  ...Array.from({ length: 10 }, (_, i): Click => ['p999', T - 45 * MIN + i * SEC, 'tv', 0, 'view']),
  ['p999', T - 45 * MIN, 'tv', 0, 'cart'],
  // p200 and p300 tie at 3 clicks (p200 ranks first); p050 has 4.
  ['p200', T - 50 * MIN, 'phone', 1],
  ['p200', T - 35 * MIN, 'phone', 1],
  ['p200', T - 15 * MIN, 'phone', 1],
  ['p050', T - 48 * MIN, 'tv', 1],
  ['p050', T - 47 * MIN, 'tv', 1],
  ['p050', T - 20 * MIN, 'tv', 1],
  ['p050', T - 12 * MIN, 'tv', 1],
  ['p300', T - 44 * MIN, 'phone', 2],
  ['p300', T - 33 * MIN, 'phone', 2],
  ['p300', T - 11 * MIN, 'phone', 2],
  // p060 ties p400 at 1 click (p060 first); p070 has no category.
  ['p060', T - 25 * MIN, 'tv', 2],
  ['p070', T - 26 * MIN, null, 2],
  ['p070', T - 24 * MIN, null, 2],
];

/** Non-click records 6 s past T: the partition's watermark (max event time - 5 s grace) passes T. */
const pushPast = (partition: number) => ({
  key: 'flush',
  partition,
  value: formatProductClick({ eventTimeMs: T + 6 * SEC, productId: 'pflush', action: 'view', userId: 'u_flush' }),
});

const record = ([productId, atMs, category, partition, action]: Click) => ({
  key: `u_${productId}`,
  partition,
  value: formatProductClick({
    eventTimeMs: atMs,
    productId,
    action: action ?? 'click',
    userId: `u_${productId}`,
    category,
  }),
});

const RANKING = '{ productId clicks rank category }';

describe('hot-products on a hand-built stream', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  let ws: ReturnType<typeof wsClient>;
  let subscription: ReturnType<typeof collect>;
  let group: string;

  const q = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await gql(api.url, query, variables, TEST_KEYS.viewer);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    return res.data;
  };

  /** Waits until every partition's committed offset reached the topic's end. */
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
    topic = await createTestTopic('product-clicks', 3);
    group = randomName('hot-products');
    const env = {
      DATABASE_URL: db.url,
      PRODUCT_CLICKS_TOPIC: topic.topic,
      HOT_PRODUCTS_GROUP: group,
      JOBS: 'hot-products',
      // The boundary is passed through event time here, never through idleness.
      IDLE_TIMEOUT_MS: '600000',
    };
    api = await startServiceProcess({ ...env, ROLES: 'api' });
    ws = wsClient(api.url, TEST_KEYS.viewer);
    subscription = collect(
      ws,
      `subscription { hotProductsUpdated(limit: 3) { windowStart windowEnd products ${RANKING} } }`,
    );
    worker = await startServiceProcess({ ...env, ROLES: 'worker' });
    await new Promise((r) => setTimeout(r, 500));
    await produce(topic.topic, [
      ...STAGE_1.map(record),
      { key: 'bad', partition: 1, value: 'not json at all' },
      {
        key: 'bad',
        partition: 1,
        value: JSON.stringify({
          event_time: Math.floor(T / 1000),
          product_id: 'p100',
          action: 'click',
          user_id: 'u_1',
        }),
      },
    ]);
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

  it('should rank the hour ending at the boundary: start inclusive, end exclusive, ties by productId', async () => {
    const expected = [
      { productId: 'p100', clicks: 5, rank: 1, category: 'phone' },
      { productId: 'p050', clicks: 4, rank: 2, category: 'tv' },
      { productId: 'p200', clicks: 3, rank: 3, category: 'phone' },
      { productId: 'p300', clicks: 3, rank: 4, category: 'phone' },
      { productId: 'p070', clicks: 2, rank: 5, category: null },
      { productId: 'p060', clicks: 1, rank: 6, category: 'tv' },
      { productId: 'p400', clicks: 1, rank: 7, category: 'phone' },
    ];
    assert.deepEqual(
      (await q(`query($at: DateTime) { hotProducts(at: $at) ${RANKING} }`, { at: iso(T) })).hotProducts,
      expected,
    );
    // Any time before the next boundary ranks the same hour.
    assert.deepEqual(
      (await q(`query($at: DateTime) { hotProducts(at: $at) ${RANKING} }`, { at: iso(T + 5 * MIN - 1) })).hotProducts,
      expected,
    );
    const top2 = (await q(`query($at: DateTime) { hotProducts(limit: 2, at: $at) ${RANKING} }`, { at: iso(T) }))
      .hotProducts;
    assert.deepEqual(top2, expected.slice(0, 2));
  });

  it('should move the hour at the next 5-minute boundary: the click at T enters, the click at T - 1 h leaves', async () => {
    const ranking = (await q(`query($at: DateTime) { hotProducts(at: $at) ${RANKING} }`, { at: iso(T + 5 * MIN) }))
      .hotProducts;
    assert.deepEqual(
      ranking.map((p: any) => [p.productId, p.clicks]),
      [
        ['p100', 5],
        ['p050', 4],
        ['p200', 3],
        ['p300', 3],
        ['p070', 2],
        ['p060', 1],
        ['p500', 1],
      ],
    );
  });

  it('should give the top products of every category, leaving out products without one', async () => {
    const res = await q(`query($at: DateTime) { hotProductsByCategory(at: $at) { category products ${RANKING} } }`, {
      at: iso(T),
    });
    assert.deepEqual(res.hotProductsByCategory, [
      {
        category: 'phone',
        products: [
          { productId: 'p100', clicks: 5, rank: 1, category: 'phone' },
          { productId: 'p200', clicks: 3, rank: 2, category: 'phone' },
          { productId: 'p300', clicks: 3, rank: 3, category: 'phone' },
        ],
      },
      {
        category: 'tv',
        products: [
          { productId: 'p050', clicks: 4, rank: 1, category: 'tv' },
          { productId: 'p060', clicks: 1, rank: 2, category: 'tv' },
        ],
      },
    ]);
    const one = await q(
      `query($at: DateTime) { hotProductsByCategory(limit: 1, at: $at) { category products { productId } } }`,
      { at: iso(T) },
    );
    assert.deepEqual(one.hotProductsByCategory, [
      { category: 'phone', products: [{ productId: 'p100' }] },
      { category: 'tv', products: [{ productId: 'p050' }] },
    ]);
  });

  it('should store clicks per minute (window start and end) and count other actions apart', async () => {
    const minutes = await sql<{ window_start: Date; window_end: Date; clicks: number | bigint }>(
      db.url,
      // Summed over the partitions that counted them (each adds to rows of its own).
      "SELECT window_start, window_end, CAST(SUM(clicks) AS SIGNED) AS clicks FROM product_click_minute WHERE product_id = 'p100' GROUP BY window_start, window_end ORDER BY window_start",
    );
    assert.deepEqual(
      minutes.map((m) => [iso(m.window_start.getTime()), iso(m.window_end.getTime()), Number(m.clicks)]),
      [
        [iso(T - 40 * MIN), iso(T - 39 * MIN), 2],
        [iso(T - 30 * MIN), iso(T - 29 * MIN), 2],
        [iso(T - 29 * MIN), iso(T - 28 * MIN), 1],
      ],
    );
    const actions = await sql<{ action: string; events: string }>(
      db.url,
      "SELECT action, SUM(events) AS events FROM product_action_minute WHERE product_id = 'p999' GROUP BY action ORDER BY action",
    );
    assert.deepEqual(
      actions.map((a) => [a.action, Number(a.events)]),
      [
        ['cart', 1],
        ['view', 10],
      ],
    );
    const [p999] = await sql<{ n: bigint }>(
      db.url,
      "SELECT COUNT(*) AS n FROM product_click_minute WHERE product_id IN ('p999', 'pflush')",
    );
    assert.equal(Number(p999.n), 0);
  });

  it('should put the malformed records in the dead-letter topic with their reasons', async () => {
    const dead = await readTopic(topic.dlq, 2);
    assert.deepEqual(dead.map((d) => d.headers['dlq.reason']).sort(), ['bad-json', 'event-time-unit']);
    assert.ok(dead.every((d) => d.headers['dlq.job'] === 'hot-products' && d.headers['dlq.source.partition'] === '1'));
    const [row] = await sql<{ dead: bigint }>(
      db.url,
      'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?',
      [group],
    );
    assert.equal(Number(row.dead), 2);
  });

  it('should publish the ranking at boundary T only once the watermark of every partition passed it, once', async () => {
    const atT = (): any[] => subscription.events.filter((e: any) => e.hotProductsUpdated.windowEnd === iso(T));
    await produce(topic.topic, [pushPast(0), pushPast(1)]);
    await caughtUp();
    // Partition 2 is still at T - 11 min - 5 s: the boundary must wait for it.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.deepEqual(atT(), []);
    const [claimed] = await sql<{ n: bigint }>(
      db.url,
      'SELECT COUNT(*) AS n FROM hot_products_emission WHERE window_end = ?',
      [new Date(T)],
    );
    assert.equal(Number(claimed.n), 0);

    await produce(topic.topic, [pushPast(2)]);
    await waitFor('the ranking at T', () => atT().length > 0, 20_000);
    assert.deepEqual(atT()[0].hotProductsUpdated, {
      windowStart: iso(T - 60 * MIN),
      windowEnd: iso(T),
      products: [
        { productId: 'p100', clicks: 5, rank: 1, category: 'phone' },
        { productId: 'p050', clicks: 4, rank: 2, category: 'tv' },
        { productId: 'p200', clicks: 3, rank: 3, category: 'phone' },
      ],
    });
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(atT().length, 1);
    const ends = subscription.events.map((e: any) => e.hotProductsUpdated.windowEnd);
    assert.deepEqual(ends, [...new Set(ends)].sort(), 'each boundary once, in order');
    assert.deepEqual(subscription.errors, []);
    const rows = await sql<{ window_end: Date; products: number }>(
      db.url,
      'SELECT window_end, products FROM hot_products_emission WHERE group_id = ? AND window_end = ?',
      [group, new Date(T)],
    );
    assert.deepEqual(
      rows.map((r) => r.products),
      [7],
    );
  });

  it('should give minute buckets with running totals, corrected by a late click into an earlier minute', async () => {
    const query =
      'query($p: ID!, $from: DateTime!, $to: DateTime!) { productClicks(productId: $p, from: $from, to: $to) { minute clicks runningTotal } }';
    const buckets = async (from: number, to: number) =>
      (await q(query, { p: 'p100', from: iso(from), to: iso(to) })).productClicks.filter(
        (b: any) => b.clicks > 0 || b.minute === iso(from - (from % MIN)),
      );
    assert.deepEqual(await buckets(T - 41 * MIN, T - 28 * MIN), [
      { minute: iso(T - 41 * MIN), clicks: 0, runningTotal: 0 },
      { minute: iso(T - 40 * MIN), clicks: 2, runningTotal: 2 },
      { minute: iso(T - 30 * MIN), clicks: 2, runningTotal: 4 },
      { minute: iso(T - 29 * MIN), clicks: 1, runningTotal: 5 },
    ]);
    const all = (await q(query, { p: 'p100', from: iso(T - 41 * MIN), to: iso(T - 28 * MIN) })).productClicks;
    assert.equal(all.length, 13, 'one bucket per minute overlapping [from, to), empty ones as zeros');
    // A range starting later carries the clicks before it.
    assert.deepEqual(
      (await q(query, { p: 'p100', from: iso(T - 30 * MIN + 10 * SEC), to: iso(T - 29 * MIN) })).productClicks,
      [{ minute: iso(T - 30 * MIN), clicks: 2, runningTotal: 4 }],
    );

    // A late click into minute T-40, after the boundary T was published: additive, so it still counts.
    await produce(topic.topic, [record(['p100', T - 40 * MIN + 30 * SEC, 'phone', 1])]);
    await caughtUp();
    assert.deepEqual(await buckets(T - 41 * MIN, T - 28 * MIN), [
      { minute: iso(T - 41 * MIN), clicks: 0, runningTotal: 0 },
      { minute: iso(T - 40 * MIN), clicks: 3, runningTotal: 3 },
      { minute: iso(T - 30 * MIN), clicks: 2, runningTotal: 5 },
      { minute: iso(T - 29 * MIN), clicks: 1, runningTotal: 6 },
    ]);
    const [total] = await sql<{ clicks: bigint; category: string; last_click_at: Date }>(
      db.url,
      "SELECT CAST(SUM(clicks) AS SIGNED) AS clicks, SUBSTRING(MAX(CONCAT(category_at, category)), 24) AS category, MAX(last_click_at) AS last_click_at FROM product_click_total WHERE product_id = 'p100'",
    );
    assert.deepEqual(
      [Number(total.clicks), total.category, iso(total.last_click_at.getTime())],
      [6, 'phone', iso(T - 29 * MIN)],
    );
    assert.equal(
      (await q(`query($at: DateTime) { hotProducts(limit: 1, at: $at) { clicks } }`, { at: iso(T) })).hotProducts[0]
        .clicks,
      6,
    );
  });

  it('should refuse bad arguments with BAD_USER_INPUT and callers without a key', async () => {
    const bad = async (query: string, variables: Record<string, unknown> = {}) =>
      errorCode(await gql(api.url, query, variables, TEST_KEYS.viewer));
    assert.equal(await bad('{ hotProducts(limit: 0) { rank } }'), 'BAD_USER_INPUT');
    assert.equal(await bad('{ hotProducts(limit: 101) { rank } }'), 'BAD_USER_INPUT');
    assert.equal(await bad('{ hotProductsByCategory(limit: 0) { category } }'), 'BAD_USER_INPUT');
    const pc =
      'query($from: DateTime!, $to: DateTime!) { productClicks(productId: "p100", from: $from, to: $to) { clicks } }';
    assert.equal(await bad(pc, { from: iso(T), to: iso(T + 1441 * MIN) }), 'BAD_USER_INPUT');
    assert.equal(await bad(pc, { from: iso(T), to: iso(T - MIN) }), 'BAD_USER_INPUT');
    const day = (await gql(api.url, pc, { from: iso(T), to: iso(T + 1440 * MIN) }, TEST_KEYS.viewer)).data
      ?.productClicks;
    assert.equal(day.length, 1440);
    assert.equal(errorCode(await gql(api.url, '{ hotProducts { rank } }')), 'UNAUTHENTICATED');
    for (const key of [TEST_KEYS.crm, TEST_KEYS.ops])
      assert.ok(Array.isArray((await gql(api.url, '{ hotProducts { rank } }', {}, key)).data?.hotProducts));

    const refused = collect(ws, 'subscription { hotProductsUpdated(limit: 0) { windowEnd } }');
    await waitFor('the subscription to be refused', () => refused.errors.length > 0, 5_000);
    assert.match(JSON.stringify(refused.errors), /BAD_USER_INPUT/);
    refused.dispose();
  });
});

describe('hot-products with a partition that never sees a record', () => {
  const IDLE_MS = 8_000;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  let service: ServiceProcess;
  let ws: ReturnType<typeof wsClient>;
  let subscription: ReturnType<typeof collect>;
  let group: string;

  before(async () => {
    db = await createTestDatabase();
    topic = await createTestTopic('product-clicks', 3);
    group = randomName('hot-products-idle');
    service = await startServiceProcess({
      DATABASE_URL: db.url,
      PRODUCT_CLICKS_TOPIC: topic.topic,
      HOT_PRODUCTS_GROUP: group,
      JOBS: 'hot-products',
      IDLE_TIMEOUT_MS: String(IDLE_MS),
    });
    ws = wsClient(service.url, TEST_KEYS.viewer);
    subscription = collect(ws, 'subscription { hotProductsUpdated { windowEnd products { productId clicks } } }');
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    subscription?.dispose();
    await ws?.dispose();
    await service?.kill();
    await db?.drop();
    await topic?.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should hold the boundary back until the empty partition has been idle for IDLE_TIMEOUT_MS, then publish it', async () => {
    // The group join completes in the background after "service ready": wait for it to be logged.
    const assigned = await waitFor(
      'the worker to own all 3 partitions',
      () => service.logs.find((l) => l.msg === 'partitions assigned' && (l.partitions as number[]).length === 3),
      30_000,
    );
    assert.ok(assigned, 'the worker owns all 3 partitions');
    const assignedAt = Number(assigned.time);
    // Clicks and the push past T on partitions 0 and 1 only; partition 2 stays empty.
    await produce(topic.topic, [
      record(['p1', T - 10 * MIN, 'tv', 0]),
      record(['p1', T - 9 * MIN, 'tv', 1]),
      record(['p2', T - 8 * MIN, 'tv', 1]),
      pushPast(0),
      pushPast(1),
    ]);
    const rows = async () =>
      sql<{ partition: number; watermark_ms: bigint | null }>(
        db.url,
        'SELECT `partition`, watermark_ms FROM consumer_offset WHERE group_id = ? ORDER BY `partition`',
        [group],
      );
    await waitFor(
      'partitions 0 and 1 past T',
      async () => (await rows()).filter((r) => r.watermark_ms !== null && Number(r.watermark_ms) >= T).length === 2,
      20_000,
      50,
    );
    const passedAt = Date.now();
    assert.ok(
      passedAt < assignedAt + IDLE_MS - 1_000,
      `partitions 0 and 1 passed T only ${passedAt - assignedAt} ms after the assignment: too late to show the hold`,
    );
    assert.equal((await rows()).find((r) => r.partition === 2)?.watermark_ms ?? null, null);
    await new Promise((r) => setTimeout(r, 1_500));
    const [early] = await sql<{ n: bigint }>(db.url, 'SELECT COUNT(*) AS n FROM hot_products_emission');
    assert.equal(Number(early.n), 0, 'published while partition 2 had no watermark');

    await waitFor('the ranking at T', () => subscription.events.length > 0, IDLE_MS + 15_000);
    assert.deepEqual((subscription.events[0] as any).hotProductsUpdated, {
      windowEnd: iso(T),
      products: [
        { productId: 'p1', clicks: 2 },
        { productId: 'p2', clicks: 1 },
      ],
    });
    const [claim] = await sql<{ claimed_at: Date }>(
      db.url,
      'SELECT claimed_at FROM hot_products_emission WHERE window_end = ?',
      [new Date(T)],
    );
    assert.ok(
      claim.claimed_at.getTime() >= assignedAt + IDLE_MS - 100,
      `claimed ${claim.claimed_at.getTime() - assignedAt} ms after the assignment`,
    );
    // The empty partition's watermark now follows wall-clock time (minus the 5 s grace).
    const p2 = (await rows()).find((r) => r.partition === 2)!;
    assert.ok(Number(p2.watermark_ms) > Date.now() - 60_000, `partition 2 watermark ${p2.watermark_ms}`);
  });
});
