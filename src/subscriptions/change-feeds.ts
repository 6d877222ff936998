import type { Logger } from 'pino';
import { CursorExpiredError } from '../errors/cursor-expired-error.js';
import type { ChangeLogStore, ChangeRow } from '../store/change-log-store.js';
import { decodeCursor, encodeCursor, posOf } from './change-cursor.js';
import { ChangeLogTailer } from './change-log-tailer.js';
import { ChangeSubscription, type ChangeSubscriptionOptions } from './change-subscription.js';

/** Options of {@link ChangeFeeds}. */
export interface ChangeFeedsOptions {
  store: ChangeLogStore;
  /** Time between two polls of the log, MILLISECONDS (config `CHANGE_LOG_POLL_MS`). */
  pollMs: number;
  /** Retention of the log, HOURS (config `CHANGE_LOG_RETENTION_HOURS`), for the CURSOR_EXPIRED error. */
  retentionHours: number;
  /**
   * Calls `onWake` whenever a worker announces a commit of `stream` (Redis
   * pub/sub); a wake-up only: without it the tailer still polls.
   */
  listenForWakeUps?: (stream: string, onWake: () => void) => void;
  /** Called after each poll of `stream` that read changes (see `ChangeLogTailerOptions.onRead`). */
  onRead?: (stream: string, changes: readonly ChangeRow[], atMs: number) => void;
  logger?: Logger;
}

/**
 * The resumable subscriptions of one API process: one {@link ChangeLogTailer}
 * per stream (consumer group), started with its first subscriber, and the
 * start position of each new subscription.
 */
export class ChangeFeeds {
  private readonly tailers = new Map<string, ChangeLogTailer>();

  constructor(private readonly opts: ChangeFeedsOptions) {}

  get store(): ChangeLogStore {
    return this.opts.store;
  }

  /** The tailer of `stream`, started (heads read) before it is returned. */
  async tailer(stream: string): Promise<ChangeLogTailer> {
    let tailer = this.tailers.get(stream);
    if (!tailer) {
      const { onRead } = this.opts;
      tailer = new ChangeLogTailer({
        store: this.opts.store,
        stream,
        pollMs: this.opts.pollMs,
        logger: this.opts.logger,
        onRead: onRead ? (changes, atMs) => onRead(stream, changes, atMs) : undefined,
      });
      this.tailers.set(stream, tailer);
      const t = tailer;
      this.opts.listenForWakeUps?.(stream, () => t.wake());
    }
    await tailer.start();
    return tailer;
  }

  /**
   * Where a subscription of `stream` starts: after the cursor `after` (its
   * changes are read from the log first), or, without one, at the tailer's
   * position (live changes from now).
   * @throws {InvalidCursorError} when `after` is not a cursor of `stream`.
   * @throws {CursorExpiredError} when changes after `after` were pruned.
   */
  async startOf(
    stream: string,
    after: string | null,
  ): Promise<{ tailer: ChangeLogTailer; start: Map<number, string>; catchUp: boolean }> {
    const decoded = after === null ? null : decodeCursor(after, stream);
    const tailer = await this.tailer(stream);
    if (decoded === null) {
      const head = tailer.currentHead();
      if (head === null) throw new Error(`the change-log tailer of ${stream} returned before it started`);
      return { tailer, start: head, catchUp: false };
    }
    const pruned = await this.opts.store.prunedThrough(stream);
    for (const [partition, through] of pruned) {
      if (posOf(decoded, partition) < through)
        throw new CursorExpiredError(encodeCursor(stream, pruned), this.opts.retentionHours);
    }
    return { tailer, start: decoded, catchUp: true };
  }

  /** Opens a subscription (see {@link ChangeSubscription}) that watches pruning while it reads the log. */
  open<S>(opts: ChangeSubscriptionOptions<S>): ChangeSubscription<S> {
    const stream = opts.tailer.stream;
    return new ChangeSubscription({ prunedThrough: () => this.opts.store.prunedThrough(stream), ...opts });
  }

  /** The error of an `expired` event (see {@link ChangeSubscription}). */
  expired(oldestCursor: string): CursorExpiredError {
    return new CursorExpiredError(oldestCursor, this.opts.retentionHours);
  }

  close(): void {
    for (const t of this.tailers.values()) t.close();
    this.tailers.clear();
  }
}
