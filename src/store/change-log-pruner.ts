import type { Logger } from 'pino';
import type { ChangeLogStore } from './change-log-store.js';

/** Options of {@link ChangeLogPruner}. */
export interface ChangeLogPrunerOptions {
  store: ChangeLogStore;
  /** Streams (consumer groups of this worker's jobs) to prune. */
  streams: readonly string[];
  /** How long a change is kept, HOURS (config `CHANGE_LOG_RETENTION_HOURS`). */
  retentionHours: number;
  /** Time between two prunings, MILLISECONDS (config `CHANGE_LOG_PRUNE_INTERVAL_MS`). */
  intervalMs: number;
  logger: Logger;
}

/**
 * Deletes the change log's rows past retention on a timer, off the hot path:
 * statements of at most 1,000 rows, one pruning at a time, failures logged and
 * retried at the next tick. Several workers pruning the same streams is
 * harmless (the deletes are idempotent).
 */
export class ChangeLogPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: ChangeLogPrunerOptions) {}

  start(): void {
    if (this.timer || this.opts.streams.length === 0) return;
    this.timer = setInterval(() => void this.pruneNow(), this.opts.intervalMs);
    this.timer.unref();
    void this.pruneNow();
  }

  /** Prunes once now (a pruning in progress is awaited instead). @returns rows deleted. */
  async pruneNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const deleted = await this.opts.store.prune(this.opts.streams, Math.round(this.opts.retentionHours * 3600));
        if (deleted > 0)
          this.opts.logger.info({ deleted, retentionHours: this.opts.retentionHours }, 'change log pruned');
      } catch (err) {
        this.opts.logger.warn({ err }, 'pruning the change log failed: retrying at the next interval');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
