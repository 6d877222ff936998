// The database killed (SIGKILL) while a worker runs two jobs mid-stream, and
// started again 20 s later on the same data directory and port: the worker,
// never restarted, must ride through (its failed commits roll back, it
// rebuilds its partitions from the stored rows once the database answers) and
// end with exactly the rows of an uninterrupted run. The test runs its OWN
// MariaDB server on a free port (never the shared one).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobSet, uninterruptedReference } from '../helpers/fault-streams.js';
import { rechargeMetricsJob } from '../../src/jobs/recharge-metrics/testing.js';
import { abnormalOrdersJob } from '../../src/jobs/abnormal-orders/testing.js';
import { SMALL_BATCHES_QUICK_FAILOVER_ENV, TestRuns } from '../helpers/job-runs.js';
import { startOwnMariadb, type OwnMariadb } from '../helpers/own-services.js';
import { waitFor } from '../helpers/services.js';

const RECORDS = 10_000;
/** How long the database stays down, MILLISECONDS. */
const DOWN_MS = 20_000;

describe('a worker riding through a database killed and restarted mid-stream', () => {
  const runs = new TestRuns();
  let own: OwnMariadb | undefined;
  const abnormal = abnormalOrdersJob(RECORDS, 6161);
  const recharge = rechargeMetricsJob(RECORDS, 6262);
  const jobs = [abnormal, recharge];
  let topics: string[] = [];
  let latest: Map<number, number>[] = [];
  let reference: Record<string, unknown>;

  const start = (set: JobSet, dbUrl: string) =>
    runs.start({ DATABASE_URL: dbUrl, ROLES: 'worker', ...SMALL_BATCHES_QUICK_FAILOVER_ENV, ...set.env() });

  before(async () => {
    // The own server starts while the reference runs on the shared one.
    const owning = startOwnMariadb();
    // Awaited in the finally below; until then a failure must not be an unhandled rejection.
    owning.catch(() => undefined);
    try {
      ({ topics, latest, snapshot: reference } = await uninterruptedReference(runs, jobs, start, abnormal.vips));
    } finally {
      own = await owning;
    }
  });

  after(async () => {
    // Cleanup goes on to the own server even if dropping the test's databases and topics failed.
    await runs.cleanup().catch(() => undefined);
    await own?.cleanup();
  });

  it('should end with the rows of an uninterrupted run, the worker never restarted', async () => {
    const server = own!;
    const set = new JobSet(jobs, topics).setLatest(latest);
    const db = await runs.freshDb(abnormal.vips, server.serverUrl);
    const worker = await start(set, db.url);
    await waitFor(
      'progress past 30%',
      async () => {
        const p = await set.progress(db.url);
        return p.consumed >= 0.3 * set.records && !p.done;
      },
      120_000,
      20,
    );
    await server.kill();
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await server.start();
    await waitFor(
      'the worker to finish after the restart',
      async () => (await set.progress(db.url)).done,
      240_000,
      250,
    );
    const result = await set.snapshot(db.url);

    assert.equal(worker.child.exitCode, null, 'the worker exited');
    assert.equal(worker.child.signalCode, null, 'the worker was killed');
    // A commit waiting for the database holds the group's heartbeats back, so the outage may first meet a claim
    // after a rebalance: either way one line says the partition failed and is retried.
    assert.ok(
      worker.logs.some((l) => /^partition (commit|claim) failed/.test(String(l.msg))),
      'no commit or claim failed: the database went down between the batches of nothing',
    );
    assert.deepEqual(result, reference);
  });
});
