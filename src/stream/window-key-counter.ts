import { WindowEngineInputError } from '../errors/window-engine-input-error.js';
import { latestWindowStart, type TimeWindow } from './hopping-windows.js';
import { PartitionClock, type RestoredPartitionState } from './partition-clock.js';
import { validateWindowSpec, type WindowSpec } from './window-spec.js';

/**
 * What a window engine's `add` did with a record (`WindowKeyCounter.add`, and the reference model the tests compare it with).
 *
 * - `aggregated`: added to at least one open window.
 * - `late`: every window of the record was already final; not aggregated.
 *   The caller counts it and dead-letters it.
 * - `replayed`: an already-processed record (offset below the restored
 *   `nextOffset`) re-added to rebuild an open window.
 * - `replayed-late`: an already-processed record whose windows are all
 *   final; ignored silently (it was counted and dead-lettered the first time).
 */
export type AddOutcome = 'aggregated' | 'late' | 'replayed' | 'replayed-late';

/** One record for {@link WindowKeyCounter.add}: counted once per window it falls in. */
export interface CountedRecord {
  /** Kafka offset within the partition. */
  offset: bigint;
  /** Event time, epoch milliseconds. */
  eventTimeMs: number;
  /** The key counted (e.g. a uid). */
  key: string;
  /** A value carried with the key (e.g. a phone): each window reports the value of its key's last record. */
  value: string;
}

/** One key of a closed window whose count reached the counter's `minCount`. */
export interface CountedEntry {
  key: string;
  /** Records of the key in the window. */
  count: number;
  /** The value of the key's last record (in offset order) in the window. */
  value: string;
}

/** A final window handed out by {@link WindowKeyCounter.closeDue}: only its keys with `count >= minCount`, in slot order. */
export interface CountedWindow {
  window: TimeWindow;
  entries: CountedEntry[];
}

interface SealedWindow extends CountedWindow {
  minOffset: bigint;
  /** Keys the window had when it was sealed (all of them, not only those handed out). */
  keys: number;
}

const NO_WINDOW = Number.NaN;
const INITIAL_SLOTS = 1024;
const INITIAL_INDEX = 2048;
const TWO_POW_32 = 4294967296;
/**
 * A count cell holding this value means "the count is in `bigCounts`": counts
 * below it fit the byte. Nearly every key has a count of 1 or 2 in a window, so
 * one byte per key and window carries them, and only the rare key with 255
 * records or more in a window costs a `Map` entry. Exact either way.
 */
const COUNT_IN_MAP = 255;

/**
 * The number a string stands for when it is a canonical decimal integer of 1
 * to 15 digits (no sign, no leading zero except "0" itself): below 2^53, so
 * exact as a double, and `String(n)` gives the string back. Otherwise NaN.
 * Lets a key or value that is a number in text (uids, phones) live in a
 * Float64Array slot instead of a heap string.
 */
export function decimalCode(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return Number.NaN;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || (d === 0 && i === 0 && n > 1)) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

function hashOf(code: number, mask: number): number {
  let h = Math.imul((code >>> 0) ^ Math.imul(Math.floor(code / TWO_POW_32), 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  return h & mask;
}

/**
 * Counts records per key per event-time hopping window for ONE Kafka
 * partition, with the same semantics as the general reference model the unit tests compare it with (test/helpers/partition-window-engine.ts) (epoch-aligned
 * windows `[k * advanceMs, k * advanceMs + sizeMs)`, watermark = max event
 * time - grace, idle advance, emit-final through `closeDue`, exactly-once
 * restore through `nextOffset` / `replayFrom` / `watermarkMs`), for the one
 * aggregate "count plus the value of the last record", in memory bounded by
 * the number of distinct live keys and with no heap object per key.
 *
 * Layout (why it is compact): every key has ONE slot, shared by all its open
 * windows. A key that is a decimal number in text (see {@link decimalCode})
 * is a double in a Float64Array, found through an open-addressing index
 * (Int32Array, linear probing); other keys go through a `Map`. The counts are
 * one Uint8Array column per ring position (`R = ceil((size + grace) /
 * advance) + 1` positions, window `start / advance mod R`), the counts of 255
 * and more in a `Map` (see `COUNT_IN_MAP`); each key's value is kept once (a double when decimal, else a string) plus, per window, only
 * the values of keys whose value changed after that window's last record. A
 * slot is freed once all its counts are zero (its windows closed). With the
 * 60 s / 30 s / 5 s windows that is about 32 to 40 bytes per distinct key.
 *
 * Only keys whose count reaches `minCount` are handed out: closing a window
 * of a million keys builds objects for the few that matter, not a million.
 *
 * A window whose ring position is needed by a newer window while it is
 * still waiting for `closeDue` (possible only when one batch jumps ahead in
 * event time by more than `R` advances) is sealed: its qualifying entries are
 * kept aside, and `closeDue` hands it out with the others, in order.
 */
export class WindowKeyCounter {
  private readonly sizeMs: number;
  private readonly advanceMs: number;
  private readonly minCount: number;
  private readonly clock: PartitionClock;
  /** Ring positions. */
  private readonly ring: number;
  /** Start (epoch ms) of the window at each ring position, NaN when free. */
  private readonly ringStart: Float64Array;
  private readonly ringMinOffset: bigint[];
  /** Keys with a non-zero count, per ring position. */
  private readonly ringKeys: Float64Array;
  /** Per ring position: slot -> the value of the window's last record, where it differs from the slot's current value. */
  private readonly ringOldValues: Map<number, string>[];
  private readonly sealed: SealedWindow[] = [];

  private capacity = INITIAL_SLOTS;
  /** Slots handed out so far (free ones included): the high-water mark. */
  private used = 0;
  /**
   * Freed slots below `used`, a stack of `freeCount` (a typed array as long as
   * the capacity: a closing window frees hundreds of thousands of slots at
   * once, which a growing heap array would copy and leave behind as garbage).
   */
  private freeSlots: Int32Array;
  private freeCount = 0;
  /** counts[r * capacity + slot]; `COUNT_IN_MAP` when the count is in `bigCounts`. */
  private counts: Uint8Array;
  /** slot * ring + r -> the count, for the counts of `COUNT_IN_MAP` and more (independent of the capacity). */
  private readonly bigCounts = new Map<number, number>();
  /** Decimal key of each slot; NaN for a free slot or a key in `textKeys`. */
  private keyCode: Float64Array;
  /** Decimal value of each slot; NaN when the value is in `textValues`. */
  private valueCode: Float64Array;
  private readonly textKeys = new Map<string, number>();
  private readonly textKeyOfSlot = new Map<number, string>();
  private readonly textValues = new Map<number, string>();
  /** Open-addressing index of the decimal keys: slot + 1, 0 = empty. */
  private index = new Int32Array(INITIAL_INDEX);
  private indexed = 0;
  private liveKeys = 0;
  private liveSlots = 0;

  /**
   * @param spec window shape, all in milliseconds; validated here.
   * @param restored progress read back from the database (`{ nextOffset: 0n, watermarkMs: null }` for a fresh partition).
   * @param nowMs wall-clock epoch milliseconds at creation; the idle timer starts here.
   * @param minCount least count (>= 1) of a key that `closeDue` hands out.
   * @throws {InvalidWindowSpecError} (`WINDOW_SPEC_INVALID`) for a bad spec.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) for a bad
   *   restored state or `nowMs` (as the reference model), or a `minCount` that is not an integer >= 1.
   */
  constructor(spec: WindowSpec, restored: RestoredPartitionState, nowMs: number, minCount = 1) {
    const valid = validateWindowSpec(spec);
    if (!Number.isSafeInteger(minCount) || minCount < 1) {
      throw new WindowEngineInputError(`minCount must be an integer >= 1, got ${String(minCount)}`);
    }
    this.sizeMs = valid.sizeMs;
    this.advanceMs = valid.advanceMs;
    this.minCount = minCount;
    this.clock = new PartitionClock(valid.graceMs, valid.idleTimeoutMs, restored, nowMs);
    this.ring = Math.ceil((valid.sizeMs + valid.graceMs) / valid.advanceMs) + 1;
    this.ringStart = new Float64Array(this.ring).fill(NO_WINDOW);
    this.ringMinOffset = Array.from({ length: this.ring }, () => 0n);
    this.ringKeys = new Float64Array(this.ring);
    this.ringOldValues = Array.from({ length: this.ring }, () => new Map<number, string>());
    this.counts = new Uint8Array(this.ring * this.capacity);
    this.freeSlots = new Int32Array(this.capacity);
    this.keyCode = new Float64Array(this.capacity).fill(Number.NaN);
    this.valueCode = new Float64Array(this.capacity).fill(Number.NaN);
  }

  /**
   * Counts one record in each of its windows that is not final, at wall-clock
   * `nowMs` (epoch milliseconds); see the reference model's `add`.
   * @returns `aggregated`, `late`, `replayed` or `replayed-late` (see `AddOutcome`).
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when the
   *   offset is not after the previous one or a time is not finite; nothing changes then.
   */
  add(record: CountedRecord, nowMs: number): AddOutcome {
    const { offset, eventTimeMs } = record;
    const replay = this.clock.take(offset, eventTimeMs, nowMs);
    const sizeMs = this.sizeMs;
    const advanceMs = this.advanceMs;
    const last = latestWindowStart(eventTimeMs, advanceMs);
    let start = last - sizeMs + advanceMs;
    const watermark = this.clock.watermarkMs;
    if (watermark !== null) {
      while (start <= last && start + sizeMs <= watermark) start += advanceMs;
    }
    if (start > last) return replay ? 'replayed-late' : 'late';

    const slot = this.slotFor(record.key, record.value);
    for (; start <= last; start += advanceMs) {
      const r = this.positionFor(start, offset);
      const at = r * this.capacity + slot;
      const c = this.counts[at];
      if (c === 0) {
        this.ringKeys[r]++;
        this.liveKeys++;
      }
      if (c < COUNT_IN_MAP - 1) this.counts[at] = c + 1;
      else this.countInMap(slot * this.ring + r, c);
      const old = this.ringOldValues[r];
      if (old.size > 0) old.delete(slot);
    }
    return replay ? 'replayed' : 'aggregated';
  }

  /** One more record of a key whose count in a window was `c` (`COUNT_IN_MAP - 1` or more) at `key` of `bigCounts`. */
  private countInMap(key: number, c: number): void {
    if (c === COUNT_IN_MAP - 1) {
      this.counts[Math.floor(key / this.ring) + (key % this.ring) * this.capacity] = COUNT_IN_MAP;
      this.bigCounts.set(key, COUNT_IN_MAP);
    } else {
      this.bigCounts.set(key, (this.bigCounts.get(key) ?? COUNT_IN_MAP) + 1);
    }
  }

  /** A record with an event time that is not counted: moves stream time and offsets (see the reference model's `observe`). */
  observe(record: { offset: bigint; eventTimeMs: number }, nowMs: number): void {
    this.clock.take(record.offset, record.eventTimeMs, nowMs);
  }

  /** A record without a usable event time: only moves `nextOffset` (see the reference model's `skip`). */
  skip(offset: bigint, nowMs: number): void {
    this.clock.skip(offset, nowMs);
  }

  /**
   * Hands out every window final at wall-clock `nowMs` (epoch milliseconds,
   * idle advance applied first): end <= watermark, ordered by end then start,
   * each exactly once, with its keys whose count reached `minCount`. Frees
   * the slots of keys no open window holds any more.
   * @throws {WindowEngineInputError} (`WINDOW_ENGINE_INPUT_INVALID`) when `nowMs` is not finite.
   */
  closeDue(nowMs: number): CountedWindow[] {
    this.clock.advanceIdle(nowMs);
    const watermark = this.clock.watermarkMs;
    const closed: CountedWindow[] = this.sealed.map(({ window, entries }) => ({ window, entries }));
    this.sealed.length = 0;
    if (watermark !== null) {
      for (let r = 0; r < this.ring; r++) {
        const start = this.ringStart[r];
        if (!Number.isNaN(start) && start + this.sizeMs <= watermark) closed.push(this.takeOut(r));
      }
    }
    if (closed.length === 0) return closed;
    this.freeEmptySlots();
    closed.sort((a, b) => a.window.end - b.window.end || a.window.start - b.window.start);
    return closed;
  }

  /** Current watermark, epoch milliseconds; `null` before any record when none was restored. */
  get watermarkMs(): number | null {
    return this.clock.watermarkMs;
  }

  /** First offset not yet processed (see the reference model's `nextOffset`). */
  get nextOffset(): bigint {
    return this.clock.nextOffset;
  }

  /** Offset to seek to after a crash: the smallest offset that created an open window, else `nextOffset` (see the reference model's `replayFrom`). */
  get replayFrom(): bigint {
    let min = this.clock.replayBase;
    for (let r = 0; r < this.ring; r++) {
      if (!Number.isNaN(this.ringStart[r]) && this.ringMinOffset[r] < min) min = this.ringMinOffset[r];
    }
    for (const s of this.sealed) if (s.minOffset < min) min = s.minOffset;
    return min;
  }

  /** Windows created and not yet handed out. */
  get openWindowCount(): number {
    let n = this.sealed.length;
    for (let r = 0; r < this.ring; r++) if (!Number.isNaN(this.ringStart[r])) n++;
    return n;
  }

  /** Sum over the windows not yet handed out of their keys (a key in two windows counts twice). */
  get liveKeyCount(): number {
    let n = this.liveKeys;
    for (const s of this.sealed) n += s.keys;
    return n;
  }

  /** Distinct keys in the open windows: the slots in use, what the memory is proportional to. */
  get distinctKeyCount(): number {
    return this.liveSlots;
  }

  /** Whether a record at `offset` is a replay, i.e. below the restored `nextOffset`. */
  isReplaying(offset: bigint): boolean {
    return this.clock.isReplaying(offset);
  }

  /** The ring position of the window starting at `start`, claimed for it (sealing a final window there) if needed. */
  private positionFor(start: number, offset: bigint): number {
    const k = start / this.advanceMs;
    const r = ((k % this.ring) + this.ring) % this.ring;
    const occupant = this.ringStart[r];
    if (occupant === start) return r;
    if (!Number.isNaN(occupant)) {
      // Two windows R advances apart cannot both be open (see the class comment): the older is final.
      const keys = this.ringKeys[r];
      const { window, entries } = this.takeOut(r);
      this.sealed.push({ window, entries, minOffset: this.ringMinOffset[r], keys });
    }
    this.ringStart[r] = start;
    this.ringMinOffset[r] = offset;
    this.ringKeys[r] = 0;
    return r;
  }

  /** The window at ring position `r` with its qualifying entries; the position is cleared. */
  private takeOut(r: number): CountedWindow {
    const start = this.ringStart[r];
    const base = r * this.capacity;
    const counts = this.counts;
    const min = this.minCount;
    const old = this.ringOldValues[r];
    const entries: CountedEntry[] = [];
    const big = this.bigCounts;
    const ring = this.ring;
    for (let slot = 0; slot < this.used; slot++) {
      let c = counts[base + slot];
      if (c === COUNT_IN_MAP) c = big.get(slot * ring + r) ?? c;
      if (c >= min) entries.push({ key: this.keyOf(slot), count: c, value: old.get(slot) ?? this.valueOf(slot) });
    }
    counts.fill(0, base, base + this.used);
    if (big.size > 0) for (const k of [...big.keys()]) if (k % ring === r) big.delete(k);
    old.clear();
    this.liveKeys -= this.ringKeys[r];
    this.ringKeys[r] = 0;
    this.ringStart[r] = NO_WINDOW;
    return { window: { start, end: start + this.sizeMs }, entries };
  }

  private keyOf(slot: number): string {
    const code = this.keyCode[slot];
    return Number.isNaN(code) ? (this.textKeyOfSlot.get(slot) ?? '') : String(code);
  }

  private valueOf(slot: number): string {
    const code = this.valueCode[slot];
    return Number.isNaN(code) ? (this.textValues.get(slot) ?? '') : String(code);
  }

  /** The slot of `key`, made when new; its current value set to `value` (older windows keep theirs). */
  private slotFor(key: string, value: string): number {
    const code = decimalCode(key);
    let slot: number;
    if (Number.isNaN(code)) {
      const found = this.textKeys.get(key);
      if (found !== undefined) slot = found;
      else {
        slot = this.newSlot(value);
        this.textKeys.set(key, slot);
        this.textKeyOfSlot.set(slot, key);
        return slot;
      }
    } else {
      const mask = this.index.length - 1;
      let h = hashOf(code, mask);
      for (;;) {
        const s = this.index[h];
        if (s === 0) break;
        if (this.keyCode[s - 1] === code) {
          slot = s - 1;
          this.setValue(slot, value);
          return slot;
        }
        h = (h + 1) & mask;
      }
      slot = this.newSlot(value);
      this.keyCode[slot] = code;
      this.index[h] = slot + 1;
      if (++this.indexed * 2 > this.index.length) this.growIndex();
      return slot;
    }
    this.setValue(slot, value);
    return slot;
  }

  /** Sets a known slot's current value; each open window whose last record had the old value keeps it. */
  private setValue(slot: number, value: string): void {
    const code = decimalCode(value);
    const current = this.valueCode[slot];
    if (Number.isNaN(code) ? Number.isNaN(current) && this.textValues.get(slot) === value : current === code) return;
    const previous = this.valueOf(slot);
    for (let r = 0; r < this.ring; r++) {
      if (this.counts[r * this.capacity + slot] > 0 && !this.ringOldValues[r].has(slot)) {
        this.ringOldValues[r].set(slot, previous);
      }
    }
    this.storeValue(slot, code, value);
  }

  private storeValue(slot: number, code: number, value: string): void {
    this.valueCode[slot] = code;
    if (Number.isNaN(code)) this.textValues.set(slot, value);
    else this.textValues.delete(slot);
  }

  private newSlot(value: string): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.freeSlots[--this.freeCount];
    else {
      if (this.used === this.capacity) this.grow();
      slot = this.used++;
    }
    this.liveSlots++;
    this.storeValue(slot, decimalCode(value), value);
    return slot;
  }

  /** 1.5 times the slots: the columns are copied to their new places. */
  private grow(): void {
    const old = this.capacity;
    const cap = Math.ceil(old * 1.5);
    const counts = new Uint8Array(this.ring * cap);
    for (let r = 0; r < this.ring; r++) counts.set(this.counts.subarray(r * old, r * old + old), r * cap);
    this.counts = counts;
    const keyCode = new Float64Array(cap).fill(Number.NaN);
    keyCode.set(this.keyCode);
    this.keyCode = keyCode;
    const valueCode = new Float64Array(cap).fill(Number.NaN);
    valueCode.set(this.valueCode);
    this.valueCode = valueCode;
    // Slots grow only when none is free: the stack is empty.
    this.freeSlots = new Int32Array(cap);
    this.capacity = cap;
  }

  private growIndex(): void {
    this.rebuildIndex(this.index.length * 2);
  }

  private rebuildIndex(size: number): void {
    const index = new Int32Array(size);
    const mask = size - 1;
    for (let slot = 0; slot < this.used; slot++) {
      const code = this.keyCode[slot];
      if (Number.isNaN(code)) continue;
      let h = hashOf(code, mask);
      while (index[h] !== 0) h = (h + 1) & mask;
      index[h] = slot + 1;
    }
    this.index = index;
  }

  /** Frees the slots of keys no open window counts any more, then rebuilds the index (no tombstones to carry). */
  private freeEmptySlots(): void {
    const cap = this.capacity;
    let freedDecimal = false;
    for (let slot = 0; slot < this.used; slot++) {
      const code = this.keyCode[slot];
      const textKey = Number.isNaN(code) ? this.textKeyOfSlot.get(slot) : undefined;
      if (Number.isNaN(code) && textKey === undefined) continue; // already free
      let live = false;
      for (let r = 0; r < this.ring && !live; r++) live = this.counts[r * cap + slot] > 0;
      if (live) continue;
      if (textKey !== undefined) {
        this.textKeys.delete(textKey);
        this.textKeyOfSlot.delete(slot);
      } else {
        this.keyCode[slot] = Number.NaN;
        this.indexed--;
        freedDecimal = true;
      }
      this.valueCode[slot] = Number.NaN;
      this.textValues.delete(slot);
      this.freeSlots[this.freeCount++] = slot;
      this.liveSlots--;
    }
    if (this.liveSlots === 0) {
      // Nothing open: start the slots again from 0, so the scans stay short.
      this.used = 0;
      this.freeCount = 0;
    }
    if (freedDecimal) {
      // Backward-shift deletion would do too; one rebuild per closing is simpler and as cheap.
      let size = INITIAL_INDEX;
      while (size < this.indexed * 2 + 2) size *= 2;
      this.rebuildIndex(this.index.length > 4 * size ? size : this.index.length);
    }
  }
}
