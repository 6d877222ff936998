// Operator offset resets on an additive job: a backward reset of recharge-metrics is refused
// without allowRecount, and rebuildJob ends with exactly the totals of a fresh
// run over the topic, while a producer keeps writing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateRecharges } from '../../src/jobs/recharge-metrics/recharge-generator.js';
import { errorCode, gql } from '../helpers/graphql-client.js';
import {
  jobProgress,
  latestOffsets,
  rowsAsText,
  sumOffsets,
  TestRuns,
  waitForDone,
  type TestDatabase,
  type TestTopic,
} from '../helpers/job-runs.js';
import { TEST_KEYS, type ServiceProcess } from '../helpers/service-process.js';
import { produce, randomName, sql } from '../helpers/services.js';
import { RECHARGE_METRICS_SNAPSHOT } from '../../src/jobs/recharge-metrics/testing.js';

const RECORDS = 12_000;

const RESET = `mutation($input: ResetConsumerOffsetsInput!) {
  resetConsumerOffsets(input: $input) { dryRun applied recordsToRecount partitions { partition before after } }
}`;

describe('operations on an additive job (recharge-metrics)', () => {
  let topic: TestTopic;
  const runs = new TestRuns();
  let liveDb: TestDatabase;
  let live: ServiceProcess;
  let group: string;
  const records = [...generateRecharges({ seed: 99, count: RECORDS, eventsPerSecond: 50 })].map((r) => ({
    key: r.key,
    value: r.value,
  }));

  const start = (db: TestDatabase, groupId: string) =>
    runs.start({
      DATABASE_URL: db.url,
      RECHARGE_TOPIC: topic.topic,
      RECHARGE_GROUP: groupId,
      JOBS: 'recharge-metrics',
      // Fixed notify times in the past: a 10-year horizon keeps them countable.
      RECHARGE_DEDUP_HORIZON_DAYS: '3650',
      KAFKA_MAX_BYTES_PER_PARTITION: '16384',
      RATE_LIMIT_PER_MINUTE: '100000',
      JOB_CONTROL_POLL_MS: '500',
    });

  const freshDb = () => runs.freshDb();
  const progress = (db: TestDatabase, latest: Map<number, number>) => () =>
    jobProgress(db.url, latest, { windowed: false });

  async function totals(db: TestDatabase) {
    const daily = await sql(db.url, RECHARGE_METRICS_SNAPSHOT.daily);
    const minutes = await sql(db.url, RECHARGE_METRICS_SNAPSHOT.minutes);
    return { daily: rowsAsText(daily), minutes: rowsAsText(minutes) };
  }

  before(async () => {
    topic = await runs.createTopic('recharge');
    liveDb = await freshDb();
    group = randomName('recharge-ops');
    live = await start(liveDb, group);
    await produce(topic.topic, records.slice(0, RECORDS / 2));
    const latest = await latestOffsets(topic.topic);
    await waitForDone('the first half to be counted', progress(liveDb, latest), 120_000);
  });

  after(() => runs.cleanup());

  it('should refuse to move it backwards without allowRecount, naming the records that would be counted again', async () => {
    const before = await totals(liveDb);
    const latest = await latestOffsets(topic.topic);
    const sum = sumOffsets(latest);
    const refused = await gql(live.url, RESET, { input: { groupId: group, to: 'EARLIEST' } }, TEST_KEYS.ops);
    assert.equal(errorCode(refused), 'RECOUNT_REFUSED');
    assert.equal(refused.errors![0].extensions!.recordsToRecount, sum);
    assert.match(refused.errors![0].message, new RegExp(`${sum} records`));
    const plan = await gql(
      live.url,
      RESET,
      { input: { groupId: group, to: 'EARLIEST', dryRun: true, allowRecount: true } },
      TEST_KEYS.ops,
    );
    assert.equal(plan.data.resetConsumerOffsets.applied, false);
    assert.equal(plan.data.resetConsumerOffsets.recordsToRecount, sum);
    const forward = await gql(
      live.url,
      RESET,
      { input: { groupId: group, to: 'LATEST', dryRun: true } },
      TEST_KEYS.ops,
    );
    assert.equal(forward.errors, undefined, 'moving forward is not a recount');
    assert.deepEqual(await totals(liveDb), before);
  });

  it('should rebuild to exactly the totals of a fresh run over the topic, while a producer keeps writing', async () => {
    // The second half goes in while the rebuild replays the first.
    const writing = (async () => {
      const half = records.slice(RECORDS / 2);
      for (let i = 0; i < half.length; i += 1000) {
        await produce(topic.topic, half.slice(i, i + 1000));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const rebuilt = await gql(
      live.url,
      'mutation { rebuildJob(job: "recharge-metrics") { job lostToRetention partitions { partition before after } } }',
      {},
      TEST_KEYS.ops,
    );
    assert.equal(rebuilt.errors, undefined, JSON.stringify(rebuilt.errors));
    assert.equal(rebuilt.data.rebuildJob.lostToRetention, 0);
    assert.ok(rebuilt.data.rebuildJob.partitions.every((p: any) => p.after === 0));
    await writing;
    const latest = await latestOffsets(topic.topic);
    await waitForDone('the rebuild to catch up', progress(liveDb, latest), 120_000);

    const freshDbForRef = await freshDb();
    await start(freshDbForRef, randomName('recharge-fresh'));
    await waitForDone('the fresh run to finish', progress(freshDbForRef, latest), 120_000);
    const expected = await totals(freshDbForRef);
    assert.ok(expected.daily.length > 10, 'the fresh run counted nothing');
    assert.deepEqual(await totals(liveDb), expected);
    const audit = await sql<{ mode: string }>(liveDb.url, "SELECT mode FROM offset_reset_audit WHERE mode = 'REBUILD'");
    assert.equal(audit.length, 3);
  });
});
