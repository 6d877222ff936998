import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';
import { AdditiveProcessor, type AdditiveHandler } from '../../src/engine/additive-processor.js';
import type { SourceRecord } from '../../src/engine/job.js';

/** Records carry their event time (ms) as text; "bad" is malformed. */
function handler(
  log: { events: number[]; watermarkMs: number | null }[] = [],
  idle: number[] = [],
): AdditiveHandler<number> {
  return {
    parse: (r) => {
      const text = r.value!.toString();
      if (text === 'bad') throw new MalformedRecordError('bad-event-time', 'not a number');
      return Number(text);
    },
    eventTimeMs: (t) => t,
    aggregate: (parts) => {
      log.push({ events: parts.flatMap((p) => p.events), watermarkMs: parts[parts.length - 1].watermarkMs });
      return { write: () => Promise.resolve() }; // a write that succeeds
    },
    onIdleAdvance: (ctx) => {
      idle.push(ctx.watermarkMs);
      return { afterCommit: () => undefined }; // nothing to do after the commit
    },
  };
}

let offset = 0n;
function rec(value: string, at?: bigint): SourceRecord {
  const o = at ?? offset++;
  return { offset: o, key: null, value: Buffer.from(value), timestampMs: 0 };
}

const GRACE = 5_000;
const IDLE = 60_000;
const T = 1_767_225_600_000; // 2026-01-01T00:00:00Z

describe('AdditiveProcessor without idle advance (default)', () => {
  it('should take the watermark from records only and never tick', () => {
    const p = new AdditiveProcessor(handler(), 0, { nextOffset: 0n, watermarkMs: null }, GRACE);
    assert.equal(p.tick(T + 10 * IDLE), null);
    p.process([rec(String(T), 0n), rec(String(T + 20_000), 1n), rec(String(T + 10_000), 2n)], T);
    assert.deepEqual(p.position(), { nextOffset: 3n, replayFrom: 3n, watermarkMs: T + 20_000 - GRACE });
    assert.equal(p.tick(T + 10 * IDLE), null);
    assert.equal(p.position().watermarkMs, T + 15_000);
  });

  it('should skip records below the restored next offset and never lower a restored watermark', () => {
    const log: { events: number[]; watermarkMs: number | null }[] = [];
    const p = new AdditiveProcessor(handler(log), 0, { nextOffset: 2n, watermarkMs: T }, GRACE);
    const r = p.process([rec(String(T + 1), 1n), rec(String(T + 2), 2n)], T);
    assert.equal(r.records, 1);
    assert.deepEqual(log, [{ events: [T + 2], watermarkMs: T }]);
  });

  it('should dead-letter malformed records with their reason and still move the offset on', () => {
    const p = new AdditiveProcessor(handler(), 0, { nextOffset: 0n, watermarkMs: null }, GRACE);
    const r = p.process([rec('bad', 0n)], T);
    assert.deepEqual(
      r.deadLetters.map((d) => d.reason),
      ['bad-event-time'],
    );
    assert.equal(r.write, undefined);
    assert.equal(p.position().nextOffset, 1n);
  });

  it('should dead-letter an event its handler rejects, as a value, without moving the watermark', () => {
    const log: { events: number[]; watermarkMs: number | null }[] = [];
    const tooOld = (t: number) => (t < T ? { reason: 'too-old', detail: `event time ${t} before ${T}` } : null);
    const p = new AdditiveProcessor(
      { ...handler(log), reject: tooOld },
      0,
      { nextOffset: 0n, watermarkMs: null },
      GRACE,
    );
    const r = p.process([rec(String(T + 10_000), 0n), rec(String(T - 1), 1n), rec(String(T + 20_000), 2n)], T);
    assert.deepEqual(
      r.deadLetters.map((d) => [d.record.offset, d.reason, d.detail]),
      [[1n, 'too-old', `event time ${T - 1} before ${T}`]],
    );
    assert.deepEqual(log[0].events, [T + 10_000, T + 20_000], 'the others are counted');
    assert.equal(p.position().nextOffset, 3n);
    assert.equal(p.position().watermarkMs, T + 20_000 - GRACE);
  });
});

describe('AdditiveProcessor with idle advance (opt-in, Flink withIdleness)', () => {
  const idle = (restored: { nextOffset: bigint; watermarkMs: number | null }, nowMs: number, ticks: number[] = []) =>
    new AdditiveProcessor(handler([], ticks), 0, restored, GRACE, { idleTimeoutMs: IDLE, nowMs });

  it('should not move the watermark before the partition has been idle for idleTimeoutMs', () => {
    const p = idle({ nextOffset: 0n, watermarkMs: null }, T);
    p.process([rec(String(T), 0n)], T);
    assert.equal(p.tick(T + IDLE - 1), null);
    assert.equal(p.position().watermarkMs, T - GRACE);
  });

  it('should move the watermark on with wall-clock time once idle, and return a result with no write so it is committed', () => {
    const ticks: number[] = [];
    const p = idle({ nextOffset: 0n, watermarkMs: null }, T, ticks);
    p.process([rec(String(T), 0n)], T);
    const r = p.tick(T + IDLE);
    assert.ok(r);
    assert.equal(r.write, undefined);
    assert.equal(r.records, 0);
    assert.equal(typeof r.afterCommit, 'function');
    // max event time + idle time - grace
    assert.equal(p.position().watermarkMs, T + IDLE - GRACE);
    assert.ok(p.tick(T + IDLE + 1_000));
    assert.equal(p.position().watermarkMs, T + IDLE + 1_000 - GRACE);
    assert.deepEqual(ticks, [T + IDLE - GRACE, T + IDLE + 1_000 - GRACE]);
    assert.equal(p.position().nextOffset, 1n);
  });

  it('should return null from a tick that does not move the watermark', () => {
    const p = idle({ nextOffset: 0n, watermarkMs: null }, T);
    p.process([rec(String(T), 0n)], T);
    assert.ok(p.tick(T + IDLE));
    assert.equal(p.tick(T + IDLE), null);
  });

  it('should restart the idle timer with each record that has an event time', () => {
    const p = idle({ nextOffset: 0n, watermarkMs: null }, T);
    p.process([rec(String(T), 0n)], T);
    p.process([rec(String(T + 1_000), 1n)], T + IDLE - 1);
    assert.equal(p.tick(T + IDLE + 10), null);
    assert.equal(p.position().watermarkMs, T + 1_000 - GRACE);
  });

  it('should not restart the idle timer with malformed records: a partition of garbage is idle', () => {
    const p = idle({ nextOffset: 0n, watermarkMs: null }, T);
    p.process([rec(String(T), 0n)], T);
    p.process([rec('bad', 1n)], T + IDLE - 1);
    assert.ok(p.tick(T + IDLE));
    assert.equal(p.position().watermarkMs, T + IDLE - GRACE);
  });

  it('should never lower the watermark when records older than the idle-advanced watermark arrive', () => {
    const p = idle({ nextOffset: 0n, watermarkMs: null }, T);
    p.process([rec(String(T), 0n)], T);
    p.tick(T + 5 * IDLE);
    const advanced = p.position().watermarkMs;
    p.process([rec(String(T + 1), 1n)], T + 5 * IDLE);
    assert.equal(p.position().watermarkMs, advanced);
  });

  it('should advance a restored watermark by the idle time when no record came since the restore', () => {
    const p = idle({ nextOffset: 10n, watermarkMs: T }, T + 1);
    assert.ok(p.tick(T + 1 + IDLE));
    assert.equal(p.position().watermarkMs, T + IDLE);
  });

  it('should hold a partition that never saw a record at no watermark until it is idle, then use wall-clock time minus grace', () => {
    const p = idle({ nextOffset: 0n, watermarkMs: null }, T);
    assert.equal(p.tick(T + IDLE - 1), null);
    assert.equal(p.position().watermarkMs, null);
    assert.ok(p.tick(T + IDLE));
    assert.equal(p.position().watermarkMs, T + IDLE - GRACE);
  });

  it('should apply the idle advance before the records of a batch that ends a long silence', () => {
    const log: { events: number[]; watermarkMs: number | null }[] = [];
    const p = new AdditiveProcessor(handler(log), 0, { nextOffset: 0n, watermarkMs: null }, GRACE, {
      idleTimeoutMs: IDLE,
      nowMs: T,
    });
    p.process([rec(String(T), 0n)], T);
    p.process([rec(String(T + 1_000), 1n)], T + 2 * IDLE);
    assert.equal(log[1].watermarkMs, T + 2 * IDLE - GRACE);
  });

  it('should refuse an idle timeout that is not positive', () => {
    assert.throws(
      () =>
        new AdditiveProcessor(handler(), 0, { nextOffset: 0n, watermarkMs: null }, GRACE, {
          idleTimeoutMs: 0,
          nowMs: T,
        }),
      /idleTimeoutMs/,
    );
  });
});

describe('AdditiveProcessor of a handler that aggregates across batches', () => {
  it('should aggregate only when written, and combine two batches into one aggregate with the later context', async () => {
    const log: { events: number[]; watermarkMs: number | null }[] = [];
    const p = new AdditiveProcessor(
      { ...handler(log), aggregatesAcrossBatches: true },
      0,
      { nextOffset: 0n, watermarkMs: null },
      GRACE,
    );
    const a = p.process([rec('10000', 0n), rec('bad', 1n)], 0);
    const b = p.process([rec('20000', 2n)], 0);
    assert.equal(log.length, 0, 'nothing aggregated before the write');
    const both = a.combineWrites?.(b);
    assert.ok(both?.write);
    await both.write(undefined as never);
    assert.deepEqual(log, [{ events: [10_000, 20_000], watermarkMs: 15_000 }]);
    const c = p.process([rec('30000', 3n)], 0);
    assert.equal(both.combineWrites?.(c), undefined, 'written: too late to combine');
  });

  it('should combine the results of two partitions of one job into one aggregate, a part per partition', async () => {
    const parts: { partition: number; events: number[]; nextOffset: bigint }[][] = [];
    const shared: AdditiveHandler<number> = {
      ...handler(),
      aggregatesAcrossBatches: true,
      aggregate: (ps) => {
        parts.push(ps.map((p) => ({ partition: p.partition, events: [...p.events], nextOffset: p.nextOffset })));
        return { write: () => Promise.resolve() };
      },
    };
    const p0 = new AdditiveProcessor(shared, 0, { nextOffset: 0n, watermarkMs: null }, GRACE);
    const p1 = new AdditiveProcessor(shared, 1, { nextOffset: 5n, watermarkMs: null }, GRACE);
    const a = p1.process([rec('1', 5n)], 0);
    const b = p0.process([rec('2', 0n), rec('3', 1n)], 0);
    const c = p1.process([rec('4', 6n)], 0);
    const ab = a.combineWrites?.(b);
    const abc = ab?.combineWrites?.(c);
    assert.ok(abc?.write);
    await abc.write(undefined as never);
    assert.deepEqual(parts, [
      [
        { partition: 0, events: [2, 3], nextOffset: 2n },
        { partition: 1, events: [1, 4], nextOffset: 7n },
      ],
    ]);
  });

  it('should not combine with a result of another job', () => {
    const mk = () =>
      new AdditiveProcessor(
        { ...handler(), aggregatesAcrossBatches: true },
        0,
        { nextOffset: 0n, watermarkMs: null },
        GRACE,
      );
    const a = mk().process([rec('1', 0n)], 0);
    const b = mk().process([rec('2', 1n)], 0);
    assert.equal(a.combineWrites?.(b), undefined);
  });

  it('should aggregate at once and offer no combination by default', () => {
    const log: { events: number[]; watermarkMs: number | null }[] = [];
    const p = new AdditiveProcessor(handler(log), 0, { nextOffset: 0n, watermarkMs: null }, GRACE);
    const a = p.process([rec('1', 0n)], 0);
    assert.equal(log.length, 1);
    assert.equal(a.combineWrites, undefined);
  });
});
