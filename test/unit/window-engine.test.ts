import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WindowEngineInputError } from '../../src/errors/window-engine-input-error.js';
import { InvalidWindowSpecError } from '../../src/errors/invalid-window-spec-error.js';
import type { WindowSpec } from '../../src/stream/index.js';
import {
  PartitionWindowEngine,
  type Aggregator,
  type ClosedWindow,
  type WindowRecord,
} from '../helpers/partition-window-engine.js';

/** Aggregate that remembers which offsets went in, so tests can see exactly what was aggregated. */
interface Seen {
  count: number;
  offsets: bigint[];
}
interface Val {
  offset: bigint;
}

const collect: Aggregator<Val, Seen> = {
  create: (v) => ({ count: 1, offsets: [v.offset] }),
  add: (acc, v) => {
    acc.count++;
    acc.offsets.push(v.offset);
    return acc;
  },
};

const SPEC: WindowSpec = { sizeMs: 60_000, advanceMs: 30_000, graceMs: 5_000, idleTimeoutMs: 10_000 };
const FRESH = { nextOffset: 0n, watermarkMs: null };

function rec(offset: number, eventTimeMs: number, key = 'k'): WindowRecord<string, Val> {
  return { offset: BigInt(offset), eventTimeMs, key, value: { offset: BigInt(offset) } };
}

function engine(spec: WindowSpec = SPEC, nowMs = 0) {
  return new PartitionWindowEngine<string, Val, Seen>(spec, collect, FRESH, nowMs);
}

/** `[start, end) -> { key: offsets }` in emission order, easy to compare. */
function summary(closed: ClosedWindow<string, Seen>[]) {
  return closed.map(({ window, entries }) => ({
    start: window.start,
    end: window.end,
    keys: Object.fromEntries([...entries].map(([k, a]) => [k, a.offsets.map(Number)])),
  }));
}

describe('PartitionWindowEngine: aggregation and lateness', () => {
  it('should aggregate a record into all its windows and report aggregated', () => {
    const e = engine();
    assert.equal(e.add(rec(0, 60_000), 0), 'aggregated');
    assert.equal(e.openWindowCount, 2);
    assert.equal(e.watermarkMs, 55_000);
    assert.deepEqual(e.closeDue(0), [], 'nothing is final yet');
  });

  it('should aggregate an out-of-order record that is within the grace period', () => {
    const e = engine();
    e.add(rec(0, 64_000), 0); // watermark 59_000: [0, 60_000) still open
    assert.equal(e.add(rec(1, 58_000), 0), 'aggregated');
    assert.equal(e.watermarkMs, 59_000, 'an older record does not move the watermark');
    e.add(rec(2, 65_000), 0); // watermark 60_000 closes [0, 60_000)
    assert.deepEqual(summary(e.closeDue(0)), [{ start: 0, end: 60_000, keys: { k: [1] } }]);
  });

  it('should report a record beyond grace as late and not aggregate it anywhere', () => {
    const e = engine();
    e.add(rec(0, 100_000), 0); // watermark 95_000
    const windowsBefore = e.openWindowCount;
    const keysBefore = e.liveKeyCount;
    assert.equal(e.add(rec(1, 20_000, 'late-key'), 0), 'late'); // [-30k, 30k) and [0, 60k) final
    assert.equal(e.openWindowCount, windowsBefore);
    assert.equal(e.liveKeyCount, keysBefore);
    e.add(rec(2, 1_000_000), 0);
    const all = summary(e.closeDue(0));
    assert.ok(
      all.every((w) => !('late-key' in w.keys)),
      'late record appears in no window',
    );
    assert.ok(
      all.every((w) => w.start >= 60_000),
      'no window was created for it',
    );
  });

  it('should put a record some of whose windows are final only into the open ones', () => {
    const e = engine();
    e.add(rec(0, 100_000), 0); // watermark 95_000: [30k, 90k) final, [60k, 120k) open
    assert.equal(e.add(rec(1, 62_000), 0), 'aggregated');
    e.add(rec(2, 1_000_000), 0);
    const out = summary(e.closeDue(0));
    assert.deepEqual(
      out.filter((w) => w.start < 120_000),
      [
        { start: 60_000, end: 120_000, keys: { k: [0, 1] } },
        { start: 90_000, end: 150_000, keys: { k: [0] } },
      ],
    );
    assert.ok(!out.some((w) => w.start === 30_000), '[30k, 90k) was never created');
  });

  it('should advance stream time with the record itself before placing it', () => {
    // grace 0: watermark = the record's own time; its windows all end after it, so it is never late by itself
    const e = engine({ ...SPEC, graceMs: 0 });
    assert.equal(e.add(rec(0, 90_000), 0), 'aggregated');
    assert.equal(e.watermarkMs, 90_000);
    assert.deepEqual(summary(e.closeDue(0)), []);
  });

  it('should keep separate accumulators per window for the same key', () => {
    const e = engine();
    e.add(rec(0, 45_000), 0); // [0, 60k) and [30k, 90k)
    e.add(rec(1, 70_000), 0); // [30k, 90k) and [60k, 120k)
    e.add(rec(2, 1_000_000), 0);
    const out = summary(e.closeDue(0)).slice(0, 3);
    assert.deepEqual(out, [
      { start: 0, end: 60_000, keys: { k: [0] } },
      { start: 30_000, end: 90_000, keys: { k: [0, 1] } },
      { start: 60_000, end: 120_000, keys: { k: [1] } },
    ]);
  });

  it('should support immutable aggregators that return a new value from add', () => {
    const sum: Aggregator<number, number> = { create: (v) => v, add: (acc, v) => acc + v };
    const e = new PartitionWindowEngine<string, number, number>({ ...SPEC, advanceMs: 60_000 }, sum, FRESH, 0);
    e.add({ offset: 0n, eventTimeMs: 1_000, key: 'a', value: 2 }, 0);
    e.add({ offset: 1n, eventTimeMs: 2_000, key: 'a', value: 3 }, 0);
    e.add({ offset: 2n, eventTimeMs: 3_000, key: 'b', value: 7 }, 0);
    e.add({ offset: 3n, eventTimeMs: 200_000, key: 'a', value: 1 }, 0);
    const [first] = e.closeDue(0);
    assert.deepEqual(first.window, { start: 0, end: 60_000 });
    assert.deepEqual([...first.entries].sort(), [
      ['a', 5],
      ['b', 7],
    ]);
  });

  it('should count live keys per open window and release them when windows are handed out', () => {
    const e = engine();
    e.add(rec(0, 45_000, 'a'), 0); // a in [0, 60k), [30k, 90k)
    e.add(rec(1, 46_000, 'a'), 0); // same windows, same key: no new entries
    e.add(rec(2, 50_000, 'b'), 0); // b in both
    assert.equal(e.openWindowCount, 2);
    assert.equal(e.liveKeyCount, 4);
    e.add(rec(3, 65_000, 'c'), 0); // c in [30k, 90k), [60k, 120k); watermark 60_000
    assert.equal(e.liveKeyCount, 6);
    e.closeDue(0); // hands out [0, 60k) with a, b
    assert.equal(e.openWindowCount, 2);
    assert.equal(e.liveKeyCount, 4);
  });
});

describe('PartitionWindowEngine: closeDue', () => {
  it('should emit each window exactly once, ordered by end, and never re-create a closed window', () => {
    const e = engine({ ...SPEC, graceMs: 40_000 });
    // created out of order: [90k,150k) [120k,180k) first, then older ones within grace
    e.add(rec(0, 130_000, 'x'), 0); // watermark 90_000
    e.add(rec(1, 100_000, 'y'), 0); // [60k,120k), [90k,150k)
    e.add(rec(2, 95_000, 'z'), 0); // [60k,120k), [90k,150k)
    e.add(rec(3, 200_000, 'w'), 0); // watermark 160_000
    const first = summary(e.closeDue(0));
    assert.deepEqual(
      first.map((w) => [w.start, w.end]),
      [
        [60_000, 120_000],
        [90_000, 150_000],
      ],
    );
    assert.deepEqual(first[0].keys, { y: [1], z: [2] });
    assert.deepEqual(first[1].keys, { x: [0], y: [1], z: [2] });
    assert.deepEqual(e.closeDue(0), [], 'a second call emits nothing');

    // a record for the closed windows cannot bring them back
    assert.equal(e.add(rec(4, 110_000, 'v'), 0), 'late');
    // one closed ([90k,150k)), one open ([120k,180k)): only the open one gets it
    assert.equal(e.add(rec(5, 125_000, 'u'), 0), 'aggregated');
    e.add(rec(6, 10_000_000), 0);
    const rest = summary(e.closeDue(0));
    assert.ok(!rest.some((w) => w.start <= 90_000), 'no closed window re-emitted');
    assert.deepEqual(rest[0], { start: 120_000, end: 180_000, keys: { x: [0], u: [5] } });
    for (let i = 1; i < rest.length; i++) assert.ok(rest[i - 1].end < rest[i].end, 'ascending by end');
  });

  it('should close a window when the watermark is exactly its end, not one ms before', () => {
    const e = engine(); // grace 5_000
    e.add(rec(0, 40_000), 0); // [0, 60k) and [30k, 90k)
    e.add(rec(1, 64_999), 0); // watermark 59_999
    assert.equal(e.watermarkMs, 59_999);
    assert.deepEqual(e.closeDue(0), []);
    // still open at 59_999: a record for [0, 60k) is accepted there
    assert.equal(e.add(rec(2, 59_999, 'edge'), 0), 'aggregated');
    e.add(rec(3, 65_000), 0); // watermark 60_000 == end of [0, 60_000)
    assert.deepEqual(summary(e.closeDue(0)), [{ start: 0, end: 60_000, keys: { k: [0], edge: [2] } }]);
    // now [0, 60k) is final, [30k, 90k) is not
    assert.equal(e.add(rec(4, 59_999, 'after'), 0), 'aggregated');
    e.add(rec(5, 95_000), 0); // watermark 90_000
    const [w] = summary(e.closeDue(0));
    assert.deepEqual(w, { start: 30_000, end: 90_000, keys: { k: [0, 1, 3], edge: [2], after: [4] } });
  });

  it('should return nothing and keep watermark null before any record', () => {
    const e = engine(SPEC, 0);
    assert.equal(e.watermarkMs, null);
    assert.deepEqual(e.closeDue(1_000_000), []);
    assert.equal(e.watermarkMs, null, 'idle advance has nothing to advance from');
  });
});

describe('PartitionWindowEngine: idle advance', () => {
  it('should close windows after idleTimeout of wall-clock silence, not before', () => {
    const start = 1_000_000; // wall clock, unrelated to event time
    const e = engine(SPEC, start); // idle 10_000, grace 5_000
    e.add(rec(0, 50_000), start);
    assert.equal(e.watermarkMs, 45_000);
    assert.deepEqual(e.closeDue(start + 9_999), [], 'one ms before the timeout: not idle');
    assert.equal(e.watermarkMs, 45_000);
    assert.deepEqual(e.closeDue(start + 10_000), [], 'idle: 50_000 + 10_000 - 5_000 = 55_000 < 60_000');
    assert.equal(e.watermarkMs, 55_000);
    assert.deepEqual(e.closeDue(start + 14_999), []);
    assert.equal(e.watermarkMs, 59_999);
    assert.deepEqual(summary(e.closeDue(start + 15_000)), [{ start: 0, end: 60_000, keys: { k: [0] } }]);
    assert.equal(e.watermarkMs, 60_000);
    assert.equal(e.openWindowCount, 1, '[30k, 90k) stays open');
  });

  it('should not move the watermark back when a record arrives after idleness, and restart the idle timer', () => {
    const e = engine(SPEC, 0);
    e.add(rec(0, 50_000), 0);
    e.closeDue(20_000); // idle: 50_000 + 20_000 - 5_000 = 65_000
    assert.equal(e.watermarkMs, 65_000);
    assert.equal(e.add(rec(1, 51_000), 20_000), 'aggregated'); // [30k, 90k) still open
    assert.equal(e.watermarkMs, 65_000, 'the record would give 46_000; the watermark never goes back');
    e.closeDue(20_000 + 9_999);
    assert.equal(e.watermarkMs, 65_000, 'not idle again until 10_000 ms after the last record');
    e.closeDue(20_000 + 10_000); // 51_000 + 10_000 - 5_000 = 56_000 < 65_000
    assert.equal(e.watermarkMs, 65_000);
    e.closeDue(20_000 + 30_000); // 51_000 + 30_000 - 5_000 = 76_000
    assert.equal(e.watermarkMs, 76_000);
  });

  it('should apply idle advance in add before the record, so a quiet partition can make a record late', () => {
    const e = engine(SPEC, 0);
    e.add(rec(0, 50_000), 0);
    // 60 s of silence: watermark 50_000 + 60_000 - 5_000 = 105_000 before the record is placed
    assert.equal(e.add(rec(1, 52_000), 60_000), 'late');
    assert.equal(e.watermarkMs, 105_000);
  });

  it('should count idleness from engine creation when no record arrived yet (restored watermark)', () => {
    const e = new PartitionWindowEngine<string, Val, Seen>(
      SPEC,
      collect,
      { nextOffset: 7n, watermarkMs: 100_000 },
      5_000,
    );
    e.closeDue(5_000 + 9_999);
    assert.equal(e.watermarkMs, 100_000);
    e.closeDue(5_000 + 12_000);
    assert.equal(e.watermarkMs, 112_000, 'restored watermark + wall-clock silence');
  });

  it('should use the wall-clock time passed with the last record, not its event time', () => {
    const e = engine(SPEC, 0);
    e.add(rec(0, 50_000), 0);
    e.add(rec(1, 40_000), 8_000); // keeps the partition active
    e.closeDue(8_000 + 9_999);
    assert.equal(e.watermarkMs, 45_000);
    e.closeDue(8_000 + 10_000); // max event time 50_000 + 10_000 - 5_000
    assert.equal(e.watermarkMs, 55_000);
  });
});

describe('PartitionWindowEngine: offsets and replayFrom', () => {
  it('should throw when an offset goes backwards or repeats, and stay unchanged', () => {
    const e = engine();
    e.add(rec(5, 10_000), 0);
    for (const bad of [4, 5]) {
      assert.throws(
        () => e.add(rec(bad, 11_000), 0),
        (err: unknown) =>
          err instanceof WindowEngineInputError &&
          err.code === 'WINDOW_ENGINE_INPUT_INVALID' &&
          err.message.includes(`offset ${bad} is not after the last added offset 5`),
      );
    }
    assert.equal(e.nextOffset, 6n);
    assert.equal(e.liveKeyCount, 2, 'nothing of the rejected records was aggregated');
    assert.equal(e.add(rec(9, 11_000), 0), 'aggregated', 'gaps (e.g. transaction markers) are fine');
    assert.equal(e.nextOffset, 10n);
  });

  it('should throw on a non-finite event time or wall-clock time', () => {
    const e = engine();
    assert.throws(() => e.add(rec(0, Number.NaN), 0), WindowEngineInputError);
    assert.throws(() => e.add(rec(0, 1_000), Number.POSITIVE_INFINITY), WindowEngineInputError);
    assert.throws(() => e.closeDue(Number.NaN), WindowEngineInputError);
    assert.equal(e.watermarkMs, null);
    assert.equal(e.add(rec(0, 1_000), 0), 'aggregated', 'offset 0 still accepted after the rejections');
  });

  it('should reject an invalid spec or restored state at construction', () => {
    assert.throws(() => engine({ ...SPEC, sizeMs: 45_000 }), InvalidWindowSpecError);
    assert.throws(
      () => new PartitionWindowEngine(SPEC, collect, { nextOffset: -1n, watermarkMs: null }, 0),
      WindowEngineInputError,
    );
    assert.throws(
      () => new PartitionWindowEngine(SPEC, collect, { nextOffset: 5n, watermarkMs: Number.NaN }, 0),
      WindowEngineInputError,
    );
    assert.throws(
      () => new PartitionWindowEngine(SPEC, collect, { nextOffset: 5n, watermarkMs: 0, replayFrom: 6n }, 0),
      WindowEngineInputError,
    );
  });

  it('should track replayFrom as the smallest offset in a window not yet handed out', () => {
    const e = engine();
    assert.equal(e.replayFrom, 0n);
    e.add(rec(10, 10_000), 0); // [-30k,30k) [0,60k)
    e.add(rec(11, 40_000), 0); // [0,60k) [30k,90k)
    e.add(rec(12, 70_000), 0); // [30k,90k) [60k,120k); watermark 65_000
    assert.equal(e.replayFrom, 10n);
    e.closeDue(0); // hands out [-30k,30k) and [0,60k)
    assert.equal(e.replayFrom, 11n, '[30k,90k) still holds offset 11');
    e.add(rec(13, 200_000), 0);
    e.closeDue(0); // watermark 195_000: hands out [30k,90k) and [60k,120k)
    assert.equal(e.replayFrom, 13n);
    assert.equal(e.nextOffset, 14n);
    e.add(rec(14, 1_000_000), 0); // watermark 995_000: closes [150k, 210k) and [180k, 240k) too
    e.closeDue(0);
    assert.equal(e.openWindowCount, 2);
    assert.equal(e.replayFrom, 14n);
  });

  it('should report replayFrom = nextOffset when no window is open', () => {
    const e = engine();
    e.add(rec(3, 10_000), 0);
    e.add(rec(4, 1_000_000), 0);
    e.closeDue(0);
    e.closeDue(1_000_000_000); // idle advance closes the rest
    assert.equal(e.openWindowCount, 0);
    assert.equal(e.liveKeyCount, 0);
    assert.equal(e.replayFrom, 5n);
    assert.equal(e.nextOffset, 5n);
  });
});

describe('PartitionWindowEngine: observe and skip', () => {
  it('should let observe advance stream time, the watermark and nextOffset without aggregating', () => {
    const e = engine();
    e.add(rec(0, 40_000), 0);
    e.observe({ offset: 1n, eventTimeMs: 65_000 }, 0); // watermark 60_000 closes [0, 60k)
    assert.equal(e.watermarkMs, 60_000);
    assert.equal(e.nextOffset, 2n);
    assert.equal(e.liveKeyCount, 2, 'observe created no entries');
    assert.deepEqual(summary(e.closeDue(0)), [{ start: 0, end: 60_000, keys: { k: [0] } }]);
    assert.equal(e.replayFrom, 0n, '[30k, 90k) still holds offset 0');
  });

  it('should let observe restart the idle timer like a record', () => {
    const e = engine(SPEC, 0);
    e.add(rec(0, 50_000), 0);
    e.observe({ offset: 1n, eventTimeMs: 40_000 }, 8_000);
    e.closeDue(8_000 + 9_999);
    assert.equal(e.watermarkMs, 45_000, 'not idle: observe at 8_000 was activity');
  });

  it('should let skip move nextOffset on without touching stream time or the idle timer', () => {
    const e = engine(SPEC, 0);
    e.add(rec(0, 50_000), 0);
    e.skip(1n, 5_000);
    e.skip(3n, 9_000);
    assert.equal(e.nextOffset, 4n);
    assert.equal(e.watermarkMs, 45_000);
    e.closeDue(10_000); // idle since the last record with an event time (wall 0)
    assert.equal(e.watermarkMs, 55_000);
    assert.equal(e.replayFrom, 0n);
  });

  it('should enforce offset order across add, observe and skip', () => {
    const e = engine();
    e.skip(4n, 0);
    assert.throws(() => e.add(rec(4, 1_000), 0), WindowEngineInputError);
    assert.throws(() => e.observe({ offset: 3n, eventTimeMs: 1_000 }, 0), WindowEngineInputError);
    e.observe({ offset: 5n, eventTimeMs: 1_000 }, 0);
    assert.throws(() => e.skip(5n, 0), WindowEngineInputError);
    assert.throws(() => e.observe({ offset: 6n, eventTimeMs: Number.NaN }, 0), WindowEngineInputError);
    assert.equal(e.nextOffset, 6n);
  });

  it('should not move nextOffset when observe or skip replays an offset below the restored one', () => {
    const e = new PartitionWindowEngine<string, Val, Seen>(SPEC, collect, { nextOffset: 10n, watermarkMs: 0 }, 0);
    e.skip(7n, 0);
    e.observe({ offset: 8n, eventTimeMs: 1_000 }, 0);
    assert.equal(e.nextOffset, 10n);
    e.skip(10n, 0);
    assert.equal(e.nextOffset, 11n);
  });
});
