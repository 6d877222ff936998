// Bytes and helpers of the lean parsers, which read flat JSON records straight
// from the Kafka value's bytes (ASCII only) instead of decoding and JSON.parse.

/** `"` */
export const Q = 0x22;
/** `\` */
export const BACKSLASH = 0x5c;
/** `:` */
export const COLON = 0x3a;
/** `,` */
export const COMMA = 0x2c;
/** `{` */
export const OPEN = 0x7b;
/** `}` */
export const CLOSE = 0x7d;
/** `0` */
export const CH_0 = 0x30;
/** `9` */
export const CH_9 = 0x39;

/** The bytes of ASCII `s` (a key or a value to compare with). */
export const asBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Whether bytes `[start, end)` of `b` are exactly `word`. */
export function bytesEqual(b: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[start + i] !== word[i]) return false;
  return true;
}

/**
 * Where the JSON string whose content starts at index `i` of `b` ends: the
 * index of its closing `"`, if every byte before it (and before `n`) is
 * printable ASCII other than `\` (0x20 to 0x7e). Those are the only strings
 * the lean parsers take; an escape, a control or non-ASCII byte, or no closing
 * quote gives -1, and the caller declines the record to its full parse, which
 * decodes and checks it properly.
 */
export function plainStringEnd(b: Uint8Array, i: number, n: number): number {
  for (; i < n; i++) {
    const c = b[i];
    if (c === Q) return i;
    if (c < 0x20 || c === BACKSLASH || c >= 0x7f) return -1;
  }
  return -1;
}
