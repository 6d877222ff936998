import type { ChangeLogStore, ChangeRow } from '../store/change-log-store.js';
import { covers, encodeCursor, posOf } from './change-cursor.js';
import type { ChangeLogTailer, TailedChange, TailerSink } from './change-log-tailer.js';

/** One event of a resumable subscription. */
export type FeedEvent<S = unknown> =
  | { kind: 'change'; cursor: string; change: ChangeRow }
  | { kind: 'snapshot'; cursor: string; value: S; atMs: number }
  | { kind: 'progress'; cursor: string; atMs: number }
  /** The last event: changes after the subscriber's position were pruned while it read the log; `cursor` is the oldest still complete. */
  | { kind: 'expired'; cursor: string };

/**
 * Latest-value coalescing per key (the cities of `cityMetricsUpdated`): at
 * most one event per key per `intervalMs`, always the newest value; a value
 * that does not supersede the last one sent for its key is dropped.
 */
export interface Coalescing {
  key(change: ChangeRow): string;
  /** Whether change `a` supersedes `b` (payloads). */
  isNewer(a: unknown, b: unknown): boolean;
  /** MILLISECONDS, > 0. */
  intervalMs: number;
  /** Values already sent per key (the snapshot), payload shape. */
  initial?: ReadonlyMap<string, unknown>;
}

/** Options of {@link ChangeSubscription}. */
export interface ChangeSubscriptionOptions<S> {
  tailer: ChangeLogTailer;
  store: ChangeLogStore;
  /** Start position: every change after it is delivered, then live ones. */
  start: ReadonlyMap<number, string>;
  /** Whether to read the log from `start` first (false: `start` is the tailer's head, attach at once). */
  catchUp: boolean;
  /** Changes this subscriber wants (others only move its cursor on). @default all */
  filter?: (change: ChangeRow) => boolean;
  coalesce?: Coalescing;
  /** Events sent before anything else (the snapshot), with the start cursor. */
  snapshot?: readonly S[];
  snapshotAtMs?: number;
  /** Send a progress event when this many MILLISECONDS passed since the last one (null: never). */
  progressIntervalMs: number | null;
  /** Events buffered for a slow subscriber before it falls back to reading the log itself. @default 10000 */
  maxBuffered?: number;
  /** Changes per catch-up read. @default 1000 */
  pageSize?: number;
  /**
   * Per partition, how far pruning deleted (`ChangeLogStore.prunedThrough`),
   * read after each catch-up page: pruning that overtook the reader ends the
   * subscription with an `expired` event instead of a silent gap.
   */
  prunedThrough?: () => Promise<ReadonlyMap<number, string>>;
}

interface Pending {
  change: ChangeRow;
  /** Per partition, the subscriber's position just before the first change of this key not sent yet. */
  holds: Map<number, string>;
}

const RETRY_MS = 1_000;

/**
 * One subscription that never loses or repeats a change: it reads the change
 * log from its start position (catch-up, its own reads), then joins the
 * tailer's live fan-out with no gap and no overlap (it joins only once its
 * position covers the tailer's, synchronously, and skips anything at or
 * before its own position per partition). Every event carries the cursor of
 * the vector after it: resuming from the last cursor received continues
 * exactly after that event. A subscriber that does not keep up (more than
 * `maxBuffered` events waiting) leaves the fan-out and reads the log itself
 * again once it has drained, so memory stays bounded.
 *
 * With coalescing, an event's cursor never passes a change still held back:
 * it is, per partition, the position just before the oldest change not sent.
 */
export class ChangeSubscription<S = unknown> implements AsyncIterableIterator<FeedEvent<S>>, TailerSink {
  private readonly v: Map<number, string>;
  private readonly queue: FeedEvent<S>[] = [];
  private mode: 'catching-up' | 'live' | 'closed';
  /** An `expired` event is queued: the iterator ends after it. */
  private ending = false;
  /** Live, but ahead of the tailer in some partition: the tailer's shared cursors do not fit yet. */
  private ahead = false;
  private waiter: (() => void) | null = null;
  private lastProgressMs = Date.now();
  private readonly pending = new Map<string, Pending>();
  private readonly lastSent = new Map<string, unknown>();
  private lastFlushMs = Number.NEGATIVE_INFINITY;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly maxBuffered: number;
  private readonly pageSize: number;

  constructor(private readonly opts: ChangeSubscriptionOptions<S>) {
    this.v = new Map(opts.start);
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    this.pageSize = opts.pageSize ?? 1_000;
    for (const [k, value] of opts.coalesce?.initial ?? []) this.lastSent.set(k, value);
    if (opts.snapshot) {
      const cursor = this.cursor();
      for (const value of opts.snapshot)
        this.queue.push({ kind: 'snapshot', cursor, value, atMs: opts.snapshotAtMs ?? Date.now() });
    }
    if (opts.catchUp) {
      this.mode = 'catching-up';
    } else {
      this.mode = 'live';
      this.ahead = !covers(opts.tailer.currentHead() ?? new Map(), this.v);
      opts.tailer.attach(this);
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<FeedEvent<S>>> {
    for (;;) {
      if (this.mode === 'closed') return { done: true, value: undefined };
      const event = this.queue.shift();
      if (event) return { done: false, value: event };
      if (this.ending) {
        this.close();
        continue;
      }
      if (this.mode === 'catching-up') {
        await this.catchUp();
        continue;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the iterator protocol wants a promise; `async` makes a throw from close() a rejection
  async return(): Promise<IteratorResult<FeedEvent<S>>> {
    this.close();
    return { done: true, value: undefined };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the iterator protocol wants a promise; `async` turns the throw into its rejection
  async throw(err: unknown): Promise<IteratorResult<FeedEvent<S>>> {
    this.close();
    throw err;
  }

  close(): void {
    this.mode = 'closed';
    this.opts.tailer.detach(this);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.wakeUp();
  }

  /** From the tailer: changes in order; the ones at or before this subscriber's position are skipped. */
  deliver(changes: readonly TailedChange[]): void {
    if (this.mode !== 'live') return;
    for (const change of changes) this.consume(change, this.ahead ? null : change.cursor);
    if (this.ahead) this.ahead = !covers(this.opts.tailer.currentHead() ?? new Map(), this.v);
    if (this.queue.length > this.maxBuffered) {
      // Too slow for the fan-out: drain, then read the log from this position again.
      this.opts.tailer.detach(this);
      this.mode = 'catching-up';
    }
    this.wakeUp();
  }

  polled(atMs: number): void {
    if (this.mode !== 'live' || this.opts.progressIntervalMs === null) return;
    if (atMs - this.lastProgressMs < this.opts.progressIntervalMs) return;
    this.lastProgressMs = atMs;
    this.queue.push({ kind: 'progress', cursor: this.cursor(), atMs });
    this.wakeUp();
  }

  /** Reads the log after this position until it covers the tailer's head, then joins the fan-out. */
  private async catchUp(): Promise<void> {
    const { tailer, store } = this.opts;
    while (this.mode === 'catching-up') {
      let rows: ChangeRow[];
      let pruned: ReadonlyMap<number, string> = new Map();
      try {
        await tailer.start();
        rows = await store.readAfter(tailer.stream, this.v, this.pageSize);
        // After the read: pruning raises its mark before it deletes, so a deletion this read
        // missed rows to shows here.
        if (this.opts.prunedThrough) pruned = await this.opts.prunedThrough();
      } catch {
        // The database is down: try again, the position is kept.
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() or a fall-behind may change the mode while the read was awaited
      if (this.mode !== 'catching-up') return;
      for (const [partition, through] of pruned) {
        if (posOf(this.v, partition) < through) {
          this.queue.push({ kind: 'expired', cursor: encodeCursor(tailer.stream, pruned) });
          this.ending = true;
          this.mode = 'live';
          return;
        }
      }
      for (const row of rows) this.consume(row, null);
      const head = tailer.currentHead();
      if (rows.length < this.pageSize && head && covers(this.v, head)) {
        this.mode = 'live';
        this.ahead = !covers(head, this.v);
        tailer.attach(this);
        return;
      }
      // Let the consumer drain a full page before reading on.
      if (this.queue.length > 0) return;
    }
  }

  /** Takes one change: skipped when already seen, else it moves the position and becomes an event (or waits to be coalesced). */
  private consume(change: ChangeRow, sharedCursor: string | null): void {
    const before = posOf(this.v, change.partition);
    if (change.pos <= before) return;
    this.v.set(change.partition, change.pos);
    if (this.opts.filter && !this.opts.filter(change)) return;
    const c = this.opts.coalesce;
    if (!c) {
      this.queue.push({ kind: 'change', cursor: sharedCursor ?? this.cursor(), change });
      return;
    }
    const key = c.key(change);
    const sent = this.lastSent.get(key);
    if (sent !== undefined && !c.isNewer(change.payload, sent)) return;
    const held = this.pending.get(key);
    if (held) {
      if (!c.isNewer(change.payload, held.change.payload)) return;
      held.change = change;
      if (!held.holds.has(change.partition)) held.holds.set(change.partition, before);
    } else {
      this.pending.set(key, { change, holds: new Map([[change.partition, before]]) });
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    const coalesce = this.opts.coalesce;
    if (!coalesce) throw new Error('scheduleFlush is only for a coalescing subscription');
    const waitMs = this.lastFlushMs + coalesce.intervalMs - Date.now();
    if (waitMs <= 0) {
      this.flush();
      return;
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
      this.wakeUp();
    }, waitMs);
    this.flushTimer.unref();
  }

  private flush(): void {
    if (this.mode === 'closed' || this.pending.size === 0) return;
    this.lastFlushMs = Date.now();
    const entries = [...this.pending.entries()];
    for (const [key, held] of entries) {
      this.pending.delete(key);
      this.lastSent.set(key, held.change.payload);
      this.queue.push({ kind: 'change', cursor: this.cursor(), change: held.change });
    }
  }

  /**
   * The cursor of this subscriber's position, held back per partition to just
   * before the oldest change still waiting to be coalesced.
   */
  private cursor(): string {
    if (this.pending.size === 0) return encodeCursor(this.opts.tailer.stream, this.v);
    const v = new Map(this.v);
    for (const held of this.pending.values()) {
      for (const [partition, pos] of held.holds) if (pos < posOf(v, partition)) v.set(partition, pos);
    }
    // '' (nothing seen of that partition) is kept as "absent".
    for (const [partition, pos] of v) if (pos === '') v.delete(partition);
    return encodeCursor(this.opts.tailer.stream, v);
  }

  private wakeUp(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
