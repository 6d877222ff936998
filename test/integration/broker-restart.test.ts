// The Kafka broker killed (SIGKILL) while a worker runs two jobs mid-stream,
// and started again by the stack script: the worker, never restarted, must
// ride through (its consumers rejoin, claim their partitions from the stored
// rows and replay) and, with the rest of the stream written through the
// restarted broker, end with exactly the rows of an uninterrupted run. The
// test runs its OWN broker (`scripts/stack.sh kafka-up` with its own
// STACK_DIR and free ports): the shared broker on 9092 is never touched.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobSet, uninterruptedReference } from '../helpers/fault-streams.js';
import { hotProductsJob } from '../../src/jobs/hot-products/testing.js';
import { abnormalOrdersJob } from '../../src/jobs/abnormal-orders/testing.js';
import { latestOffsets, SMALL_BATCHES_QUICK_FAILOVER_ENV, sumOffsets, TestRuns } from '../helpers/job-runs.js';
import { startOwnKafka, type OwnKafka } from '../helpers/own-services.js';
import { produce, waitFor } from '../helpers/services.js';

const RECORDS = 10_000;
/** Share of each feed written before the broker is killed; the rest is written once it is back. */
const FIRST_PART = 0.6;

describe('a worker riding through its Kafka broker killed and restarted mid-stream', () => {
  const runs = new TestRuns();
  let own: OwnKafka | undefined;
  const abnormal = abnormalOrdersJob(RECORDS, 7171);
  const clicks = hotProductsJob(RECORDS, 7272);
  const jobs = [abnormal, clicks];
  let latest: Map<number, number>[] = [];
  let reference: Record<string, unknown>;

  const start = (set: JobSet, dbUrl: string, brokers?: string[]) =>
    runs.start({
      DATABASE_URL: dbUrl,
      ROLES: 'worker',
      ...SMALL_BATCHES_QUICK_FAILOVER_ENV,
      ...set.env(),
      ...(brokers ? { KAFKA_BROKERS: brokers.join(',') } : {}),
    });

  before(async () => {
    // The own broker starts while the reference runs on the shared one.
    const starting = startOwnKafka();
    // Awaited in the finally below; until then a failure must not be an unhandled rejection.
    starting.catch(() => undefined);
    try {
      ({ latest, snapshot: reference } = await uninterruptedReference(runs, jobs, start, abnormal.vips));
    } finally {
      own = await starting;
    }
  });

  after(async () => {
    // Cleanup goes on to the own server even if dropping the test's databases and topics failed.
    await runs.cleanup().catch(() => undefined);
    await own?.cleanup();
  });

  it('should end with the rows of an uninterrupted run, the worker never restarted', async () => {
    const broker = own!;
    const topics: string[] = [];
    for (const j of jobs) topics.push((await runs.createTopic(j.name, 3, broker.brokers)).topic);
    const split = jobs.map((j) => Math.floor(j.feed.length * FIRST_PART));
    await Promise.all(jobs.map((j, i) => produce(topics[i], j.feed.slice(0, split[i]), broker.brokers)));
    const set = new JobSet(jobs, topics).setLatest(latest);
    const db = await runs.freshDb(abnormal.vips);
    const worker = await start(set, db.url, broker.brokers);
    await waitFor(
      'progress past 20%',
      async () => (await set.progress(db.url)).consumed >= 0.2 * set.records,
      120_000,
      20,
    );
    await broker.kill();
    const killedAt = Date.now();
    // Long enough for the worker's fetches, heartbeats and dead-letter sends to fail.
    await new Promise((r) => setTimeout(r, 5_000));
    await broker.start();
    await Promise.all(jobs.map((j, i) => produce(topics[i], j.feed.slice(split[i]), broker.brokers)));
    const written = await Promise.all(topics.map((t) => latestOffsets(t, broker.brokers)));
    assert.deepEqual(
      written.map(sumOffsets),
      latest.map(sumOffsets),
      'the own broker holds other records than the reference topics',
    );
    await waitFor(
      'the worker to finish after the restart',
      async () => (await set.progress(db.url)).done,
      240_000,
      250,
    );
    const result = await set.snapshot(db.url);

    // The outage reached the worker: its Kafka client logged errors (connections refused, requests failed) after the kill.
    assert.ok(
      worker.logs.some((l) => Number(l.level) >= 50 && l.kafka !== undefined && Number(l.time) >= killedAt),
      'no Kafka error logged after the kill',
    );
    assert.equal(worker.child.exitCode, null, 'the worker exited');
    assert.equal(worker.child.signalCode, null, 'the worker was killed');
    assert.deepEqual(result, reference);
  });
});
