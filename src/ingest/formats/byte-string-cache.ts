/**
 * A bounded cache of the strings of short ASCII byte runs, for the lean
 * record readers: the same product id or category arrives in a great many
 * records, and handing back one string per distinct value spares both the
 * allocation per record and the hashing of a fresh string at every map look-up
 * downstream (a string computes its hash once and keeps it).
 *
 * Direct-mapped (one slot per hash, a newer value replaces an older one), so
 * memory is bounded by `slots` strings whatever the number of distinct
 * values; a miss only costs making the string. A hit is checked byte by byte,
 * so the cache never changes a result: `get` always returns exactly the
 * latin1 decoding of the bytes.
 */
export class ByteStringCache {
  private readonly strings: (string | undefined)[];
  private readonly mask: number;

  /**
   * @param slots number of cached strings, a power of two (the table is a plain array of them).
   * @throws {RangeError} when `slots` is not a power of two between 1 and 2^20.
   */
  constructor(slots: number) {
    if (!Number.isInteger(slots) || slots < 1 || slots > 1 << 20 || (slots & (slots - 1)) !== 0)
      throw new RangeError(`slots must be a power of two between 1 and 1048576, got ${slots}`);
    this.strings = new Array<string | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  /**
   * The string of bytes `[start, end)` of `buf`, decoded as latin1 (callers
   * pass ASCII only, where latin1 and UTF-8 agree): a cached one when the same
   * bytes were seen recently, else a new one, which is then cached.
   */
  get(buf: Buffer, start: number, end: number): string {
    // FNV-1a over the bytes, folded to the table size.
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const cached = this.strings[slot];
    if (cached?.length === end - start) {
      let same = true;
      for (let i = 0; i < cached.length; i++) {
        if (cached.charCodeAt(i) !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const text = buf.toString('latin1', start, end);
    this.strings[slot] = text;
    return text;
  }
}
