// The live dashboard in a real browser: Debian's Chromium driven by
// playwright-core against the real service (worker and API processes, real
// Kafka, MariaDB and Redis). The page is the one `npm run build` puts in
// web/dist and the API process serves at `/`.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { formatProductClick } from '../../src/jobs/hot-products/product-click-format.js';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { freePort } from '../helpers/free-port.js';
import { gql } from '../helpers/graphql-client.js';
import { latestOffsets } from '../helpers/job-runs.js';
import { startServiceProcess, TEST_API_KEYS, TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { createTestDatabase, createTestTopic, produce, randomName, sql, waitFor } from '../helpers/services.js';

/** The machine's Chromium (Debian package `chromium`; scripts/test.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = path.resolve(import.meta.dirname, '../../../test-results/dashboard.png');

const calendar = new ZonedCalendar('Asia/Shanghai');
const MIN = 60_000;

/** Recharges per city: [orders, failed]. Top 5 by orders: 441900, 440100, 440300, 440600, then 440500 before 441300 (tie, by code). */
const RECHARGES: Record<string, [orders: number, failed: number]> = {
  '441900': [6, 1], // Dongguan
  '440100': [5, 2], // Guangzhou
  '440300': [4, 3], // Shenzhen
  '440600': [3, 0], // Foshan
  '440500': [2, 2], // Shantou
  '441300': [2, 0], // Huizhou
  '440400': [1, 1], // Zhuhai
};
const ORDERS = Object.values(RECHARGES).reduce((n, [o]) => n + o, 0);
/** Clicks per product in the ranked hour: p2 and p3 tie (p2 ranks first). */
const CLICKS: [productId: string, clicks: number, category: string | null][] = [
  ['p1', 5, 'phone'],
  ['p2', 3, 'tv'],
  ['p3', 3, 'phone'],
  ['p4', 1, null],
];
/** Users with one ordinary behaviour event today (daily active users, not abnormal). */
const ACTIVE_UIDS = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];

interface MapDatum {
  name: string;
  value: number;
  cityCode: string;
}

describe('the dashboard page in Chromium', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const topics: Record<'behavior' | 'recharge' | 'clicks', Awaited<ReturnType<typeof createTestTopic>>> = {} as never;
  let env: Record<string, string>;
  let worker: ServiceProcess;
  let api: ServiceProcess;
  let port: number;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const pageErrors: string[] = [];
  const run = randomName('u').slice(2, 8);
  const uidA = `a${run}`;
  const uidB = `b${run}`;
  const uidC = `c${run}`;
  let today: string;

  const q = async <T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await gql<T>(`http://127.0.0.1:${port}/graphql`, query, variables, TEST_KEYS.viewer);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    return res.data!;
  };
  const chart = <T>(name: string, read: string): Promise<T> =>
    // `read` is evaluated in the page with `c` = the ECharts instance and `o` = its option.
    page.evaluate(
      ({ name, read }) => {
        const c = (globalThis as any).__dashboard.charts[name];
        // eslint-disable-next-line @typescript-eslint/no-implied-eval -- `read` is a constant expression of this test, run in the page
        return new Function('c', 'o', `return (${read});`)(c, c.getOption());
      },
      { name, read },
    ) as Promise<T>;

  /** Three enterOrderPage events of `uid` at the current second: abnormal once its 4 s windows close (idle after 1 s). */
  const abnormalBurst = (uid: string) => {
    const sec = Math.floor(Date.now() / 1000);
    return Array.from({ length: 3 }, () => ({
      key: uid,
      value: formatUserBehavior({ uid, phone: '13800138000', eventKey: 'enterOrderPage', eventTimeSec: sec }),
    }));
  };

  async function caughtUp(group: string, topic: string): Promise<void> {
    const latest = await latestOffsets(topic);
    await waitFor(
      `${group} to commit every record of ${topic}`,
      async () => {
        const rows = await sql<{ partition: number; next_offset: bigint }>(
          db.url,
          'SELECT `partition`, next_offset FROM consumer_offset WHERE group_id = ? AND topic = ?',
          [group, topic],
        );
        const at = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
        return [...latest].every(([p, high]) => high === 0 || at.get(p) === high);
      },
      60_000,
    );
  }

  const startApi = () => startServiceProcess({ ...env, ROLES: 'api', PORT: String(port) });

  before(async () => {
    // The day must not change under the test: wait out the last two minutes before local midnight.
    const toMidnight = calendar.endOfDay(calendar.dateOf(Date.now())) - Date.now();
    if (toMidnight < 2 * MIN) await new Promise((r) => setTimeout(r, toMidnight + 5_000));
    today = calendar.dateOf(Date.now());

    db = await createTestDatabase();
    topics.behavior = await createTestTopic('user-behavior', 3);
    topics.recharge = await createTestTopic('recharge', 3);
    topics.clicks = await createTestTopic('product-clicks', 3);
    env = {
      DATABASE_URL: db.url,
      API_KEYS: TEST_API_KEYS,
      USER_BEHAVIOR_TOPIC: topics.behavior.topic,
      RECHARGE_TOPIC: topics.recharge.topic,
      PRODUCT_CLICKS_TOPIC: topics.clicks.topic,
      ABNORMAL_ORDERS_GROUP: randomName('abnormal-orders'),
      RECHARGE_GROUP: randomName('recharge-metrics'),
      HOT_PRODUCTS_GROUP: randomName('hot-products'),
      DAU_GROUP: randomName('daily-active-users'),
      JOBS: 'abnormal-orders,recharge-metrics,hot-products,daily-active-users',
      TIME_ZONE: 'Asia/Shanghai',
      // Small windows closed by idleness, so a burst becomes an abnormal user within seconds.
      // The grace period absorbs a slow machine: a burst read more than ~5 s after it was
      // produced would otherwise find its windows already closed by the idle watermark.
      ABNORMAL_WINDOW_SIZE_MS: '4000',
      ABNORMAL_WINDOW_ADVANCE_MS: '2000',
      GRACE_MS: '3000',
      IDLE_TIMEOUT_MS: '1000',
    };

    // Recharges of the last few minutes (all today), clicks 10 minutes before the last 5-minute boundary
    // (inside the ranked hour at any time during the test), six active users and abnormal user A.
    const now = Date.now();
    const first = Math.max(now - 4 * MIN, calendar.startOfDay(today) + 1_000);
    let n = 0;
    const recharges = Object.entries(RECHARGES).flatMap(([cityCode, [orders, failed]]) =>
      Array.from({ length: orders }, (_, i) => {
        const notifyTimeMs = first + ((n++ * 7_919) % (now - first));
        const orderId = `${run}-${cityCode}-${i}`;
        return {
          key: orderId,
          value: formatRecharge(
            {
              orderId,
              cityCode,
              chargefee: '50.00',
              bussinessRst: i < failed ? '0001' : '0000',
              requestTimeMs: notifyTimeMs - 12_000,
              notifyTimeMs,
            },
            calendar,
          ),
        };
      }),
    );
    recharges.push({ ...recharges[0] }); // a duplicate orderId: counted once
    const rankedEnd = Math.floor(now / (5 * MIN)) * 5 * MIN;
    const clicks = CLICKS.flatMap(([productId, count, category]) =>
      Array.from({ length: count }, (_, i) => ({
        key: `u${i}`,
        value: formatProductClick({
          eventTimeMs: rankedEnd - 10 * MIN + i * 1_000,
          productId,
          action: 'click',
          userId: `u${i}`,
          category,
        }),
      })),
    );
    const active = ACTIVE_UIDS.map((uid) => ({
      key: uid,
      value: formatUserBehavior({
        uid: `${uid}${run}`,
        phone: '13900000000',
        eventKey: 'browse',
        eventTimeSec: Math.floor(now / 1000),
      }),
    }));
    await produce(topics.recharge.topic, recharges);
    await produce(topics.clicks.topic, clicks);
    await produce(topics.behavior.topic, [...active, ...abnormalBurst(uidA)]);

    worker = await startServiceProcess({ ...env, ROLES: 'worker' });
    port = await freePort();
    api = await startApi();
    base = `http://127.0.0.1:${port}`;
    await caughtUp(env.RECHARGE_GROUP, topics.recharge.topic);
    await caughtUp(env.HOT_PRODUCTS_GROUP, topics.clicks.topic);
    await caughtUp(env.DAU_GROUP, topics.behavior.topic);
    await waitFor(
      `abnormal user ${uidA}`,
      async () => (await q(`query($uid: ID!) { unpaidUser(uid: $uid) { uid } }`, { uid: uidA })).unpaidUser,
      30_000,
    );

    userDataDir = await mkdtemp(path.join(tmpdir(), 'dashboard-chromium-'));
    // playwright-core drives the Debian build; it refuses --user-data-dir in args and takes it here instead.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1600, height: 1000 },
      timeout: 60_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    /* eslint-disable @typescript-eslint/no-unnecessary-condition -- a before() that failed part-way leaves the later fixtures unassigned */
    await context?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await api?.kill();
    await worker?.kill();
    await db?.drop();
    for (const t of Object.values(topics)) await t.delete();
    /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  });

  it('should ask for an API key and render the map and charts with the values in the database', async () => {
    await page.goto(`${base}/`);
    await page.locator('#key-dialog').waitFor({ state: 'visible' });
    // A key the service does not know is refused and asked for again.
    await page.fill('#api-key', 'not-a-key');
    await page.click('#key-dialog button[type=submit]');
    await page.locator('#key-error', { hasText: 'refused' }).waitFor({ timeout: 10_000 });
    await page.fill('#api-key', TEST_KEYS.crm);
    await page.click('#key-dialog button[type=submit]');
    await page.waitForFunction(() => (globalThis as any).__dashboard?.ready === true, null, { timeout: 20_000 });
    assert.equal(
      await page.evaluate(() => (globalThis as any).localStorage.getItem('rt-analytics.dashboard.apiKey')),
      TEST_KEYS.crm,
    );
    // The ad-clicks panel read its totals (its job does not run here: zeros, and no error).
    assert.match((await page.textContent('#ad-clicks-total')) ?? '', /^0 counted, 0 blocked \(0 by user, 0 by IP\)$/);

    // Map: every city's failed recharges, as in recharge_city_daily and cityRechargeStats.
    const map = await chart<MapDatum[]>(
      'map',
      'o.series[0].data.map((d) => ({ name: d.name, value: d.value, cityCode: d.cityCode }))',
    );
    assert.equal(map.length, 21);
    const dbRows = await sql<{ city_code: string; failed: string }>(
      db.url,
      // A city-day's partition-local rows summed, as the API's reads do.
      'SELECT city_code, SUM(failed) AS failed FROM recharge_city_daily WHERE day = ? GROUP BY city_code',
      [today],
    );
    const dbFailed = new Map(dbRows.map((r) => [r.city_code, Number(r.failed)]));
    const { cityRechargeStats } = await q<{
      cityRechargeStats: { cityCode: string; cityName: string; failed: number }[];
    }>('{ cityRechargeStats { cityCode cityName failed } }');
    for (const c of cityRechargeStats) {
      const datum = map.find((d) => d.cityCode === c.cityCode);
      assert.ok(datum, `city ${c.cityCode} on the map`);
      assert.equal(datum.name, c.cityName, 'map regions are matched by the API cityName');
      assert.equal(datum.value, c.failed, `failed of ${c.cityCode} (GraphQL)`);
      assert.equal(datum.value, dbFailed.get(c.cityCode) ?? 0, `failed of ${c.cityCode} (database)`);
      assert.equal(
        datum.value,
        (RECHARGES[c.cityCode] as (typeof RECHARGES)[string] | undefined)?.[1] ?? 0,
        `failed of ${c.cityCode} (produced)`,
      );
    }
    // The shipped geometry has a region for every city name of the API: ECharts places each on the canvas.
    const placed = await page.evaluate(
      (names) => {
        const c = (globalThis as any).__dashboard.charts.map;
        return names.filter((n: string) => Array.isArray(c.convertToPixel({ seriesIndex: 0 }, n)));
      },
      cityRechargeStats.map((c) => c.cityName),
    );
    assert.equal(placed.length, 21);

    // Top 5 cities with their success rates: as topCities.
    const { topCities } = await q<{ topCities: { cityCode: string; orders: number; successRate: number }[] }>(
      '{ topCities(limit: 5) { cityCode orders successRate } }',
    );
    const top = await chart<{ value: number; cityCode: string; successRate: number }[]>(
      'topCities',
      'o.series[0].data',
    );
    assert.deepEqual(
      top.map((d) => d.cityCode),
      ['441900', '440100', '440300', '440600', '440500'],
    );
    assert.deepEqual(
      top.map((d) => [d.cityCode, d.value, d.successRate]),
      topCities.map((c) => [c.cityCode, c.orders, c.successRate]),
    );

    // Per-minute recharges of the last hour: as rechargePerMinute.
    const perMinute = await chart<[number, number][]>('perMinute', 'o.series[0].data');
    assert.equal(perMinute.length, 60);
    assert.equal(
      perMinute.reduce((s, [, orders]) => s + orders, 0),
      ORDERS,
    );
    const from = new Date(perMinute[0][0]).toISOString();
    const to = new Date(perMinute[59][0] + MIN).toISOString();
    const { rechargePerMinute } = await q<{ rechargePerMinute: { minuteStart: string; orders: number }[] }>(
      'query($from: DateTime!, $to: DateTime!) { rechargePerMinute(from: $from, to: $to) { minuteStart orders } }',
      { from, to },
    );
    assert.deepEqual(
      perMinute,
      rechargePerMinute.map((m) => [Date.parse(m.minuteStart), m.orders]),
    );

    // Hot products of the last hour: as hotProducts.
    const hot = await chart<{ value: number; productId: string }[]>('hotProducts', 'o.series[0].data');
    assert.deepEqual(
      hot.map((d) => [d.productId, d.value]),
      CLICKS.map(([p, n]) => [p, n]),
    );
    const { hotProducts } = await q<{ hotProducts: { productId: string; clicks: number }[] }>(
      '{ hotProducts(limit: 10) { productId clicks } }',
    );
    assert.deepEqual(
      hot.map((d) => [d.productId, d.value]),
      hotProducts.map((p) => [p.productId, p.clicks]),
    );

    // Today's active and new users: as dailyActiveUsers (six users and abnormal user A).
    const { dailyActiveUsers } = await q<{ dailyActiveUsers: { activeUsers: number; newUsers: number }[] }>(
      'query($d: Date!) { dailyActiveUsers(from: $d, to: $d) { activeUsers newUsers } }',
      { d: today },
    );
    assert.equal(dailyActiveUsers[0].activeUsers, ACTIVE_UIDS.length + 1);
    assert.equal(await page.textContent('#kpi-active-users'), String(dailyActiveUsers[0].activeUsers));
    assert.equal(await page.textContent('#kpi-new-users'), String(dailyActiveUsers[0].newUsers));
    assert.equal(await page.textContent('#kpi-orders'), String(ORDERS));

    // The feed holds abnormal user A; the connection is live.
    await page.locator(`#feed tr[data-uid="${uidA}"]`).waitFor();
    assert.equal(await page.getAttribute('#connection', 'data-state'), 'live');
  });

  it('should show a recharge failure and a new abnormal user from the subscriptions, without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as any).__sameDocument = true;
    });
    // One more failure in Zhuhai (440400): the map follows cityMetricsUpdated.
    const notifyTimeMs = Date.now();
    await produce(topics.recharge.topic, [
      {
        key: `${run}-live`,
        value: formatRecharge(
          {
            orderId: `${run}-live`,
            cityCode: '440400',
            chargefee: '30.00',
            bussinessRst: '0001',
            requestTimeMs: notifyTimeMs - 5_000,
            notifyTimeMs,
          },
          calendar,
        ),
      },
    ]);
    await page.waitForFunction(
      () =>
        (globalThis as any).__dashboard.charts.map.getOption().series[0].data.find((d: any) => d.cityCode === '440400')
          ?.value === 2,
      null,
      { timeout: 30_000 },
    );
    const [zhuhai] = await sql<{ failed: string }>(
      db.url,
      'SELECT SUM(failed) AS failed FROM recharge_city_daily WHERE day = ? AND city_code = ?',
      [today, '440400'],
    );
    assert.equal(Number(zhuhai.failed), 2);

    // Abnormal user B, produced into Kafka now: appears at the top of the feed.
    await produce(topics.behavior.topic, abnormalBurst(uidB));
    await page.locator(`#feed tr[data-uid="${uidB}"]`).waitFor({ timeout: 30_000 });
    assert.equal(await page.getAttribute('#feed tbody tr:first-child', 'data-uid'), uidB, 'newest first');
    assert.equal(await page.evaluate(() => (globalThis as any).__sameDocument), true, 'the page was not reloaded');
    const handle = await page.evaluate(() => {
      const d = (globalThis as any).__dashboard;
      return { snapshots: d.snapshots, events: d.events };
    });
    assert.equal(handle.snapshots, 1, 'one snapshot read: the rest came from subscriptions');
    assert.ok(handle.events.abnormalUserDetected >= 1);
    assert.ok(handle.events.cityMetricsUpdated >= 1);
    // The detection carried no status; the page read it (PENDING for a new user).
    await page.waitForFunction(
      (uid) =>
        (globalThis as any).document.querySelector(`#feed select[data-uid="${uid}"]`)?.dataset.saved === 'PENDING',
      uidB,
    );
  });

  it('should set a callback status from the page with a crm key, visible through the GraphQL API', async () => {
    await page.selectOption(`#feed select[data-uid="${uidB}"]`, 'CONTACTED');
    await page.locator(`#feed tr[data-uid="${uidB}"] .col-note.note-ok`).waitFor({ timeout: 10_000 });
    const { unpaidUser } = await q<{ unpaidUser: { callbackStatus: string } }>(
      'query($uid: ID!) { unpaidUser(uid: $uid) { callbackStatus } }',
      { uid: uidB },
    );
    assert.equal(unpaidUser.callbackStatus, 'CONTACTED');
  });

  it('should show the error code when a viewer key sets a callback status, and change nothing', async () => {
    await page.click('#change-key');
    await page.fill('#api-key', TEST_KEYS.viewer);
    await Promise.all([page.waitForEvent('load'), page.click('#key-dialog button[type=submit]')]);
    await page.waitForFunction(() => (globalThis as any).__dashboard?.ready === true, null, { timeout: 20_000 });
    await page.selectOption(`#feed select[data-uid="${uidA}"]`, 'DECLINED');
    const note = page.locator(`#feed tr[data-uid="${uidA}"] .col-note.note-error`);
    await note.waitFor({ timeout: 10_000 });
    assert.equal(await note.textContent(), 'FORBIDDEN');
    assert.equal(await page.inputValue(`#feed select[data-uid="${uidA}"]`), 'PENDING', 'the select goes back');
    assert.equal(
      await page.inputValue(`#feed select[data-uid="${uidB}"]`),
      'CONTACTED',
      'statuses are read back at load',
    );
    const { unpaidUser } = await q<{ unpaidUser: { callbackStatus: string } }>(
      'query($uid: ID!) { unpaidUser(uid: $uid) { callbackStatus } }',
      { uid: uidA },
    );
    assert.equal(unpaidUser.callbackStatus, 'PENDING');
  });

  it('should say when the connection drops and comes back, and stay live after it', async () => {
    await api.kill('SIGTERM');
    await page.waitForSelector('#connection[data-state="down"]', { timeout: 20_000 });
    assert.match((await page.textContent('#connection'))!, /Connection lost at/);
    api = await startApi();
    await page.waitForSelector('#connection[data-state="live"]', { timeout: 60_000 });
    assert.match((await page.textContent('#connection'))!, /reconnected at .* after \d+ s/);
    const { drops, reconnections, snapshots } = await page.evaluate(() => {
      const d = (globalThis as any).__dashboard;
      return { drops: d.connection.drops, reconnections: d.connection.reconnections, snapshots: d.snapshots };
    });
    assert.deepEqual([drops, reconnections], [1, 1]);
    await page.waitForFunction(() => (globalThis as any).__dashboard.snapshots >= 2, null, { timeout: 10_000 });
    assert.ok(snapshots >= 1);

    // The subscriptions were renewed: abnormal user C arrives through the new connection.
    await produce(topics.behavior.topic, abnormalBurst(uidC));
    await page.locator(`#feed tr[data-uid="${uidC}"]`).waitFor({ timeout: 30_000 });
    await page.locator('#feed-total', { hasText: '3 flagged in total' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(pageErrors, []);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.waitForTimeout(3_000); // the new row's highlight fades (2.5 s): a screenshot of the settled page
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
