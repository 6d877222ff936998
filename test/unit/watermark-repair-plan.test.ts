import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planPartition, readRangeOf, TAIL_READ_RECORDS } from '../../src/engine/watermark-repair-plan.js';
import { EventTimeScan } from '../../src/stream/index.js';

const NOW = Date.UTC(2026, 11, 7, 12);
const YEAR_MS = 365 * 86_400_000;
const LOG = { earliest: 0n, latest: 50_000n };

describe('readRangeOf', () => {
  it('should read the stored open windows, [replay_from, next_offset), when they hold records', () => {
    assert.deepEqual(readRangeOf({ replayFrom: 1_200n, nextOffset: 1_500n }, LOG), {
      kind: 'OPEN_WINDOWS',
      from: 1_200n,
      to: 1_500n,
    });
  });

  it('should read the tail before next_offset when no window is open (the additive jobs)', () => {
    assert.deepEqual(readRangeOf({ replayFrom: 30_000n, nextOffset: 30_000n }, LOG), {
      kind: 'PARTITION_TAIL',
      from: 30_000n - BigInt(TAIL_READ_RECORDS),
      to: 30_000n,
    });
    assert.deepEqual(readRangeOf({ replayFrom: 300n, nextOffset: 300n }, LOG, 1_000), {
      kind: 'PARTITION_TAIL',
      from: 0n,
      to: 300n,
    });
  });

  it('should keep within what the log holds: retention, a shorter log, nothing read yet', () => {
    const retained = { earliest: 1_300n, latest: 50_000n };
    assert.deepEqual(readRangeOf({ replayFrom: 1_200n, nextOffset: 1_500n }, retained), {
      kind: 'OPEN_WINDOWS',
      from: 1_300n,
      to: 1_500n,
    });
    const gone = { earliest: 2_000n, latest: 2_000n };
    const r = readRangeOf({ replayFrom: 1_200n, nextOffset: 1_500n }, gone);
    assert.equal(r.from, r.to, 'nothing left to read');
    assert.deepEqual(readRangeOf({ replayFrom: 1_200n, nextOffset: 90_000n }, LOG), {
      kind: 'OPEN_WINDOWS',
      from: 1_200n,
      to: 50_000n,
    });
    const none = readRangeOf({ replayFrom: -1n, nextOffset: -1n }, LOG);
    assert.equal(none.to - none.from, 0n);
  });
});

describe('planPartition', () => {
  const stored = { watermarkMs: NOW + YEAR_MS, nextOffset: 1_500n, replayFrom: 1_200n };
  const scanOf = (records: [bigint, number | null][]) => {
    const scan = new EventTimeScan(NOW);
    for (const [o, t] of records) scan.offer(o, t);
    return scan;
  };

  it('should set a later watermark back to the target, and the replay start past the last record after the wall clock', () => {
    const scan = scanOf([
      [1_200n, NOW + YEAR_MS + 5_000],
      [1_201n, NOW - 60_000],
      [1_202n, null],
      [1_499n, NOW - 30_000],
    ]);
    const range = readRangeOf(stored, LOG);
    const plan = planPartition(2, stored, NOW - 35_000, { range, scan });
    assert.equal(plan.outcome, 'SET_BACK');
    assert.equal(plan.beforeMs, NOW + YEAR_MS);
    assert.equal(plan.afterMs, NOW - 35_000);
    assert.equal(plan.replayFromBefore, 1_200n);
    assert.equal(plan.replayFromAfter, 1_201n);
    assert.deepEqual(plan.read, {
      kind: 'OPEN_WINDOWS',
      from: 1_200n,
      to: 1_500n,
      records: 4,
      latestEventTimeMs: NOW - 30_000,
      afterWallClock: 1,
      withoutEventTime: 1,
    });
  });

  it('should never move a watermark forward, nor touch the replay start then', () => {
    const scan = scanOf([[1_200n, NOW + YEAR_MS]]);
    const plan = planPartition(0, { ...stored, watermarkMs: NOW - 60_000 }, NOW - 30_000, {
      range: readRangeOf(stored, LOG),
      scan,
    });
    assert.equal(plan.outcome, 'NOT_LATER');
    assert.equal(plan.afterMs, NOW - 60_000);
    assert.equal(plan.replayFromAfter, 1_200n);
    assert.equal(planPartition(0, { ...stored, watermarkMs: NOW - 30_000 }, NOW - 30_000).outcome, 'NOT_LATER');
  });

  it('should leave a partition without a watermark, and one without a target, saying so', () => {
    const none = planPartition(1, { ...stored, watermarkMs: null }, NOW - 30_000);
    assert.equal(none.outcome, 'NO_WATERMARK');
    assert.equal(none.afterMs, null);
    const nothing = planPartition(1, stored, null, {
      range: readRangeOf(stored, LOG),
      scan: scanOf([[1_200n, NOW + YEAR_MS]]),
    });
    assert.equal(nothing.outcome, 'NO_EVENT_TIME');
    assert.equal(nothing.afterMs, stored.watermarkMs, 'left as it is');
    assert.equal(nothing.replayFromAfter, stored.replayFrom);
  });

  it('should move no replay start for a given time or a tail read (nothing before next_offset is replayed there)', () => {
    assert.equal(planPartition(0, stored, NOW - 30_000).replayFromAfter, 1_200n);
    const tail = { ...stored, replayFrom: 1_500n };
    const plan = planPartition(0, tail, NOW - 30_000, {
      range: readRangeOf(tail, LOG),
      scan: scanOf([[1_400n, NOW + YEAR_MS]]),
    });
    assert.equal(plan.read?.kind, 'PARTITION_TAIL');
    assert.equal(plan.replayFromAfter, 1_500n);
  });
});
