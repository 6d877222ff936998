// A worker frozen (SIGSTOP) past its session timeout while another worker of
// the group takes over its partitions, then woken (SIGCONT) with window state
// in memory: the commit it makes on waking must be fenced off by the epoch,
// and both workers, running on without a restart, must end with exactly the
// rows of an uninterrupted run. The frozen worker runs with an idle timeout
// shorter than the freeze, so on waking its wall clock has jumped: its
// partitions look idle, their watermarks move on and windows close. That late
// commit is sure to come, and were it not fenced it would emit windows early
// and turn later records late, and the comparison would fail.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { generateUserBehavior, sampleVipUids } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { type JobSnapshot, jobSnapshot } from '../helpers/job-snapshots.js';
import {
  jobProgress,
  latestOffsets,
  runToEnd,
  SMALL_BATCHES_QUICK_FAILOVER_ENV,
  sumOffsets,
  TestRuns,
  withPartitions,
  type TestDatabase,
} from '../helpers/job-runs.js';
import { flushRecords } from '../../src/jobs/user-behavior/testing.js';
import { holdsTransaction } from '../helpers/process-db-transactions.js';
import type { ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, sql, waitFor } from '../helpers/services.js';

const RECORDS = 20_000;
const GENERATOR = { seed: 5151, users: 2000, startTimeMs: Date.UTC(2026, 0, 1), eventsPerSecond: 250, count: RECORDS };
/** The frozen worker's idle timeout, MILLISECONDS: shorter than the freeze, far longer than any pause of a running worker. */
const FROZEN_IDLE_TIMEOUT_MS = 8_000;
/** The freeze lasts at least this long, MILLISECONDS (and until the other worker claimed every partition). */
const MIN_FREEZE_MS = 12_000;

/** Without watermark_ms: the woken worker's partitions that finished may move it on by idleness after the end. */
const withoutWatermarks = (offsets: Record<string, string | null>[]) =>
  offsets.map(({ watermark_ms: _w, ...rest }) => rest);

describe('abnormal-orders with a worker frozen past its session timeout', () => {
  const runs = new TestRuns();
  let feed: { key: string | null; value: string; partition: number }[] = [];
  let latest = new Map<number, number>();
  let reference: JobSnapshot;

  const start = (db: TestDatabase, group: string, topic: string, idleTimeoutMs = 3_600_000) =>
    runs.start({
      DATABASE_URL: db.url,
      USER_BEHAVIOR_TOPIC: topic,
      ABNORMAL_ORDERS_GROUP: group,
      JOBS: 'abnormal-orders',
      ROLES: 'worker',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
      IDLE_TIMEOUT_MS: String(idleTimeoutMs),
    });
  const progress = (db: TestDatabase) => () => jobProgress(db.url, latest, { windowed: true });

  before(async () => {
    const records = [...generateUserBehavior(GENERATOR)].map((r) => ({ key: r.key, value: r.value }));
    feed = [...withPartitions(records), ...flushRecords(Math.floor((GENERATOR.startTimeMs + 86_400_000) / 1000))];
    const topic = await runs.createTopic();
    await produce(topic.topic, feed);
    latest = await latestOffsets(topic.topic);
    assert.equal(sumOffsets(latest), RECORDS + 3);
    const db = await runs.freshDb(sampleVipUids(GENERATOR));
    const group = randomName('frozen-ref');
    await runToEnd('the uninterrupted run to finish', () => start(db, group, topic.topic), progress(db), 180_000);
    reference = await jobSnapshot('abnormal-orders', db.url, group);
  });

  after(() => runs.cleanup());

  it('should detect users in the uninterrupted run (the comparison is not vacuous)', () => {
    assert.ok(reference.rows.length > 10, `only ${reference.rows.length} rows`);
  });

  it("should fence off the woken worker's late commit and end with the rows of an uninterrupted run", async () => {
    const db = await runs.freshDb(sampleVipUids(GENERATOR));
    const group = randomName('frozen');
    const topic = await runs.createTopic();
    const ownedBy = (p: ServiceProcess): number[] =>
      (p.logs.filter((l) => l.msg === 'partitions assigned').at(-1)?.partitions as number[] | undefined) ?? [];
    const frozen = await start(db, group, topic.topic, FROZEN_IDLE_TIMEOUT_MS);
    const other = await start(db, group, topic.topic);
    await waitFor(
      'both workers to own partitions',
      () =>
        ownedBy(frozen).length > 0 && ownedBy(other).length > 0 && ownedBy(frozen).length + ownedBy(other).length === 3,
      60_000,
      100,
    );
    // Written once both own partitions, so that the one to freeze has records to work on.
    const feeding = produce(topic.topic, feed);
    await waitFor(
      'progress past 30% with the worker to freeze mid-partition',
      async () => {
        const p = await progress(db)();
        return p.consumed >= 0.3 * RECORDS && ownedBy(frozen).some((part) => p.unfinished.includes(part));
      },
      120_000,
      20,
    );

    // Freeze it between two of its transactions: frozen inside one, it would hold its
    // partition's row lock and the other worker's claim would wait for it to wake.
    let frozenAt: number;
    for (let attempt = 0; ; attempt++) {
      frozen.child.kill('SIGSTOP');
      frozenAt = Date.now();
      if (!(await holdsTransaction(db.url, frozen.child.pid!))) break;
      assert.ok(attempt < 200, 'the worker to freeze was inside a transaction 200 times in a row');
      frozen.child.kill('SIGCONT');
      // Each stop inside a transaction lengthens it: let the worker run a little longer every time, so
      // that a large transaction (a window closing, a merged batch) ends before the next try.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * (40 + 2 * attempt)));
    }
    const frozenOwned = ownedBy(frozen);
    await feeding;
    const otherOwner = `${hostname()}:${other.child.pid}`;
    await waitFor(
      'the other worker to claim every partition in the database',
      async () => {
        const rows = await sql<{ owner: string }>(db.url, 'SELECT owner FROM consumer_offset WHERE group_id = ?', [
          group,
        ]);
        return rows.length === 3 && rows.every((r) => r.owner === otherOwner);
      },
      60_000,
      100,
    );
    const wait = MIN_FREEZE_MS - (Date.now() - frozenAt);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    frozen.child.kill('SIGCONT');

    const fenced = await waitFor(
      "the woken worker's commit to be fenced off",
      () => frozen.logs.find((l) => String(l.msg).includes('was claimed by another worker')),
      30_000,
      50,
    );
    await waitFor('both workers to finish', async () => (await progress(db)()).done, 180_000, 250);
    const result = await jobSnapshot('abnormal-orders', db.url, group);

    assert.ok(frozenOwned.length > 0);
    assert.ok(
      frozenOwned.some((p) => String(fenced.msg).includes(`/${p} of group`)),
      `fenced on a partition it did not own: ${String(fenced.msg)}`,
    );
    assert.equal(frozen.child.exitCode, null, 'the woken worker exited');
    assert.equal(other.child.exitCode, null, 'the other worker exited');
    assert.deepEqual(result.rows, reference.rows);
    assert.deepEqual(withoutWatermarks(result.offsets), withoutWatermarks(reference.offsets));
    for (const [i, o] of result.offsets.entries()) {
      assert.ok(
        BigInt(o.watermark_ms!) >= BigInt(reference.offsets[i].watermark_ms!),
        `partition ${o.partition}: watermark went back`,
      );
    }
  });
});
