import type { Logger } from 'pino';

/** Options of {@link PostCommitQueue}. */
export interface PostCommitQueueOptions {
  /**
   * Queued batches beyond this pause fetching (backpressure) until the queue has
   * drained to half of it.
   * @default 32 (POST_COMMIT_MAX_PENDING, resolved in the configuration)
   */
  maxPending: number;
  /** Called with `true` when the queue starts holding fetching back, `false` when it lets go. */
  onBackpressure: (paused: boolean) => void;
  log: Logger;
}

/**
 * Work that may run only after a batch committed (publishing to subscribers,
 * committing the offset to Kafka), run one at a time in commit order. A
 * failure is logged and skipped: the database already holds the truth.
 */
export class PostCommitQueue {
  private readonly pending: (() => Promise<void>)[] = [];
  private draining: Promise<void> | null = null;
  private backpressured = false;

  constructor(private readonly opts: PostCommitQueueOptions) {}

  /** Batches waiting (not counting the one running). */
  get size(): number {
    return this.pending.length;
  }

  /** True while the queue holds fetching back. */
  get isBackpressured(): boolean {
    return this.backpressured;
  }

  /** Queues `work`; beyond `maxPending` queued, reports backpressure once. */
  enqueue(work: () => Promise<void>): void {
    this.pending.push(work);
    if (!this.backpressured && this.pending.length > this.opts.maxPending) {
      this.backpressured = true;
      this.opts.onBackpressure(true);
      this.opts.log.warn({ pending: this.pending.length }, 'post-commit work is behind: pausing consumption');
    }
    this.draining ??= this.drainLoop();
  }

  /** Resolves once everything queued so far (and queued meanwhile) has run. */
  async drain(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const work = this.pending.shift();
      if (!work) break;
      try {
        await work();
      } catch (err) {
        this.opts.log.error({ err }, 'post-commit work failed');
      }
      if (this.backpressured && this.pending.length <= this.opts.maxPending / 2) {
        this.backpressured = false;
        this.opts.onBackpressure(false);
        this.opts.log.info('post-commit work caught up: resuming consumption');
      }
    }
    this.draining = null;
  }
}
