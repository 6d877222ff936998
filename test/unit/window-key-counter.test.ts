import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/jobs/user-behavior/user-behavior-generator.js';
import { decimalCode, WindowKeyCounter, type CountedWindow, type WindowSpec } from '../../src/stream/index.js';
import { PartitionWindowEngine, type Aggregator, type ClosedWindow } from '../helpers/partition-window-engine.js';

interface Last {
  count: number;
  value: string;
}
const countLast: Aggregator<string, Last> = {
  create: (value) => ({ count: 1, value }),
  add: (acc, value) => ({ count: acc.count + 1, value }),
};

const SPEC: WindowSpec = { sizeMs: 60_000, advanceMs: 30_000, graceMs: 5_000, idleTimeoutMs: 10_000 };
const FRESH = { nextOffset: 0n, watermarkMs: null };

/** What the reference engine hands out, filtered to `minCount` as the counter does. */
function reference(closed: ClosedWindow<string, Last>[], minCount: number) {
  return closed.map(({ window, entries }) => ({
    window,
    entries: [...entries]
      .filter(([, a]) => a.count >= minCount)
      .map(([key, a]) => ({ key, count: a.count, value: a.value }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  }));
}
function counted(closed: CountedWindow[]) {
  return closed.map(({ window, entries }) => ({
    window,
    entries: [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  }));
}

describe('decimalCode', () => {
  it('should code canonical decimal strings of up to 15 digits and refuse everything else', () => {
    assert.equal(decimalCode('0'), 0);
    assert.equal(decimalCode('61024'), 61024);
    assert.equal(decimalCode('18701461024'), 18701461024);
    assert.equal(decimalCode('999999999999999'), 999999999999999);
    for (const s of ['', '007', '-1', '1.5', '1e3', ' 1', 'abc', '1234567890123456', '１']) {
      assert.ok(Number.isNaN(decimalCode(s)), s);
    }
  });
});

describe('WindowKeyCounter', () => {
  it('should count a key in both of its hopping windows and hand out only keys at minCount', () => {
    const c = new WindowKeyCounter(SPEC, FRESH, 0, 2);
    c.add({ offset: 0n, eventTimeMs: 40_000, key: '7', value: 'a' }, 0);
    c.add({ offset: 1n, eventTimeMs: 41_000, key: '7', value: 'b' }, 0);
    c.add({ offset: 2n, eventTimeMs: 42_000, key: 'x', value: 'c' }, 0);
    assert.equal(c.liveKeyCount, 4);
    assert.equal(c.distinctKeyCount, 2);
    c.observe({ offset: 3n, eventTimeMs: 200_000 }, 0);
    const closed = c.closeDue(0);
    assert.deepEqual(counted(closed), [
      { window: { start: 0, end: 60_000 }, entries: [{ key: '7', count: 2, value: 'b' }] },
      { window: { start: 30_000, end: 90_000 }, entries: [{ key: '7', count: 2, value: 'b' }] },
    ]);
    assert.equal(c.liveKeyCount, 0);
    assert.equal(c.distinctKeyCount, 0, 'slots of closed windows are freed');
    assert.equal(c.replayFrom, 4n);
  });

  it('should report each window the value of its own last record when a key changes value', () => {
    const c = new WindowKeyCounter(SPEC, FRESH, 0, 1);
    c.add({ offset: 0n, eventTimeMs: 50_000, key: '1', value: '100' }, 0); // [0,60) and [30,90)
    c.add({ offset: 1n, eventTimeMs: 70_000, key: '1', value: '200' }, 0); // [30,90) and [60,120)
    c.observe({ offset: 2n, eventTimeMs: 500_000 }, 0);
    assert.deepEqual(
      counted(c.closeDue(0)).map((w) => [w.window.start, w.entries[0].value, w.entries[0].count]),
      [
        [0, '100', 1],
        [30_000, '200', 2],
        [60_000, '200', 1],
      ],
    );
  });

  it('should refuse a minCount below 1', () => {
    assert.throws(() => new WindowKeyCounter(SPEC, FRESH, 0, 0), /minCount/);
  });

  for (const [name, spec] of [
    ['60 s / 30 s', SPEC],
    ['10 min / 2 min', { sizeMs: 600_000, advanceMs: 120_000, graceMs: 5_000, idleTimeoutMs: 10_000 }],
    ['tumbling 10 s', { sizeMs: 10_000, advanceMs: 10_000, graceMs: 2_000, idleTimeoutMs: 10_000 }],
  ] as const) {
    it(`should hand out exactly what PartitionWindowEngine does (${name}, random streams with jumps, late records, value changes)`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const rng = mulberry32(seed);
        const minCount = 1 + Math.floor(rng() * 3);
        const ref = new PartitionWindowEngine<string, string, Last>(spec, countLast, FRESH, 0);
        const sut = new WindowKeyCounter(spec, FRESH, 0, minCount);
        let t = 1_000_000;
        let now = 0;
        let offset = 0n;
        for (let batch = 0; batch < 40; batch++) {
          const n = 1 + Math.floor(rng() * 200);
          for (let i = 0; i < n; i++) {
            const jump = rng();
            if (jump < 0.005)
              t += Math.floor(rng() * 50 * spec.sizeMs); // far ahead: seals pending windows
            else t += Math.floor(rng() * 400);
            const late = rng() < 0.1 ? Math.floor(rng() * spec.sizeMs) : 0;
            const u = Math.floor(rng() * 60);
            // Decimal keys, text keys, and a value that sometimes changes.
            const key = u % 7 === 0 ? `u${u}` : String(u);
            const value = rng() < 0.05 ? `0${u}` : String(18_700_000_000 + u + (rng() < 0.1 ? 1 : 0));
            const r = { offset, eventTimeMs: t - late, key, value };
            const kind = rng();
            if (kind < 0.05) {
              ref.skip(offset, now);
              sut.skip(offset, now);
            } else if (kind < 0.2) {
              ref.observe(r, now);
              sut.observe(r, now);
            } else {
              assert.equal(sut.add(r, now), ref.add(r, now), `seed ${seed} offset ${offset}`);
            }
            offset++;
          }
          if (rng() < 0.1) now += 20_000; // idle advance on the next call
          assert.equal(sut.liveKeyCount, ref.liveKeyCount, `seed ${seed} batch ${batch}: live keys`);
          assert.equal(sut.openWindowCount, ref.openWindowCount, `seed ${seed} batch ${batch}: open windows`);
          assert.equal(sut.replayFrom, ref.replayFrom, `seed ${seed} batch ${batch}: replayFrom`);
          assert.deepEqual(
            counted(sut.closeDue(now)),
            reference(ref.closeDue(now), minCount),
            `seed ${seed} batch ${batch}`,
          );
          assert.equal(sut.watermarkMs, ref.watermarkMs);
          assert.equal(sut.nextOffset, ref.nextOffset);
        }
      }
    });
  }

  it('should restore like PartitionWindowEngine: replays are reported replayed and windows rebuilt from replayFrom', () => {
    const restored = { nextOffset: 5n, watermarkMs: 40_000, replayFrom: 2n };
    const ref = new PartitionWindowEngine<string, string, Last>(SPEC, countLast, restored, 0);
    const sut = new WindowKeyCounter(SPEC, restored, 0, 1);
    for (let o = 2; o < 8; o++) {
      const r = { offset: BigInt(o), eventTimeMs: 40_000 + o * 1000, key: String(o % 2), value: 'p' };
      assert.equal(sut.add(r, 0), ref.add(r, 0));
      assert.equal(sut.replayFrom, ref.replayFrom);
    }
    assert.equal(sut.isReplaying(4n), true);
    assert.equal(sut.isReplaying(5n), false);
  });

  it('should count past one byte exactly: keys with 254 to 1,000 records in a window, slots grown and windows sealed meanwhile', () => {
    const ref = new PartitionWindowEngine<string, string, Last>(SPEC, countLast, FRESH, 0);
    const sut = new WindowKeyCounter(SPEC, FRESH, 0, 3);
    const heavy: [string, number][] = [
      ['1', 254],
      ['2', 255],
      ['3', 256],
      ['u4', 600],
      ['5', 1_000],
    ];
    let offset = 0n;
    const add = (key: string, eventTimeMs: number, value: string) => {
      const r = { offset: offset++, eventTimeMs, key, value };
      assert.equal(sut.add(r, 0), ref.add(r, 0));
    };
    for (let w = 0; w < 6; w++) {
      const base = 1_000_000 + w * 30_000;
      for (const [key, n] of heavy) for (let i = 0; i < n; i++) add(key, base + (i % 29_000), `${key}-${w}-${i % 3}`);
      // Thousands of fresh keys grow the slot columns while the large counts are held.
      for (let i = 0; i < 3_000; i++) add(String(10_000 + w * 3_000 + i), base + (i % 29_000), '7');
      assert.deepEqual(counted(sut.closeDue(0)), reference(ref.closeDue(0), 3), `window step ${w}`);
    }
    // A jump far ahead seals the open windows with their large counts, then everything closes.
    add('5', 1_000_000 + 100 * 60_000, 'last');
    assert.deepEqual(counted(sut.closeDue(0)), reference(ref.closeDue(0), 3));
    assert.equal(sut.liveKeyCount, ref.liveKeyCount);
  });

  it('should keep its slots bounded by the live keys over many windows of fresh keys', () => {
    const c = new WindowKeyCounter(SPEC, FRESH, 0, 3);
    let offset = 0n;
    for (let w = 0; w < 50; w++) {
      for (let i = 0; i < 2_000; i++) {
        c.add(
          { offset: offset++, eventTimeMs: w * 30_000 + (i % 30) * 1000, key: String(w * 10_000 + i), value: '1' },
          0,
        );
      }
      c.closeDue(0);
      assert.ok(c.distinctKeyCount <= 3 * 2_000, `window ${w}: ${c.distinctKeyCount} slots in use`);
    }
  });
});
