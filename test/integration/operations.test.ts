// Operator operations against the real services: offset resets while a producer keeps
// writing, dry runs, range checks, pause/resume, roles, query limits, the rate
// limit and the metrics endpoint.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { errorCode, gql } from '../helpers/graphql-client.js';
import {
  jobProgress,
  latestOffsets,
  rowsAsText,
  runToEnd,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  waitForDone,
  type TestDatabase,
  type TestTopic,
} from '../helpers/job-runs.js';
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import { TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, sql, waitFor } from '../helpers/services.js';

const RECORDS = 20_000;
const CHUNKS = 20;
const GENERATOR = { seed: 777, users: 1500, startTimeMs: Date.UTC(2026, 1, 1), eventsPerSecond: 200, count: RECORDS };

const RESET = `mutation($input: ResetConsumerOffsetsInput!) {
  resetConsumerOffsets(input: $input) { groupId topic dryRun applied acknowledged recordsToRecount partitions { partition before after } }
}`;

describe('operations: offset resets, job control, limits and metrics', () => {
  let topic: TestTopic;
  const runs = new TestRuns();
  let latest = new Map<number, number>();
  let reference: { rows: unknown[]; offsets: unknown[] };
  let live: ServiceProcess;
  let liveDb: TestDatabase;
  let group: string;
  const resetAnswers: any[] = [];

  const freshDb = () => runs.freshDb(sampleVipUids(GENERATOR));

  const start = (db: TestDatabase, groupId: string, extra: Record<string, string> = {}) =>
    runs.start({
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: topic.topic,
      ABNORMAL_ORDERS_GROUP: groupId,
      JOBS: 'abnormal-orders',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
      IDLE_TIMEOUT_MS: '3600000',
      JOB_CONTROL_POLL_MS: '500',
      ...extra,
    });

  const progress = (db: TestDatabase) => () => jobProgress(db.url, latest, { windowed: true });

  async function snapshot(db: TestDatabase) {
    return {
      rows: await sql(
        db.url,
        'SELECT uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end FROM unpayment_record ORDER BY uid',
      ),
      offsets: rowsAsText(
        await sql(
          db.url,
          'SELECT `partition`, next_offset, replay_from, watermark_ms FROM consumer_offset ORDER BY `partition`',
        ),
      ),
    };
  }

  before(async () => {
    topic = await runs.createTopic();
    liveDb = await freshDb();
    group = randomName('abnormal-ops');
    live = await start(liveDb, group, { RATE_LIMIT_PER_MINUTE: '100000' });
    const records = [...generateUserBehavior(GENERATOR)].map((r) => ({ key: r.key, value: r.value }));
    const chunk = RECORDS / CHUNKS;
    let timestampOfChunk3 = 0;
    // The producer keeps writing while the operator resets the live job three ways.
    for (let i = 0; i < CHUNKS; i++) {
      if (i === 3) timestampOfChunk3 = Date.now();
      await produce(topic.topic, records.slice(i * chunk, (i + 1) * chunk));
      await new Promise((r) => setTimeout(r, 150));
      const input =
        i === 6
          ? { groupId: group, to: 'EARLIEST' }
          : i === 11
            ? { groupId: group, to: 'TIMESTAMP', timestamp: new Date(timestampOfChunk3).toISOString() }
            : i === 16
              ? { groupId: group, to: 'OFFSET', partitions: [0], offset: 100 }
              : null;
      if (input) {
        const res = await gql(live.url, RESET, { input }, TEST_KEYS.ops);
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        resetAnswers.push(res.data.resetConsumerOffsets);
      }
    }
    const end = Math.floor((GENERATOR.startTimeMs + 86_400_000) / 1000);
    await produce(topic.topic, flushRecords(end));
    latest = await latestOffsets(topic.topic);
    await waitForDone('the live run to finish', progress(liveDb), 180_000);

    const refDb = await freshDb();
    await runToEnd(
      'the reference run to finish',
      () => start(refDb, randomName('abnormal-ref')),
      progress(refDb),
      180_000,
    );
    reference = await snapshot(refDb);
  });

  after(() => runs.cleanup());

  it('should end with exactly the results of an uninterrupted run after resets to earliest, a timestamp and an offset', async () => {
    assert.equal(resetAnswers.length, 3);
    assert.ok(
      resetAnswers.every((a) => a.applied && a.acknowledged && !a.dryRun),
      JSON.stringify(resetAnswers),
    );
    assert.deepEqual(
      resetAnswers[0].partitions.map((p: any) => p.after),
      [0, 0, 0],
    );
    assert.deepEqual(
      resetAnswers[2].partitions.map((p: any) => [p.partition, p.after]),
      [[0, 100]],
    );
    assert.ok(reference.rows.length > 10, `only ${reference.rows.length} rows in the reference run`);
    assert.deepEqual(await snapshot(liveDb), reference);
    const audit = await sql<{ mode: string; role: string }>(
      liveDb.url,
      'SELECT mode, role FROM offset_reset_audit ORDER BY id',
    );
    assert.deepEqual(
      audit.map((a) => a.mode),
      ['EARLIEST', 'EARLIEST', 'EARLIEST', 'TIMESTAMP', 'TIMESTAMP', 'TIMESTAMP', 'OFFSET'],
    );
    assert.ok(audit.every((a) => a.role === 'ops'));
  });

  it('should answer a dry run with the plan and change nothing', async () => {
    const before = await sql(
      liveDb.url,
      'SELECT `partition`, next_offset, replay_from, epoch FROM consumer_offset ORDER BY `partition`',
    );
    const res = await gql(live.url, RESET, { input: { groupId: group, to: 'EARLIEST', dryRun: true } }, TEST_KEYS.ops);
    const plan = res.data.resetConsumerOffsets;
    assert.equal(plan.dryRun, true);
    assert.equal(plan.applied, false);
    assert.deepEqual(
      plan.partitions.map((p: any) => [p.partition, p.before, p.after]),
      [...latest].sort().map(([p, l]) => [p, l, 0]),
    );
    assert.equal(plan.recordsToRecount, sumOffsets(latest));
    assert.deepEqual(
      await sql(
        liveDb.url,
        'SELECT `partition`, next_offset, replay_from, epoch FROM consumer_offset ORDER BY `partition`',
      ),
      before,
    );
  });

  it('should refuse an offset outside [earliest, latest] with the range, and unknown groups or partitions', async () => {
    const res = await gql(
      live.url,
      RESET,
      { input: { groupId: group, to: 'OFFSET', partitions: [1], offset: 10_000_000 } },
      TEST_KEYS.ops,
    );
    assert.equal(errorCode(res), 'BAD_USER_INPUT');
    assert.equal(res.errors![0].extensions!.earliest, 0);
    assert.equal(res.errors![0].extensions!.latest, latest.get(1));
    assert.match(res.errors![0].message, new RegExp(`\\[0, ${latest.get(1)}\\]`));
    assert.equal(
      errorCode(await gql(live.url, RESET, { input: { groupId: group, to: 'OFFSET' } }, TEST_KEYS.ops)),
      'BAD_USER_INPUT',
    );
    assert.equal(
      errorCode(
        await gql(live.url, RESET, { input: { groupId: group, to: 'EARLIEST', partitions: [7] } }, TEST_KEYS.ops),
      ),
      'BAD_USER_INPUT',
    );
    assert.equal(
      errorCode(await gql(live.url, RESET, { input: { groupId: 'no-such-group', to: 'EARLIEST' } }, TEST_KEYS.ops)),
      'NOT_FOUND',
    );
  });

  it('should stop consumption on pause (lag grows, nothing committed) and catch up on resume', async () => {
    const JOBS = '{ jobs { name state partitions { partition owner committedOffset latest lag } } }';
    const paused = await gql(
      live.url,
      'mutation { pauseJob(job: "abnormal-orders") { name state } }',
      {},
      TEST_KEYS.ops,
    );
    assert.deepEqual(paused.data.pauseJob, { name: 'abnormal-orders', state: 'PAUSED' });
    await new Promise((r) => setTimeout(r, 1500));
    const committedBefore = await sql(
      liveDb.url,
      'SELECT `partition`, next_offset FROM consumer_offset ORDER BY `partition`',
    );
    const more = [
      ...generateUserBehavior({
        ...GENERATOR,
        seed: 778,
        count: 3000,
        startTimeMs: GENERATOR.startTimeMs + 2 * 86_400_000,
      }),
    ].map((r) => ({ key: r.key, value: r.value }));
    await produce(topic.topic, more);
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(
      await sql(liveDb.url, 'SELECT `partition`, next_offset FROM consumer_offset ORDER BY `partition`'),
      committedBefore,
    );
    const during = await gql(live.url, JOBS, {}, TEST_KEYS.viewer);
    const job = during.data.jobs.find((j: any) => j.name === 'abnormal-orders');
    assert.equal(job.state, 'PAUSED');
    assert.equal(
      job.partitions.reduce((s: number, p: { lag: number }) => s + p.lag, 0),
      3000,
    );
    const resumed = await gql(live.url, 'mutation { resumeJob(job: "abnormal-orders") { state } }', {}, TEST_KEYS.ops);
    assert.notEqual(resumed.data.resumeJob.state, 'PAUSED');
    await waitFor(
      'the job to catch up',
      async () => {
        const r = await gql(live.url, JOBS, {}, TEST_KEYS.viewer);
        const j = r.data?.jobs.find((x: any) => x.name === 'abnormal-orders');
        return j?.partitions.every((p: any) => p.lag === 0) ? j : null;
      },
      60_000,
      300,
    );
    const after = await gql(live.url, JOBS, {}, TEST_KEYS.viewer);
    const owners = after.data.jobs[0].partitions.map((p: any) => p.owner);
    assert.ok(
      owners.every((o: string | null) => typeof o === 'string' && o.endsWith(`:${live.child.pid}`)),
      JSON.stringify(owners),
    );
  });

  it('should check every role against every operation', async () => {
    const ops: [string, string, Record<string, unknown>][] = [
      ['resetConsumerOffsets', RESET, { input: { groupId: group, to: 'LATEST', dryRun: true } }],
      ['pauseJob', 'mutation { pauseJob(job: "abnormal-orders") { state } }', {}],
      ['resumeJob', 'mutation { resumeJob(job: "abnormal-orders") { state } }', {}],
      ['rebuildJob', 'mutation { rebuildJob(job: "no-such-job") { lostToRetention } }', {}],
      ['setCallbackStatus', 'mutation { setCallbackStatus(uid: "no-such-uid", status: CONTACTED) { uid } }', {}],
      ['jobs', '{ jobs { name } }', {}],
      ['consumerOffsets', '{ consumerOffsets { partition } }', {}],
      ['unpaidUsers', '{ unpaidUsers(first: 1) { totalCount } }', {}],
    ];
    // Expected outcome per role: ok, or the error code. rebuildJob and setCallbackStatus name
    // things that do not exist, so an allowed role gets NOT_FOUND (past the role check).
    const expected: Record<string, Record<string, string>> = {
      none: Object.fromEntries(ops.map(([n]) => [n, 'UNAUTHENTICATED'])),
      unknown: Object.fromEntries(ops.map(([n]) => [n, 'UNAUTHENTICATED'])),
      viewer: {
        resetConsumerOffsets: 'FORBIDDEN',
        pauseJob: 'FORBIDDEN',
        resumeJob: 'FORBIDDEN',
        rebuildJob: 'FORBIDDEN',
        setCallbackStatus: 'FORBIDDEN',
        jobs: 'ok',
        consumerOffsets: 'ok',
        unpaidUsers: 'ok',
      },
      crm: {
        resetConsumerOffsets: 'FORBIDDEN',
        pauseJob: 'FORBIDDEN',
        resumeJob: 'FORBIDDEN',
        rebuildJob: 'FORBIDDEN',
        setCallbackStatus: 'NOT_FOUND',
        jobs: 'ok',
        consumerOffsets: 'ok',
        unpaidUsers: 'ok',
      },
      ops: {
        resetConsumerOffsets: 'ok',
        pauseJob: 'ok',
        resumeJob: 'ok',
        rebuildJob: 'NOT_FOUND',
        setCallbackStatus: 'NOT_FOUND',
        jobs: 'ok',
        consumerOffsets: 'ok',
        unpaidUsers: 'ok',
      },
    };
    const keys: Record<string, string | undefined> = {
      none: undefined,
      unknown: 'not-a-key',
      viewer: TEST_KEYS.viewer,
      crm: TEST_KEYS.crm,
      ops: TEST_KEYS.ops,
    };
    const actual: Record<string, Record<string, string>> = {};
    for (const [role, key] of Object.entries(keys)) {
      actual[role] = {};
      for (const [name, query, vars] of ops) {
        const res = await gql(live.url, query, vars, key);
        actual[role][name] = res.errors ? (errorCode(res) ?? 'no code') : 'ok';
      }
    }
    assert.deepEqual(actual, expected);
  });

  it('should refuse an abusive query by depth and by cost, and answer RATE_LIMITED once a key spent its budget', async () => {
    // Own keys and a small budget, so that the limit is deterministic (budgets live in Redis, per key).
    const keys = { viewer: randomName('viewer-key'), crm: randomName('crm-key') };
    const limited = await start(await freshDb(), randomName('abnormal-limits'), {
      ROLES: 'api',
      GRAPHQL_MAX_DEPTH: '2',
      RATE_LIMIT_PER_MINUTE: '5',
      API_KEYS: `viewer:${keys.viewer},crm:${keys.crm}`,
    });
    assert.equal((await gql(limited.url, '{ jobs { partitions { partition } } }', {}, keys.viewer)).errors, undefined);
    const tooDeep = await gql(limited.url, '{ unpaidUsers { edges { node { uid } } } }', {}, keys.viewer);
    assert.equal(errorCode(tooDeep), 'DEPTH_LIMIT');
    assert.match(tooDeep.errors![0].message, /depth/);
    const costly = `{ ${Array.from({ length: 4 }, (_, i) => `a${i}: unpaidUsers(first: 200) { totalCount pageInfo { hasNextPage } }`).join(' ')} }`;
    const res = await gql(
      live.url,
      `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: unpaidUsers(first: 200) { edges { node { uid phone callbackStatus } } }`).join(' ')} }`,
      {},
      TEST_KEYS.viewer,
    );
    assert.equal(errorCode(res), 'QUERY_TOO_COMPLEX');
    assert.ok(Number(res.errors![0].extensions!.cost) > Number(res.errors![0].extensions!.maxCost));
    assert.notEqual(errorCode(await gql(limited.url, costly, {}, keys.viewer)), 'QUERY_TOO_COMPLEX');

    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 7; i++) codes.push(errorCode(await gql(limited.url, '{ jobs { name } }', {}, keys.crm)));
    assert.deepEqual(codes, [undefined, undefined, undefined, undefined, undefined, 'RATE_LIMITED', 'RATE_LIMITED']);
    const http = await fetch(limited.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.crm}` },
      body: '{"query":"{ jobs { name } }"}',
    });
    assert.equal(http.status, 429);
    assert.ok(Number(http.headers.get('retry-after')) >= 1);
    const body = (await http.json()) as { errors: { extensions: { code: string; retryAfterSeconds: number } }[] };
    assert.equal(body.errors[0].extensions.code, 'RATE_LIMITED');
    await limited.kill();
  });

  it('should expose health, readiness and metrics whose values move when records flow', async () => {
    const base = live.url.replace('/graphql', '');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200, await ready.clone().text());
    const read = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const value = (name: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('job="abnormal-orders"'));
        return line ? Number(line.split(' ').at(-1)) : NaN;
      };
      return { text, consumed: value('rt_records_consumed_total'), committed: value('rt_records_committed_total') };
    };
    const first = await read();
    for (const name of [
      'rt_records_consumed_total',
      'rt_records_committed_total',
      'rt_records_dead_lettered_total',
      'rt_records_late_total',
      'rt_consumer_lag',
      'rt_batch_duration_seconds_bucket',
      'rt_transaction_duration_seconds_bucket',
      'rt_window_emit_latency_seconds_bucket',
      'rt_graphql_request_duration_seconds_bucket',
      'rt_graphql_open_subscriptions',
    ]) {
      assert.ok(first.text.includes(name), `missing ${name}`);
    }
    const more = [
      ...generateUserBehavior({
        ...GENERATOR,
        seed: 779,
        count: 1000,
        startTimeMs: GENERATOR.startTimeMs + 3 * 86_400_000,
      }),
    ].map((r) => ({ key: r.key, value: r.value }));
    await produce(topic.topic, more);
    const second = await waitFor(
      'the counters to move',
      async () => {
        const m = await read();
        return m.committed >= first.committed + 1000 ? m : null;
      },
      30_000,
      300,
    );
    assert.ok(second.consumed >= first.consumed + 1000);
  });
});
