import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { FencedError } from '../../src/errors/fenced-error.js';
import { Metrics } from '../../src/observability/metrics.js';
import { classifyCommitFailure } from '../../src/runner/commit-failure.js';
import { recoveryDelayMs } from '../../src/runner/partition-committer.js';
import type { JobHealthChange } from '../../src/runner/partition-health.js';
import { FakeBatch, fakeRunner, until } from '../helpers/fake-runner-ports.js';

/** An error shaped like Prisma's for a failed raw query on the mariadb driver adapter. */
function mysqlError(errno: number, message: string): Error {
  return Object.assign(new Error(`Raw query failed. Code: \`${errno}\`. Message: \`${message}\``), {
    code: 'P2010',
    meta: {
      driverAdapterError: {
        name: 'DriverAdapterError',
        cause: { originalCode: String(errno), originalMessage: message },
      },
    },
  });
}

const TABLE_MISSING = () => mysqlError(1146, "Table 'rt.unpayment_record' doesn't exist");
const DEADLOCK = () => mysqlError(1213, 'Deadlock found when trying to get lock; try restarting transaction');
const CONNECTION_LOST = () => mysqlError(2013, 'Lost connection to server during query');

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s));
      },
    },
  );
  return { log, lines, at: (level: number) => lines.filter((l) => l.level === level) };
}

async function failingGauge(metrics: Metrics, partition: number): Promise<number | undefined> {
  const values = (await metrics.partitionFailing.get()).values;
  return values.find((v) => v.labels.partition === String(partition))?.value;
}

describe('classifyCommitFailure', () => {
  it('classifies MySQL schema, constraint, permission and collation errors as not transient', () => {
    for (const errno of [1146, 1054, 1062, 1452, 1142, 1267, 1366]) {
      const cause = classifyCommitFailure(mysqlError(errno, `error ${errno}`));
      assert.deepEqual(cause, { code: `MYSQL_${errno}`, message: `error ${errno}`, transient: false });
    }
  });

  it('classifies deadlocks, lock wait timeouts, lost connections and pool timeouts as transient', () => {
    for (const errno of [1213, 1205, 2013, 2006, 1927, 45028]) {
      assert.equal(classifyCommitFailure(mysqlError(errno, 'x')).transient, true, `errno ${errno}`);
    }
    assert.equal(classifyCommitFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).transient, true);
    assert.equal(classifyCommitFailure(Object.assign(new Error('pool'), { code: 'P2024' })).transient, true);
    const kafka = Object.assign(new Error('broker down'), { name: 'KafkaJSConnectionError' });
    assert.deepEqual(classifyCommitFailure(kafka), {
      code: 'KAFKA_ConnectionError',
      message: 'broker down',
      transient: true,
    });
  });

  it('classifies Kafka refusals that no retry heals as not transient, by their protocol type', () => {
    const protocol = (type: string, retriable: boolean) =>
      Object.assign(new Error(`broker said ${type}`), { name: 'KafkaJSProtocolError', type, retriable });
    assert.deepEqual(classifyCommitFailure(protocol('MESSAGE_TOO_LARGE', false)), {
      code: 'KAFKA_MESSAGE_TOO_LARGE',
      message: 'broker said MESSAGE_TOO_LARGE',
      transient: false,
    });
    for (const type of [
      'RECORD_LIST_TOO_LARGE',
      'INVALID_RECORD',
      'TOPIC_AUTHORIZATION_FAILED',
      'UNKNOWN_TOPIC_OR_PARTITION',
    ])
      assert.equal(classifyCommitFailure(protocol(type, true)).transient, false, type);
    // kafkajs wraps the last error of its own retries; the protocol type underneath decides.
    const retried = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      cause: protocol('UNKNOWN_TOPIC_OR_PARTITION', true),
    });
    assert.equal(classifyCommitFailure(retried).code, 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(classifyCommitFailure(retried).transient, false);
    for (const type of ['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS'])
      assert.equal(classifyCommitFailure(protocol(type, true)).transient, true, type);
    assert.equal(classifyCommitFailure(protocol('SOME_NEW_REFUSAL', false)).transient, false);
  });

  it('reads the errno of a raw driver error and through a cause chain', () => {
    const driver = Object.assign(new Error('x'), { errno: 1054, sqlMessage: "Unknown column 'c'", sqlState: '42S22' });
    assert.equal(classifyCommitFailure(new Error('wrapped', { cause: driver })).code, 'MYSQL_1054');
  });

  it('keeps an application error code and calls anything else UNKNOWN, not transient', () => {
    assert.equal(classifyCommitFailure(new FencedError('g', 't', 0, 1)).code, 'PARTITION_FENCED');
    assert.deepEqual(classifyCommitFailure('boom'), { code: 'UNKNOWN', message: 'boom', transient: false });
  });
});

describe('JobPartitions: failing state', () => {
  it('turns FAILING on the second failure with the same permanent cause and recovers after a commit', async () => {
    const metrics = new Metrics();
    const { log, at } = capturingLog();
    const changes: JobHealthChange[] = [];
    const { store, job, partitions } = fakeRunner({ metrics, log, onHealthChange: (c) => changes.push(c) });
    await partitions.assign([0]);
    assert.equal(await failingGauge(metrics, 0), 0, 'a claimed partition reports 0');
    store.commitFailures.push(TABLE_MISSING());
    await partitions.handleBatch(new FakeBatch(0, 0, ['5']));
    assert.deepEqual(partitions.failing(), [], 'one failure may be a one-off');
    assert.equal(await failingGauge(metrics, 0), 0);
    store.commitFailures.push(TABLE_MISSING(), TABLE_MISSING());
    await partitions.handleBatch(new FakeBatch(0, 0, ['5']));
    const [failure] = partitions.failing();
    assert.equal(failure.code, 'MYSQL_1146');
    assert.equal(failure.attempts, 2);
    assert.match(failure.message, /unpayment_record/);
    assert.equal(await failingGauge(metrics, 0), 1);
    await partitions.handleBatch(new FakeBatch(0, 0, ['5']));
    assert.equal(partitions.failing()[0]?.attempts, 3, 'the same cause again: counted, still FAILING');
    await partitions.handleBatch(new FakeBatch(0, 0, ['5']));
    await partitions.settle();
    assert.deepEqual(partitions.failing(), []);
    assert.equal(await failingGauge(metrics, 0), 0);
    assert.equal(job.sums.get(0), 5, 'the record counted once, after the cause was fixed');
    assert.deepEqual(
      changes.map((c) => c.kind),
      ['failing', 'recovered'],
      'one event per change of state',
    );
    assert.equal(changes[1].kind === 'recovered' && changes[1].attempts, 3);
    const failingLines = at(50).filter((l) => String(l.msg).startsWith('job failing'));
    assert.equal(failingLines.length, 1, 'one error line when FAILING starts');
    assert.equal(failingLines[0].code, 'MYSQL_1146');
    assert.match(String(failingLines[0].msg), /doesn't exist/);
    const recovered = at(30).filter((l) => String(l.msg).startsWith('job recovered'));
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0].attempts, 3);
    assert.equal(at(40).length, 0, 'no warning besides the FAILING line: retries log at debug');
    assert.ok(at(20).length >= 2);
  });

  it('does not turn FAILING on transient errors, however many', async () => {
    const metrics = new Metrics();
    const changes: JobHealthChange[] = [];
    const { log, at } = capturingLog();
    const { store, partitions } = fakeRunner({ metrics, log, onHealthChange: (c) => changes.push(c) });
    await partitions.assign([0]);
    for (let i = 0; i < 5; i++) {
      store.commitFailures.push(CONNECTION_LOST());
      await partitions.handleBatch(new FakeBatch(0, 0, ['1']));
      assert.deepEqual(partitions.failing(), []);
    }
    assert.equal(await failingGauge(metrics, 0), 0);
    assert.deepEqual(changes, []);
    assert.equal(at(40).length, 1, 'one warning when the run of transient failures starts, retries at debug');
    assert.equal(at(50).length, 0);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    const back = at(30).filter((l) => String(l.msg).includes('succeeded again after 5 failed attempts'));
    assert.equal(back.length, 1);
  });

  it('runs a transaction a deadlock rolled back again in place: counted, one line each, no rebuild', async () => {
    const metrics = new Metrics();
    const { log, at } = capturingLog();
    const { store, job, partitions } = fakeRunner({ metrics, log });
    await partitions.assign([0]);
    const claims = store.claims;
    store.commitFailures.push(DEADLOCK(), DEADLOCK());
    await partitions.handleBatch(new FakeBatch(0, 0, ['5']));
    await partitions.settle();
    assert.equal(store.commits.length, 1, 'the third run committed');
    assert.equal(job.sums.get(0), 5, 'its results once');
    assert.equal(store.claims, claims, 'the partition was not rebuilt from Kafka');
    assert.deepEqual(partitions.failing(), []);
    const retries = (await metrics.commitRetries.get()).values;
    assert.deepEqual(
      retries.map((v) => [v.labels.code, v.value]),
      [['MYSQL_1213', 2]],
    );
    const warnings = at(40);
    assert.equal(warnings.length, 2);
    assert.ok(
      warnings.every((w) => String(w.msg).includes('MYSQL_1213') && !('err' in w)),
      'no stack trace',
    );
  });

  it('rebuilds the partition after the in-place runs of a transaction keep deadlocking', async () => {
    const { store, job, partitions } = fakeRunner();
    await partitions.assign([0]);
    const claims = store.claims;
    store.commitFailures.push(DEADLOCK(), DEADLOCK(), DEADLOCK());
    await partitions.handleBatch(new FakeBatch(0, 0, ['5']));
    await until(() => store.claims > claims);
    await partitions.settle();
    assert.equal(store.commits.length, 0);
    assert.equal(job.sums.get(0), undefined);
  });

  it('does not count a fenced commit as a failure', async () => {
    const { store, partitions } = fakeRunner();
    await partitions.assign([0]);
    store.bumpEpoch(0);
    await partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    store.bumpEpoch(0);
    assert.deepEqual(partitions.failing(), []);
  });

  it('retries a refused claim with backoff over every failed attempt, and a reset wakes it', async () => {
    const waits: number[] = [];
    let release!: () => void;
    const { store, partitions } = fakeRunner({
      recoveryWait: (attempt) => {
        waits.push(attempt);
        return attempt < 2
          ? Promise.resolve()
          : new Promise<void>((r) => {
              release = r;
            });
      },
    });
    const refused = Object.assign(new Error('window specification changed'), { name: 'WindowSpecChangedError' });
    store.claimFailures.push(refused, refused, refused);
    await partitions.assign([0]);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(partitions.ownedPartitions, [], 'not processed while its claim is refused');
    assert.equal(partitions.failing()[0]?.attempts, 3);
    assert.deepEqual(waits, [0, 1, 2], 'the backoff grows with the failed attempts');
    await partitions.reclaim([0]);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(partitions.ownedPartitions, [0], 'claimed at once after the wake');
    assert.deepEqual(partitions.failing(), []);
    release();
  });

  it('caps the rebuild backoff at 30 seconds', () => {
    assert.equal(recoveryDelayMs(0), 500);
    assert.equal(recoveryDelayMs(3), 4000);
    assert.equal(recoveryDelayMs(50), 30_000);
  });
});

describe('JobPartitions: stopping while failing', () => {
  it('ends a pending backoff wait when the worker stops, so settle() does not wait it out', async () => {
    // A wait that never ends by itself: only stopping may end it.
    const never = new Promise<void>(() => undefined);
    const { store, partitions } = fakeRunner({ recoveryWait: () => never });
    await partitions.assign([0]);
    store.commitFailures.push(TABLE_MISSING());
    const failing = partitions.handleBatch(new FakeBatch(0, 0, ['1']));
    await new Promise((r) => setTimeout(r, 10));
    partitions.beginStop();
    await partitions.settle();
    await failing;
    assert.equal(store.commits.length, 0);
  });
});
