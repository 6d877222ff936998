// In-memory fakes of the runner's own narrow ports (ConsumerPort,
// PartitionStorePort) and a tiny counting job, so the runner's exactly-once
// logic is unit-tested without a broker or a database. Integration tests use
// the real Kafka and MariaDB.
import { pino } from 'pino';
import type {
  BatchResult,
  JobDefinition,
  JobPosition,
  PartitionProcessor,
  SourceRecord,
} from '../../src/engine/job.js';
import type { ConsumerPort, FetchedBatch, OffsetBounds } from '../../src/runner/consumer-port.js';
import { DeadLetterSink, type DeadLetterProducer } from '../../src/runner/dead-letter-sink.js';
import { JobPartitions, type JobPartitionsOptions } from '../../src/runner/job-partitions.js';
import type { BatchCommit, ClaimedPosition, PartitionStorePort } from '../../src/runner/partition-store-port.js';
import type { LogFingerprint } from '../../src/store/offset-store.js';
import type { Tx } from '../../src/store/prisma-client.js';

export const silentLog = pino({ level: 'silent' });

/** Records every call the runner makes on the consumer. */
export class FakeConsumer implements ConsumerPort {
  readonly seeks: { partition: number; offset: bigint }[] = [];
  readonly pauses: ('pause' | 'resume')[] = [];
  readonly kafkaCommits: { partition: number; nextOffset: bigint }[] = [];
  bounds = new Map<number, OffsetBounds>();

  seek(partition: number, offset: bigint): void {
    this.seeks.push({ partition, offset });
  }
  pause(): void {
    this.pauses.push('pause');
  }
  resume(): void {
    this.pauses.push('resume');
  }
  async commitOffsets(offsets: readonly { partition: number; nextOffset: bigint }[]): Promise<void> {
    this.kafkaCommits.push(...offsets);
  }
  async partitionBounds(): Promise<Map<number, OffsetBounds>> {
    return this.bounds;
  }
}

interface StoredRow extends JobPosition {
  epoch: number;
  resetEpoch: number | null;
  lateRecords: number;
  deadLettered: number;
  fingerprint: LogFingerprint | null;
  recreated: boolean;
}

/** `consumer_offset` in memory: claims bump the epoch, commits are fenced by it. */
export class FakeStore implements PartitionStorePort {
  readonly rows = new Map<number, StoredRow>();
  readonly commits: BatchCommit[] = [];
  /** Rejections for the next commits, taken one per commit. */
  readonly commitFailures: Error[] = [];
  /** Rejections for the next claims, taken one per claim. */
  readonly claimFailures: Error[] = [];
  claims = 0;

  row(partition: number): StoredRow {
    let r = this.rows.get(partition);
    if (!r) {
      r = {
        nextOffset: 0n,
        replayFrom: 0n,
        watermarkMs: null,
        epoch: 0,
        resetEpoch: null,
        lateRecords: 0,
        deadLettered: 0,
        fingerprint: null,
        recreated: false,
      };
      this.rows.set(partition, r);
    }
    return r;
  }

  /** Positions moved by {@link restartAtEarliest}: partition -> earliest offset. */
  readonly restarts: { partition: number; earliest: bigint }[] = [];

  /** As the database claims: the stored fingerprint is returned to verify when `bounds` still hold its offset. */
  async claim(partition: number, bounds: OffsetBounds, _owner: string): Promise<ClaimedPosition> {
    this.claims++;
    const failure = this.claimFailures.shift();
    if (failure) throw failure;
    const r = this.row(partition);
    r.epoch++;
    const { nextOffset, replayFrom, watermarkMs, epoch, fingerprint } = r;
    const verify =
      fingerprint !== null && fingerprint.offset >= bounds.earliest && fingerprint.offset < bounds.latest
        ? fingerprint
        : null;
    return { nextOffset, replayFrom, watermarkMs, epoch, lostNow: 0n, verify, logShorter: null };
  }

  async markRecreated(partition: number): Promise<void> {
    this.row(partition).recreated = true;
  }

  async restartAtEarliest(partition: number, earliest: bigint): Promise<void> {
    const r = this.row(partition);
    Object.assign(r, { nextOffset: earliest, replayFrom: earliest, fingerprint: null, recreated: false });
    r.epoch++;
    r.resetEpoch = r.epoch;
    this.restarts.push({ partition, earliest });
  }

  /** Another worker (or an operator's reset, with `reset`) claims the partition: the current owner is fenced. */
  bumpEpoch(partition: number, reset = false): void {
    const r = this.row(partition);
    r.epoch++;
    r.resetEpoch = reset ? r.epoch : null;
  }

  /** The partitions of each transaction that committed, in order (fenced ones left out). */
  readonly transactions: number[][] = [];

  /** As the database commits: one failure per transaction, fenced partitions left out and the others written. */
  async commitBatches(
    commits: readonly BatchCommit[],
    write: (tx: Tx, partitions: readonly number[]) => Promise<void>,
  ): Promise<{ fenced: number[] }> {
    const failure = this.commitFailures.shift();
    if (failure) throw failure;
    const fenced: number[] = [];
    const live: BatchCommit[] = [];
    for (const commit of [...commits].sort((a, b) => a.partition - b.partition)) {
      if (this.row(commit.partition).epoch === commit.epoch) live.push(commit);
      else fenced.push(commit.partition);
    }
    if (live.length === 0) return { fenced };
    await write(
      {} as Tx,
      live.map((c) => c.partition),
    );
    for (const commit of live) {
      const r = this.row(commit.partition);
      Object.assign(r, commit.position);
      r.lateRecords += commit.lateRecords;
      r.deadLettered += commit.deadLettered;
      if (commit.fingerprint) r.fingerprint = commit.fingerprint;
      this.commits.push(commit);
    }
    this.transactions.push(live.map((c) => c.partition));
    return { fenced };
  }

  async wasReset(partition: number): Promise<boolean> {
    const r = this.row(partition);
    return r.resetEpoch !== null && r.resetEpoch === r.epoch;
  }

  async epochOf(partition: number): Promise<number | null> {
    return this.row(partition).epoch;
  }
}

/** Dead-letter sends, kept. */
export class FakeProducer implements DeadLetterProducer {
  readonly sent: Parameters<DeadLetterProducer['send']>[0][] = [];
  async send(record: Parameters<DeadLetterProducer['send']>[0]): Promise<void> {
    this.sent.push(record);
  }
}

/**
 * A job whose processor sums record values (decimal text); `bad` is a dead
 * letter. Position: next offset after the last record, replay from there.
 * `tickResults` makes the next ticks return a result (a moved watermark).
 */
export function countingJob(tickWatermarks: number[] = []): JobDefinition & { sums: Map<number, number> } {
  const sums = new Map<number, number>();
  return {
    name: 'counting',
    groupId: 'g',
    topic: 't',
    results: 'additive',
    sums,
    // Nothing to clear: the fake keeps no results.
    clearResults: () => Promise.resolve(),
    createProcessor: ({ partition, nextOffset, watermarkMs }): PartitionProcessor => {
      let position: JobPosition = { nextOffset, replayFrom: nextOffset, watermarkMs };
      return {
        process(records: readonly SourceRecord[]): BatchResult {
          const good = records.filter((r) => r.value?.toString() !== 'bad');
          const add = good.reduce((s, r) => s + Number(r.value!.toString()), 0);
          const next = records[records.length - 1].offset + 1n;
          position = { nextOffset: next, replayFrom: next, watermarkMs: position.watermarkMs };
          return {
            write: async () => {
              sums.set(partition, (sums.get(partition) ?? 0) + add);
            },
            deadLetters: records
              .filter((r) => r.value?.toString() === 'bad')
              .map((record) => ({ record, reason: 'bad-value', detail: 'not a number' })),
            lateRecords: 0,
            records: records.length,
          };
        },
        tick(): BatchResult | null {
          const w = tickWatermarks.shift();
          if (w === undefined) return null;
          position = { ...position, watermarkMs: w };
          return { deadLetters: [], lateRecords: 0, records: 0 };
        },
        position: () => position,
      };
    },
  };
}

/** A fetched batch of `values` at offsets from `firstOffset`, recording what the runner did with it. */
export class FakeBatch implements FetchedBatch {
  readonly messages: FetchedBatch['messages'];
  readonly resolved: string[] = [];
  heartbeats = 0;
  stale = false;
  running = true;

  constructor(
    readonly partition: number,
    firstOffset: number,
    values: string[],
    readonly highWatermark = '1000',
  ) {
    this.messages = values.map((v, i) => ({
      offset: String(firstOffset + i),
      key: null,
      value: Buffer.from(v),
      timestamp: '0',
    }));
  }
  lastOffset(): string {
    return this.messages[this.messages.length - 1].offset;
  }
  isStale(): boolean {
    return this.stale;
  }
  isRunning(): boolean {
    return this.running;
  }
  async heartbeat(): Promise<void> {
    this.heartbeats++;
  }
  resolveOffset(offset: string): void {
    this.resolved.push(offset);
  }
}

/** A {@link JobPartitions} over fresh fakes (no recovery delay). */
export function fakeRunner(overrides: Partial<JobPartitionsOptions> = {}, tickWatermarks: number[] = []) {
  const consumer = new FakeConsumer();
  const store = new FakeStore();
  const producer = new FakeProducer();
  const job = countingJob(tickWatermarks);
  const partitions = new JobPartitions({
    job,
    consumer,
    store,
    deadLetters: new DeadLetterSink(producer, job),
    owner: 'test:1',
    log: silentLog,
    maxPendingAfterCommit: 32,
    // Recovery needs no wait in the fake.
    recoveryWait: () => Promise.resolve(),
    ...overrides,
  });
  return { consumer, store, producer, job, partitions };
}

/** Waits until `check` holds, yielding to timers and I/O between tries (at most `tries` turns). */
export async function until(check: () => boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error('condition not reached');
}
