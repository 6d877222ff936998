import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  eventTimeWarnings,
  type EventTimeCounts,
  type PublishedPartitionStats,
} from '../../src/observability/partition-stats.js';
import { StatsReporter, type RateCounter, type StatsRedis } from '../../src/runner/stats-reporter.js';

describe('eventTimeWarnings', () => {
  it('warns per reason above the share, from 10 records on', () => {
    assert.deepEqual(eventTimeWarnings({ records: 1_000, late: 11, ahead: 0 }, 1), [
      { reason: 'late', records: 11, ofRecords: 1_000 },
    ]);
    assert.deepEqual(eventTimeWarnings({ records: 1_000, late: 10, ahead: 10 }, 1), [], '1% is not more than 1%');
    assert.deepEqual(eventTimeWarnings({ records: 20, late: 9, ahead: 0 }, 1), [], 'fewer than 10 records');
    assert.deepEqual(
      eventTimeWarnings({ records: 100, late: 0, ahead: 12 }, 1).map((w) => w.reason),
      ['event-time-ahead'],
    );
  });
});

describe('StatsReporter: the last minute of each partition', () => {
  it('publishes what was committed and refused over the last minute, and sums the partitions for the job', async () => {
    const written = new Map<string, PublishedPartitionStats>();
    const redis: StatsRedis = {
      pipeline: () => ({
        set: (key: string, value: string) => written.set(key, JSON.parse(value) as PublishedPartitionStats),
        exec: () => Promise.resolve([]),
      }),
    };
    const p0: RateCounter = { partition: 0, rateCount: 0, lateCount: 0, aheadCount: 0, rateSince: 0 };
    const p1: RateCounter = { partition: 1, rateCount: 0, lateCount: 0, aheadCount: 0, rateSince: 0 };
    const sums: EventTimeCounts[] = [];
    const reporter = new StatsReporter(
      redis,
      'g',
      't',
      'w:1',
      () => [p0, p1],
      5_000,
      () => [],
      (c) => sums.push(c),
    );
    Object.assign(p0, { rateCount: 100, lateCount: 20 });
    Object.assign(p1, { rateCount: 50, aheadCount: 5 });
    await reporter.report(10_000);
    Object.assign(p0, { rateCount: 100, lateCount: 1 });
    await reporter.report(40_000);
    assert.deepEqual(written.get('rt:ops:partition:g:t:0')?.lastMinute, { records: 200, late: 21, ahead: 0 });
    assert.deepEqual(sums.at(-1), { records: 250, late: 21, ahead: 5 });
    // A minute after the first report it has left the window.
    Object.assign(p0, { rateCount: 10, lateCount: 0 });
    await reporter.report(70_000);
    assert.deepEqual(written.get('rt:ops:partition:g:t:0')?.lastMinute, { records: 110, late: 1, ahead: 0 });
    assert.equal(p0.lateCount, 0, 'the counters restart at each report');
  });
});
