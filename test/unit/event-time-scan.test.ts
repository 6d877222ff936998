import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventTimeScan, watermarkOf, WindowEngineInputError } from '../../src/stream/index.js';
import { PartitionWindowEngine } from '../helpers/partition-window-engine.js';

const NOW = Date.UTC(2026, 11, 7, 12);
const YEAR_MS = 365 * 86_400_000;

describe('EventTimeScan', () => {
  it('should keep the largest event time at or before the wall clock, whatever the order', () => {
    const scan = new EventTimeScan(NOW);
    for (const [i, t] of [NOW - 5_000, NOW - 60_000, NOW - 1_000, NOW - 30_000].entries()) scan.offer(BigInt(i), t);
    assert.equal(scan.latestEventTimeMs, NOW - 1_000);
    assert.equal(scan.records, 4);
    assert.equal(scan.afterWallClock, 0);
    assert.equal(scan.lastAfterWallClockOffset, null);
  });

  it('should count an event time equal to the wall clock as at or before it', () => {
    const scan = new EventTimeScan(NOW);
    scan.offer(0n, NOW);
    scan.offer(1n, NOW + 1);
    assert.equal(scan.latestEventTimeMs, NOW);
    assert.equal(scan.afterWallClock, 1);
  });

  it('should leave out event times after the wall clock and remember the offset of the last of them', () => {
    const scan = new EventTimeScan(NOW);
    scan.offer(10n, NOW + YEAR_MS);
    scan.offer(11n, NOW - 10_000);
    scan.offer(12n, NOW + YEAR_MS + 1);
    scan.offer(13n, NOW - 20_000);
    assert.equal(scan.latestEventTimeMs, NOW - 10_000);
    assert.equal(scan.afterWallClock, 2);
    assert.equal(scan.lastAfterWallClockOffset, 12n);
  });

  it('should count records without an event time (null or not finite) and take nothing from them', () => {
    const scan = new EventTimeScan(NOW);
    scan.offer(0n, null);
    scan.offer(1n, Number.NaN);
    assert.equal(scan.latestEventTimeMs, null);
    assert.equal(scan.withoutEventTime, 2);
    assert.equal(scan.records, 2);
  });

  it('should have nothing when every event time is after the wall clock', () => {
    const scan = new EventTimeScan(NOW);
    scan.offer(5n, NOW + 1);
    assert.equal(scan.latestEventTimeMs, null);
    assert.equal(scan.lastAfterWallClockOffset, 5n);
  });

  it('should refuse a wall clock that is not a finite number of milliseconds', () => {
    assert.throws(() => new EventTimeScan(Number.NaN), WindowEngineInputError);
  });
});

describe('watermarkOf', () => {
  it('should be the largest event time minus the grace period, as the window engine keeps it', () => {
    const spec = { sizeMs: 60_000, advanceMs: 30_000, graceMs: 5_000, idleTimeoutMs: 3_600_000 };
    const engine = new PartitionWindowEngine<string, number, number>(
      spec,
      { create: (v) => v, add: (n, v) => n + v },
      { nextOffset: 0n, watermarkMs: null },
      NOW,
    );
    const times = [NOW - 90_000, NOW - 10_000, NOW - 40_000];
    for (const [i, t] of times.entries()) engine.add({ offset: BigInt(i), eventTimeMs: t, key: 'k', value: 1 }, NOW);
    assert.equal(engine.watermarkMs, watermarkOf(Math.max(...times), spec.graceMs));
    assert.equal(watermarkOf(NOW, 5_000), NOW - 5_000);
  });
});
