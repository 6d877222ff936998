import assert from 'node:assert/strict';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';

/**
 * What a parser made of one record: the value it returned, or the reason and
 * message of the {@link MalformedRecordError} it threw (any other error is
 * rethrown: a parser must not fail any other way).
 */
export type ParseOutcome<T> = { ok: T } | { reason: string; message: string };

/** A record parser under comparison: the bytes of a record's value in, its event (or null, for a skipped record) out. */
export type RecordParser<T> = (value: Buffer) => T;

function outcome<T>(parse: RecordParser<T>, value: Buffer): ParseOutcome<T> {
  try {
    return { ok: parse(value) };
  } catch (err) {
    if (!(err instanceof MalformedRecordError)) throw err;
    return { reason: err.reason, message: err.message };
  }
}

/**
 * Asserts that a lean (byte-scanning) parser and its reference (JSON.parse)
 * parser give the same event, or the same dead-letter reason and message, for
 * the same bytes: the lean path is an optimisation and must not change what a
 * job stores or dead-letters.
 *
 * @throws AssertionError naming the record (as latin1) when they differ.
 */
export function assertSameParse<T>(lean: RecordParser<T>, reference: RecordParser<T>, value: Buffer): void {
  assert.deepEqual(outcome(lean, value), outcome(reference, value), value.toString('latin1'));
}

/**
 * A copy of `value` with one to three random edits (replace, delete or insert
 * one byte), the bytes put in drawn from `nasty` (the JSON structure, escapes,
 * digits and non-ASCII bytes the parsers must handle). Deterministic for a
 * given `random` sequence.
 */
export function mutateRecord(value: Buffer, random: () => number, nasty: readonly number[]): Buffer {
  const bytes = [...value];
  const edits = 1 + Math.floor(random() * 3);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const op = random();
    if (op < 0.4 && bytes.length > 0)
      bytes[Math.min(at, bytes.length - 1)] = nasty[Math.floor(random() * nasty.length)];
    else if (op < 0.7) bytes.splice(at, 1);
    else bytes.splice(at, 0, nasty[Math.floor(random() * nasty.length)]);
  }
  return Buffer.from(bytes);
}

/**
 * Mean time per record of the lean and the reference parser over `values`
 * (20 rounds each, after one warm-up round of 20), in microseconds: printed by
 * the tests, never asserted on (timing belongs to the benches).
 */
export function timeParsers<T>(
  lean: RecordParser<T>,
  reference: RecordParser<T>,
  values: readonly Buffer[],
): { leanMicros: number; referenceMicros: number } {
  const time = (parse: RecordParser<T>): number => {
    const start = performance.now();
    for (let round = 0; round < 20; round++) for (const v of values) parse(v);
    return ((performance.now() - start) * 1000) / (20 * values.length);
  };
  time(lean);
  time(reference);
  return { leanMicros: time(lean), referenceMicros: time(reference) };
}
