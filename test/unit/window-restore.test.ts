import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { windowsFor, type AddOutcome, type RestoredPartitionState, type WindowSpec } from '../../src/stream/index.js';
import {
  PartitionWindowEngine,
  type Aggregator,
  type ClosedWindow,
  type WindowRecord,
} from '../helpers/partition-window-engine.js';
import { mulberry32 } from '../../src/jobs/user-behavior/user-behavior-generator.js';

/** Sum of values plus the offsets that went in, so a comparison shows exactly which records were aggregated. */
interface Agg {
  sum: number;
  offsets: bigint[];
}
/** `kind` says which engine call the job would make for the record. */
type Rec = WindowRecord<string, number> & { kind: 'add' | 'observe' | 'skip' };
type Outcome = AddOutcome | 'observed' | 'skipped';
function withOffsets(): Aggregator<Rec, Agg> {
  return {
    create: (r) => ({ sum: r.value, offsets: [r.offset] }),
    add: (acc, r) => {
      acc.sum += r.value;
      acc.offsets.push(r.offset);
      return acc;
    },
  };
}

type Engine = PartitionWindowEngine<string, Rec, Agg>;
function newEngine(spec: WindowSpec, restored: RestoredPartitionState, nowMs: number): Engine {
  return new PartitionWindowEngine<string, Rec, Agg>(spec, withOffsets(), restored, nowMs);
}
function add(e: Engine, r: Omit<Rec, 'kind'>, nowMs: number): AddOutcome {
  return e.add({ offset: r.offset, eventTimeMs: r.eventTimeMs, key: r.key, value: { ...r, kind: 'add' } }, nowMs);
}
function feed(e: Engine, r: Rec, nowMs: number): Outcome {
  if (r.kind === 'skip') {
    e.skip(r.offset, nowMs);
    return 'skipped';
  }
  if (r.kind === 'observe') {
    e.observe(r, nowMs);
    return 'observed';
  }
  return add(e, r, nowMs);
}

interface Batch {
  nowMs: number;
  records: Rec[];
}

/**
 * A partition's stream: event time mostly moving forward, jitter within
 * grace, some records far beyond grace (late), some exactly on window
 * boundaries, offset gaps (transaction markers), records the job only
 * observes (other event types) or skips (malformed), cut into random batches.
 */
function generate(seed: number, count: number, spec: WindowSpec): Batch[] {
  const rnd = mulberry32(seed);
  const batches: Batch[] = [];
  let cursor = 1_700_000_000_000 + Math.floor(rnd() * spec.sizeMs);
  let offset = BigInt(Math.floor(rnd() * 1000));
  let nowMs = 1_800_000_000_000;
  let left = count;
  while (left > 0) {
    const n = Math.min(left, 1 + Math.floor(rnd() * 25));
    left -= n;
    nowMs += 100;
    const records: Rec[] = [];
    for (let i = 0; i < n; i++) {
      offset += rnd() < 0.1 ? 2n : 1n;
      cursor += Math.floor(rnd() * (spec.advanceMs / 5));
      const roll = rnd();
      let t: number;
      if (roll < 0.08)
        t = cursor - Math.floor(rnd() * 2 * spec.sizeMs); // often beyond grace
      else if (roll < 0.13)
        t = cursor - (cursor % spec.advanceMs); // exactly on a boundary
      else t = cursor - Math.floor(rnd() * (spec.graceMs + 1));
      const kindRoll = rnd();
      const kind = kindRoll < 0.1 ? 'observe' : kindRoll < 0.15 ? 'skip' : 'add';
      records.push({
        offset,
        eventTimeMs: t,
        key: `user-${Math.floor(rnd() * 6)}`,
        value: Math.floor(rnd() * 100),
        kind,
      });
    }
    batches.push({ nowMs, records });
  }
  return batches;
}

function summary(closed: ClosedWindow<string, Agg>[]) {
  return closed.map(({ window, entries }) => ({
    start: window.start,
    end: window.end,
    entries: [...entries].sort(([a], [b]) => (a < b ? -1 : 1)),
  }));
}

function snapshot(e: Engine) {
  return {
    nextOffset: e.nextOffset,
    watermarkMs: e.watermarkMs,
    replayFrom: e.replayFrom,
    openWindowCount: e.openWindowCount,
    liveKeyCount: e.liveKeyCount,
  };
}

/** Never idle within a run: wall clock moves 100 ms per batch. */
const IDLE_OFF = 3_600_000;
const SPECS: WindowSpec[] = [
  { sizeMs: 60_000, advanceMs: 30_000, graceMs: 5_000, idleTimeoutMs: IDLE_OFF },
  { sizeMs: 60_000, advanceMs: 60_000, graceMs: 0, idleTimeoutMs: IDLE_OFF },
  { sizeMs: 90_000, advanceMs: 30_000, graceMs: 10_000, idleTimeoutMs: IDLE_OFF },
];

function runOriginal(spec: WindowSpec, batches: Batch[]) {
  const e = newEngine(spec, { nextOffset: 0n, watermarkMs: null }, batches[0].nowMs - 1);
  const outcomes = new Map<bigint, Outcome>();
  const emitted: ReturnType<typeof summary>[] = [];
  const snapshots: ReturnType<typeof snapshot>[] = [];
  const watermarkAfter = new Map<bigint, number | null>();
  for (const { nowMs, records } of batches) {
    for (const r of records) {
      outcomes.set(r.offset, feed(e, r, nowMs));
      watermarkAfter.set(r.offset, e.watermarkMs);
    }
    emitted.push(summary(e.closeDue(nowMs)));
    snapshots.push(snapshot(e));
  }
  return { engine: e, outcomes, emitted, snapshots, watermarkAfter };
}

describe('PartitionWindowEngine: random stream against the definition', () => {
  for (const [i, spec] of SPECS.entries()) {
    it(`should put every record exactly into its non-final windows and emit each window once, in end order (spec ${i})`, () => {
      const batches = generate(1000 + i, 3000, spec);
      const { engine, outcomes, emitted, watermarkAfter } = runOriginal(spec, batches);
      const last = batches.at(-1)!.nowMs;
      emitted.push(summary(engine.closeDue(last + 10 * IDLE_OFF))); // idle flush: everything closes
      assert.equal(engine.openWindowCount, 0);
      assert.equal(engine.liveKeyCount, 0);

      const byOffset = new Map(batches.flatMap((b) => b.records).map((r) => [r.offset, r] as const));
      const windows = emitted.flat();
      for (let k = 1; k < windows.length; k++) {
        assert.ok(windows[k - 1].end < windows[k].end, 'globally ascending by end, each window once');
      }
      const placed = new Map<bigint, number[]>(); // offset -> starts of windows it is in
      for (const w of windows) {
        assert.ok(w.entries.length > 0, 'no empty window');
        for (const [key, agg] of w.entries) {
          let sum = 0;
          for (const off of agg.offsets) {
            const list = placed.get(off) ?? [];
            list.push(w.start);
            placed.set(off, list);
            const r = byOffset.get(off)!;
            assert.equal(r.key, key);
            sum += r.value;
          }
          assert.equal(agg.sum, sum);
        }
      }
      let maxT = -Infinity;
      let late = 0;
      for (const r of byOffset.values()) {
        const wm = watermarkAfter.get(r.offset)!;
        if (r.kind === 'skip') {
          assert.equal(outcomes.get(r.offset), 'skipped');
          assert.equal(
            wm,
            maxT === -Infinity ? null : maxT - spec.graceMs,
            'a skipped record does not move the watermark',
          );
          assert.ok(!placed.has(r.offset));
          continue;
        }
        maxT = Math.max(maxT, r.eventTimeMs);
        assert.equal(wm, maxT - spec.graceMs, 'watermark = max event time - grace');
        if (r.kind === 'observe') {
          assert.equal(outcomes.get(r.offset), 'observed');
          assert.ok(!placed.has(r.offset));
          continue;
        }
        const expected = windowsFor(r.eventTimeMs, spec)
          .filter((w) => w.end > wm)
          .map((w) => w.start);
        assert.deepEqual(placed.get(r.offset) ?? [], expected, `offset ${r.offset}`);
        assert.equal(outcomes.get(r.offset), expected.length === 0 ? 'late' : 'aggregated');
        if (expected.length === 0) late++;
      }
      assert.ok(late > 20, `the stream exercises late records (${late})`);
    });
  }
});

describe('PartitionWindowEngine: exactly-once restore', () => {
  for (const [i, spec] of SPECS.entries()) {
    it(`should emit after a crash at every batch boundary exactly what the uncrashed engine emits (spec ${i})`, () => {
      const batches = generate(42 + i, 1500, spec);
      const original = runOriginal(spec, batches);
      let replayedLate = 0;
      let replayed = 0;
      let nonTrivialRestores = 0;
      // crash after batch `crash` (-1: before any batch, fresh state); alternately with and without the optional replayFrom
      for (let crash = -1; crash < batches.length - 1; crash++) {
        const stored =
          crash < 0
            ? { nextOffset: 0n, watermarkMs: null, replayFrom: 0n, openWindowCount: 0, liveKeyCount: 0 }
            : original.snapshots[crash];
        const restored: RestoredPartitionState = { nextOffset: stored.nextOffset, watermarkMs: stored.watermarkMs };
        if (crash % 2 === 0) restored.replayFrom = stored.replayFrom;
        const restartNow = batches[crash + 1].nowMs - 50;
        const e = newEngine(spec, restored, restartNow);
        if (stored.replayFrom < stored.nextOffset) nonTrivialRestores++;

        // consumer sought to replayFrom: the records below nextOffset come again
        for (let b = 0; b <= crash; b++) {
          for (const r of batches[b].records) {
            if (r.offset < stored.replayFrom) continue;
            assert.ok(e.isReplaying(r.offset));
            const outcome = feed(e, r, restartNow);
            assert.equal(e.nextOffset, stored.nextOffset, 'replays do not move nextOffset');
            if (r.kind !== 'add') continue;
            assert.ok(outcome === 'replayed' || outcome === 'replayed-late', `replayed record got ${outcome}`);
            if (original.outcomes.get(r.offset) === 'late') assert.equal(outcome, 'replayed-late');
            if (outcome === 'replayed-late') replayedLate++;
            else replayed++;
          }
          assert.deepEqual(e.closeDue(restartNow), [], 'nothing handed out twice during replay');
        }
        assert.deepEqual(snapshot(e), stored, `state rebuilt exactly after crash at batch ${crash}`);

        for (let b = crash + 1; b < batches.length; b++) {
          const { nowMs, records } = batches[b];
          for (const r of records) {
            assert.ok(!e.isReplaying(r.offset));
            assert.equal(feed(e, r, nowMs), original.outcomes.get(r.offset), `offset ${r.offset} after crash ${crash}`);
          }
          assert.deepEqual(summary(e.closeDue(nowMs)), original.emitted[b], `batch ${b} after crash ${crash}`);
          assert.deepEqual(snapshot(e), original.snapshots[b]);
        }
      }
      assert.ok(
        replayed > 300 && replayedLate > 10,
        `replays exercised (${replayed} replayed, ${replayedLate} replayed-late)`,
      );
      assert.ok(nonTrivialRestores > batches.length / 2);
    });
  }

  it('should ignore replayed records whose windows are all final without calling them late', () => {
    const spec = SPECS[0];
    const e = newEngine(spec, { nextOffset: 10n, watermarkMs: 95_000 }, 0);
    const r = (offset: bigint, t: number): Omit<Rec, 'kind'> => ({ offset, eventTimeMs: t, key: 'k', value: 1 });
    assert.ok(e.isReplaying(9n));
    assert.ok(!e.isReplaying(10n));
    assert.equal(add(e, r(3n, 20_000), 0), 'replayed-late');
    assert.equal(e.openWindowCount, 0);
    assert.equal(add(e, r(4n, 70_000), 0), 'replayed', '[60k,120k) is open');
    assert.equal(e.openWindowCount, 1);
    assert.equal(add(e, r(10n, 20_000), 0), 'late', 'the same situation for a new record is late');
    assert.equal(add(e, r(11n, 80_000), 0), 'aggregated');
  });

  it('should start from the restored watermark and never create or emit windows ending at or before it', () => {
    const spec = SPECS[0];
    const e = newEngine(spec, { nextOffset: 5n, watermarkMs: 60_000 }, 0);
    assert.equal(e.watermarkMs, 60_000);
    assert.equal(add(e, { offset: 2n, eventTimeMs: 10_000, key: 'k', value: 1 }, 0), 'replayed-late');
    assert.equal(e.watermarkMs, 60_000, 'a replayed record does not pull the watermark below the restored one');
    assert.equal(add(e, { offset: 5n, eventTimeMs: 59_000, key: 'k', value: 1 }, 0), 'aggregated');
    assert.equal(e.watermarkMs, 60_000);
    assert.equal(add(e, { offset: 6n, eventTimeMs: 1_000_000, key: 'k', value: 1 }, 0), 'aggregated');
    const starts = e.closeDue(0).map((c) => c.window.start);
    assert.equal(starts[0], 30_000, '[0, 60k) was final at restore and is never emitted');
    assert.ok(!starts.includes(0));
  });

  it('should keep nextOffset at the restored value during replay', () => {
    const e = newEngine(SPECS[0], { nextOffset: 100n, watermarkMs: 0 }, 0);
    add(e, { offset: 90n, eventTimeMs: 10_000, key: 'k', value: 1 }, 0);
    assert.equal(e.nextOffset, 100n);
    add(e, { offset: 102n, eventTimeMs: 11_000, key: 'k', value: 1 }, 0);
    assert.equal(e.nextOffset, 103n);
  });

  it('should throw when replayed offsets go backwards (a second seek would double-count)', () => {
    const e = newEngine(SPECS[0], { nextOffset: 100n, watermarkMs: 0 }, 0);
    add(e, { offset: 90n, eventTimeMs: 10_000, key: 'k', value: 1 }, 0);
    assert.throws(() => add(e, { offset: 89n, eventTimeMs: 10_000, key: 'k', value: 1 }, 0), /offset 89 is not after/);
  });

  it('should not report a replayFrom above the restored one before the replayed records arrived', () => {
    const withFloor = newEngine(SPECS[0], { nextOffset: 100n, watermarkMs: 0, replayFrom: 80n }, 0);
    assert.equal(withFloor.replayFrom, 80n, 'a store right after restart keeps the seek position');
    add(withFloor, { offset: 80n, eventTimeMs: 10_000, key: 'k', value: 1 }, 0);
    assert.equal(withFloor.replayFrom, 80n);
    const withoutFloor = newEngine(SPECS[0], { nextOffset: 100n, watermarkMs: 0 }, 0);
    assert.equal(withoutFloor.replayFrom, 100n, 'without it, the minimal state gives nextOffset');
  });
});
