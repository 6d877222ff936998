import { InvalidCursorError } from '../errors/invalid-cursor-error.js';
import { isPos } from '../store/change-log-position.js';

/**
 * Per partition, the position of the last change seen (encoded, see
 * `change-log-position.ts`). A partition not in the vector: nothing of it seen.
 */
export type PositionVector = ReadonlyMap<number, string>;

/** Compares two encoded positions ('' = before every position): -1, 0 or 1. */
export function comparePos(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The position of `partition` in `v`, '' when absent. */
export const posOf = (v: PositionVector, partition: number): string => v.get(partition) ?? '';

/** Whether `v` has seen everything `w` has: for every partition, v's position >= w's. */
export function covers(v: PositionVector, w: PositionVector): boolean {
  for (const [partition, pos] of w) if (posOf(v, partition) < pos) return false;
  return true;
}

/** The partitions where `w` is ahead of `v` (positions of `w`). */
export function aheadOf(v: PositionVector, w: PositionVector): Map<number, string> {
  const out = new Map<number, string>();
  for (const [partition, pos] of w) if (posOf(v, partition) < pos) out.set(partition, pos);
  return out;
}

/**
 * The opaque cursor of a subscription of `stream` (a consumer group) at `v`:
 * base64url (RFC 4648 section 5, no padding) of
 * `{"s": stream, "p": [[partition, position], ...]}`, partitions ascending.
 * Equal vectors give equal cursors.
 */
export function encodeCursor(stream: string, v: PositionVector): string {
  const p = [...v].filter(([, pos]) => pos !== '').sort(([a], [b]) => a - b);
  return Buffer.from(JSON.stringify({ s: stream, p }), 'utf8').toString('base64url');
}

/**
 * The position vector of a cursor made by {@link encodeCursor} for `stream`.
 * @throws {InvalidCursorError} when it is not such a cursor (garbage, another
 *   stream's, a bad position, a partition twice).
 */
export function decodeCursor(cursor: string, stream: string): Map<number, string> {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(cursor) || cursor.length === 0 || cursor.length > 65_536)
      throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new InvalidCursorError('not a cursor of this subscription (expected the cursor of an earlier event)', {
      cause: err,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { p?: unknown }).p)) {
    throw new InvalidCursorError('not a cursor of this subscription (expected the cursor of an earlier event)');
  }
  const { s, p } = parsed as { s?: unknown; p: unknown[] };
  if (s !== stream) throw new InvalidCursorError('the cursor belongs to another subscription');
  const out = new Map<number, string>();
  for (const entry of p) {
    if (!Array.isArray(entry) || entry.length !== 2)
      throw new InvalidCursorError('the cursor holds a malformed partition entry');
    const [partition, pos] = entry as [unknown, unknown];
    if (!Number.isInteger(partition) || (partition as number) < -1 || typeof pos !== 'string' || !isPos(pos)) {
      throw new InvalidCursorError('the cursor holds a malformed partition position');
    }
    if (out.has(partition as number))
      throw new InvalidCursorError(`the cursor holds partition ${partition as number} twice`);
    out.set(partition as number, pos);
  }
  return out;
}
