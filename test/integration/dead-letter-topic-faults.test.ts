// The dead-letter path against the real broker, at its limits: a malformed
// record near the broker's largest accepted size is dead-lettered cut to fit,
// with headers that say so and keep its source position; and a dead-letter
// topic deleted while the broker creates no topic by itself (the suite's
// broker runs with auto.create.topics.enable=false) is a fault no retry heals:
// the job shows FAILING with the Kafka error code, /readyz says so, and the
// job goes on by itself once the topic is back, with nothing lost.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureTopics } from '../../src/ingest/kafka-client.js';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import {
  jobProgress,
  latestOffsets,
  TestRuns,
  waitForDone,
  type TestDatabase,
  type TestTopic,
} from '../helpers/job-runs.js';
import { recovered as isRecovered, waitForJob } from '../helpers/jobs-query.js';
import type { ServiceProcess } from '../helpers/service-process.js';
import { connectAdmin, produce, randomName, readTopic, waitFor } from '../helpers/services.js';

/** A value that fits the source topic's record batch (1048588 bytes by default) but not a dead letter's, with its headers. */
const NEAR_LIMIT_BYTES = 1_048_000;

describe('the dead-letter topic at its limits', () => {
  const runs = new TestRuns();
  let topic: TestTopic;
  let db: TestDatabase;
  let svc: ServiceProcess;
  let cut: Awaited<ReturnType<typeof readTopic>>[number] | undefined;
  let failing: any;
  let readyWhileFailing: { status: number; body: any };
  let recovered: any;
  let afterRecovery: Awaited<ReturnType<typeof readTopic>>;
  let countedAfterRecovery: number;

  const good = (seed: number) =>
    [...generateRecharges({ seed, count: 50, startTimeMs: Date.UTC(2026, 0, 1), malformedShare: 0 })].map((r) => ({
      key: r.key,
      value: r.value,
    }));
  const caughtUp = async () => (await jobProgress(db.url, await latestOffsets(topic.topic), { windowed: false })).done;

  before(async () => {
    topic = await runs.createTopic('recharge');
    db = await runs.freshDb();
    svc = await runs.start({
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: randomName('recharge-dlq-limits'),
      JOBS: 'recharge-metrics',
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
      PARTITION_STATS_INTERVAL_MS: '500',
    });

    // 1. One record near the size limit, then a few good ones.
    // Alone in its request: with other records its batch would exceed the broker's limit.
    await produce(topic.topic, [
      { key: 'huge', value: `{"broken":"${'x'.repeat(NEAR_LIMIT_BYTES - 12)}"`, partition: 1 },
    ]);
    await produce(topic.topic, good(1));
    await waitFor('the near-limit record to be committed', caughtUp, 60_000, 250);
    cut = (await readTopic(topic.dlq, 1, 30_000)).find((r) => r.headers['dlq.source.offset'] === '0');

    // 2. The dead-letter topic deleted, then a malformed record.
    const admin = await connectAdmin();
    try {
      await admin.deleteTopics({ topics: [topic.dlq] });
      await waitFor('the dead-letter topic to be gone', async () => !(await admin.listTopics()).includes(topic.dlq));
      await produce(topic.topic, [{ key: 'bad', value: '{"broken":', partition: 0 }, ...good(2)]);
      failing = await waitForJob(
        svc.url,
        'recharge-metrics',
        'the job to show FAILING',
        (job) => job.state === 'FAILING',
        90_000,
      );
      const res = await fetch(svc.url.replace(/\/graphql$/, '/readyz'));
      readyWhileFailing = { status: res.status, body: await res.json() };
      await ensureTopics(admin, [{ topic: topic.dlq, numPartitions: 3 }]);
    } finally {
      await admin.disconnect();
    }
    recovered = await waitForJob(svc.url, 'recharge-metrics', 'the job to recover by itself', isRecovered, 120_000);
    const latest = await latestOffsets(topic.topic);
    await waitForDone('the job to finish', () => jobProgress(db.url, latest, { windowed: false }), 60_000);
    countedAfterRecovery = (await jobProgress(db.url, latest, { windowed: false })).consumed;
    afterRecovery = await readTopic(topic.dlq, 1, 30_000);
  });

  after(() => runs.cleanup());

  it('dead-letters a record too large to send whole cut to fit, with headers that say so', () => {
    assert.ok(cut, 'the near-limit record is in the dead-letter topic');
    assert.equal(cut.headers['dlq.truncated'], 'true');
    assert.equal(cut.headers['dlq.original.size'], String(NEAR_LIMIT_BYTES));
    assert.equal(cut.headers['dlq.source.topic'], topic.topic);
    assert.equal(cut.headers['dlq.source.partition'], '1');
    assert.equal(cut.headers['dlq.source.offset'], '0');
    assert.ok(cut.headers['dlq.reason']);
    assert.ok(cut.value && cut.value.length > 1_000_000 && cut.value.length < NEAR_LIMIT_BYTES, `${cut.value?.length}`);
    assert.ok(cut.value.startsWith('{"broken":"xxx'), 'the value keeps its first bytes');
  });

  it('shows FAILING with the Kafka error code while the dead-letter topic is missing, and /readyz says so', () => {
    assert.equal(failing.lastError.code, 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION');
    assert.ok(failing.lastError.attempts >= 2);
    assert.equal(readyWhileFailing.status, 503);
    assert.match(readyWhileFailing.body.error, /recharge-metrics/);
    assert.match(readyWhileFailing.body.error, /KAFKA_UNKNOWN_TOPIC_OR_PARTITION/);
  });

  it('recovers by itself once the topic is back, and dead-letters the record it held', () => {
    assert.equal(recovered.state, 'RUNNING');
    assert.ok(countedAfterRecovery > 100, `${countedAfterRecovery} records committed`);
    const held = afterRecovery.find((r) => r.headers['dlq.source.partition'] === '0');
    assert.ok(held, 'the malformed record is in the re-created dead-letter topic');
    assert.equal(held.value, '{"broken":');
  });

  it('logs one line when FAILING starts, not one per retry', () => {
    const started = svc.logs.filter((l) => String(l.msg).startsWith('job failing'));
    assert.equal(started.length, 1, JSON.stringify(started));
    assert.equal(started[0].code, 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION');
  });
});
