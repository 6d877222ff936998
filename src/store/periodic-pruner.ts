import type { Logger } from 'pino';

/** Options of {@link PeriodicPruner}. */
export interface PeriodicPrunerOptions {
  /** What is pruned, for the log lines, e.g. "change log". */
  what: string;
  /** Deletes what is past its retention; resolves to the rows deleted. Idempotent. */
  prune: () => Promise<number>;
  /** Time between two prunings, MILLISECONDS. */
  intervalMs: number;
  logger: Logger;
  /** Fields added to the line logged when rows were deleted (e.g. the retention). */
  logFields?: Record<string, unknown>;
}

/**
 * Runs a table's pruning on a timer, off the hot path: once at `start()`,
 * then every `intervalMs` MILLISECONDS, one run at a time. A failure is
 * logged in one line and retried at the next tick. Several processes pruning
 * the same rows is harmless: the deletes are idempotent.
 */
export class PeriodicPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: PeriodicPrunerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pruneNow(), this.opts.intervalMs);
    this.timer.unref();
    void this.pruneNow();
  }

  /** Prunes once now (a pruning in progress is awaited instead). Never rejects. */
  async pruneNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const deleted = await this.opts.prune();
        if (deleted > 0) this.opts.logger.info({ deleted, ...this.opts.logFields }, `${this.opts.what} pruned`);
      } catch (err) {
        this.opts.logger.warn({ err }, `pruning the ${this.opts.what} failed: retrying at the next interval`);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
