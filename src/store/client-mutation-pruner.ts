import type { Logger } from 'pino';
import type { ClientMutationStore } from './client-mutation-store.js';

/** Time between two prunings of `client_mutation`, MILLISECONDS: 10 minutes. */
export const CLIENT_MUTATION_PRUNE_INTERVAL_MS = 600_000;

/**
 * Deletes `client_mutation` rows past their 24 hours on a timer (every
 * {@link CLIENT_MUTATION_PRUNE_INTERVAL_MS} milliseconds, and once at start),
 * off the request path: failures are logged and retried at the next tick.
 * Every API process runs one; the deletes are idempotent.
 */
export class ClientMutationPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: ClientMutationStore,
    private readonly logger: Logger,
    private readonly intervalMs = CLIENT_MUTATION_PRUNE_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pruneNow(), this.intervalMs);
    this.timer.unref();
    void this.pruneNow();
  }

  /** Prunes once now (a pruning in progress is awaited instead). */
  async pruneNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const deleted = await this.store.prune();
        if (deleted > 0) this.logger.info({ deleted }, 'client mutation ids pruned');
      } catch (err) {
        this.logger.warn({ err }, 'pruning client mutation ids failed: retrying at the next interval');
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
