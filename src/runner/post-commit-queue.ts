import PQueue from 'p-queue';
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
 * committing the offset to Kafka), run one at a time in commit order (a
 * p-queue of concurrency 1). A failure is logged and skipped: the database
 * already holds the truth. Beyond `maxPending` waiting it holds fetching back
 * until the queue has drained to half, so a slow Redis or broker cannot make
 * the work pile up without bound.
 */
export class PostCommitQueue {
  private readonly queue = new PQueue({ concurrency: 1 });
  private backpressured = false;

  constructor(private readonly opts: PostCommitQueueOptions) {
    // 'next': one piece of work has ended (fulfilled or not) and the next may start.
    this.queue.on('next', () => {
      if (this.backpressured && this.queue.size <= this.opts.maxPending / 2) {
        this.backpressured = false;
        this.opts.onBackpressure(false);
        this.opts.log.info('post-commit work caught up: resuming consumption');
      }
    });
  }

  /** Batches waiting (not counting the one running). */
  get size(): number {
    return this.queue.size;
  }

  /** True while the queue holds fetching back. */
  get isBackpressured(): boolean {
    return this.backpressured;
  }

  /** Queues `work`; beyond `maxPending` queued, reports backpressure once. */
  enqueue(work: () => Promise<void>): void {
    void this.queue.add(async () => {
      try {
        await work();
      } catch (err) {
        this.opts.log.error({ err }, 'post-commit work failed');
      }
    });
    if (!this.backpressured && this.queue.size > this.opts.maxPending) {
      this.backpressured = true;
      this.opts.onBackpressure(true);
      this.opts.log.warn({ pending: this.queue.size }, 'post-commit work is behind: pausing consumption');
    }
  }

  /** Resolves once everything queued so far (and queued meanwhile) has run. */
  async drain(): Promise<void> {
    await this.queue.onIdle();
  }
}
