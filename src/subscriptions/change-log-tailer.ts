import type { Logger } from 'pino';
import type { ChangeLogStore, ChangeRow } from '../store/change-log-store.js';
import { encodeCursor, type PositionVector } from './change-cursor.js';

/** A change as the tailer hands it on: the row and the cursor of the tailer's vector right after it. */
export interface TailedChange extends ChangeRow {
  cursor: string;
}

/** What the tailer feeds: a live subscription of this API process. */
export interface TailerSink {
  /** New changes, per partition in position order; called synchronously with the head moved past them. */
  deliver(changes: readonly TailedChange[]): void;
  /** A poll succeeded at `atMs` (epoch milliseconds), whether or not it found changes. */
  polled(atMs: number): void;
}

/** Options of {@link ChangeLogTailer}. */
export interface ChangeLogTailerOptions {
  store: ChangeLogStore;
  /** The stream (a job's consumer group). */
  stream: string;
  /** Time between two polls without a wake-up, MILLISECONDS (config `CHANGE_LOG_POLL_MS`). */
  pollMs: number;
  /** Most changes one poll reads; a full page is followed by another poll at once. @default 1000 */
  pageSize?: number;
  /** Called after each poll that read changes, with the wall clock of the read (epoch milliseconds): metrics. */
  onRead?: (changes: readonly ChangeRow[], atMs: number) => void;
  logger?: Logger;
}

/** Wait after a failed poll or head read (database down), milliseconds. */
const RETRY_MS = 1_000;

/**
 * Follows one stream of the change log for every subscription of this API
 * process: ONE query per poll, whatever the number of subscribers, every
 * `pollMs` and at once when {@link wake}d (Redis pub/sub after a commit: a
 * wake-up only, the database stays the source, so a Redis outage delays
 * changes and loses none). Per partition, positions are in commit order and a
 * read that sees a commit sees every earlier commit of that partition, so
 * reading `pos > head` per partition misses nothing.
 */
export class ChangeLogTailer {
  private head: Map<number, string> | null = null;
  private readonly sinks = new Set<TailerSink>();
  private readonly pageSize: number;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private again = false;
  private closed = false;
  private started: Promise<void> | null = null;
  /** Wall clock of the last successful poll, epoch milliseconds (0: none yet). */
  lastPollOkAtMs = 0;

  constructor(private readonly opts: ChangeLogTailerOptions) {
    this.pageSize = opts.pageSize ?? 1_000;
  }

  get stream(): string {
    return this.opts.stream;
  }

  /** Reads the log heads (retrying while the database is down) and starts polling; idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      while (!this.closed) {
        try {
          this.head = await this.opts.store.heads(this.opts.stream);
          this.lastPollOkAtMs = Date.now();
          break;
        } catch (err) {
          this.opts.logger?.warn({ err, stream: this.opts.stream }, 'change log: reading the heads failed, retrying');
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
      this.schedule(this.opts.pollMs);
    })();
    return this.started;
  }

  /** The tailer's position (what it has read): null before {@link start} finished. A copy. */
  currentHead(): Map<number, string> | null {
    return this.head ? new Map(this.head) : null;
  }

  /** The cursor of the tailer's position (null before start finished). */
  headCursor(): string | null {
    return this.head ? encodeCursor(this.opts.stream, this.head) : null;
  }

  /** Starts feeding `sink` from the next poll on (synchronously: no poll result is split). */
  attach(sink: TailerSink): void {
    this.sinks.add(sink);
  }

  detach(sink: TailerSink): void {
    this.sinks.delete(sink);
  }

  get subscribers(): number {
    return this.sinks.size;
  }

  /** Polls as soon as possible (a commit was announced). */
  wake(): void {
    if (!this.head) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.sinks.clear();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, ms);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed || !this.head) return;
    this.polling = true;
    this.again = false;
    let next = this.opts.pollMs;
    try {
      // Nobody listens: nothing to read, but the head must still follow the log so
      // that a later "live from now" subscription starts at the present.
      const rows = await this.opts.store.readAfter(this.opts.stream, this.head, this.pageSize);
      const now = Date.now();
      this.lastPollOkAtMs = now;
      if (rows.length > 0) {
        const changes = new Array<TailedChange>(rows.length);
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i];
          this.head.set(row.partition, row.pos);
          // Encoded only when someone may need it: a cursor per change, shared by every subscriber.
          changes[i] = Object.assign(row, {
            cursor: this.sinks.size > 0 ? encodeCursor(this.opts.stream, this.head) : '',
          });
        }
        for (const sink of [...this.sinks]) sink.deliver(changes);
        this.opts.onRead?.(changes, now);
      }
      for (const sink of [...this.sinks]) sink.polled(now);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a wake-up during the read sets `again`
      if (rows.length === this.pageSize || this.again) next = 0;
    } catch (err) {
      this.opts.logger?.warn({ err, stream: this.opts.stream }, 'change log: poll failed, retrying');
      next = Math.max(next, RETRY_MS);
    } finally {
      this.polling = false;
      this.schedule(next);
    }
  }
}

/** Copies a vector. */
export const copyVector = (v: PositionVector): Map<number, string> => new Map(v);
