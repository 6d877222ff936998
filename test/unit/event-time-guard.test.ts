import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdditiveProcessor, type AdditiveHandler } from '../../src/engine/additive-processor.js';
import type { SourceRecord } from '../../src/engine/job.js';
import { EVENT_TIME_AHEAD, eventTimeAheadError } from '../../src/stream/index.js';

const T = Date.UTC(2026, 0, 1);
const YEAR_MS = 365 * 86_400_000;

describe('eventTimeAheadError', () => {
  it('passes an event time at most the allowance after the record timestamp, and any earlier one', () => {
    assert.equal(eventTimeAheadError(T + 60_000, T, 60_000), null);
    assert.equal(eventTimeAheadError(T - YEAR_MS, T, 60_000), null, 'old events are the late rule, not this one');
  });

  it('refuses one further ahead, naming both times and the allowance', () => {
    const err = eventTimeAheadError(T + YEAR_MS, T, 60_000);
    assert.equal(err?.reason, EVENT_TIME_AHEAD);
    assert.match(err.message, /2027-01-01T00:00:00\.000Z/);
    assert.match(err.message, /2026-01-01T00:00:00\.000Z/);
    assert.match(err.message, /at most 60000 ms allowed, MAX_EVENT_TIME_AHEAD_MS/);
    assert.equal(eventTimeAheadError(T + 60_001, T, 60_000)?.reason, EVENT_TIME_AHEAD);
  });

  it('passes a record without a Kafka timestamp (-1): there is nothing to compare with', () => {
    assert.equal(eventTimeAheadError(T + YEAR_MS, -1, 60_000), null);
  });
});

describe('AdditiveProcessor with a wrong clock among the records', () => {
  const handler = (seen: number[][]): AdditiveHandler<number> => ({
    parse: (r) => Number(r.value!.toString()),
    eventTimeMs: (t) => t,
    maxEventTimeAheadMs: 60_000,
    aggregate: (parts) => {
      seen.push(parts.flatMap((p) => p.events));
      return { write: () => Promise.resolve() };
    },
  });
  const rec = (offset: bigint, eventTimeMs: number, timestampMs = T): SourceRecord => ({
    offset,
    key: null,
    value: Buffer.from(String(eventTimeMs)),
    timestampMs,
  });

  it('dead-letters a record a year ahead without moving the watermark, and decides the same on a replay', () => {
    const seen: number[][] = [];
    const run = () => {
      const p = new AdditiveProcessor(handler(seen), 0, { nextOffset: 0n, watermarkMs: null }, 5_000);
      const result = p.process([rec(0n, T + YEAR_MS), rec(1n, T - 1_000), rec(2n, T + 30_000)], T + 10 * YEAR_MS);
      return { result, position: p.position() };
    };
    const first = run();
    assert.deepEqual(
      first.result.deadLetters.map((d) => [d.record.offset, d.reason]),
      [[0n, EVENT_TIME_AHEAD]],
    );
    assert.equal(first.position.watermarkMs, T + 30_000 - 5_000, 'the watermark follows the real records only');
    assert.equal(first.position.nextOffset, 3n, 'the bad record is consumed');
    assert.equal(first.result.records, 3);
    // The wall clock of a replay is another; the reference is the record's own timestamp.
    const again = run();
    assert.deepEqual(
      again.result.deadLetters.map((d) => d.record.offset),
      [0n],
    );
    assert.deepEqual(again.position, first.position);
  });
});
