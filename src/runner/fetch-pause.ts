import type { ConsumerPort } from './consumer-port.js';

/**
 * Why fetching is paused: by an operator (`pauseJob`) or by backpressure of
 * the post-commit queue. Fetching runs only while neither wants a pause; a
 * change takes effect at the next fetch.
 */
export class FetchPause {
  private operator = false;
  private backpressure = false;

  constructor(private readonly consumer: Pick<ConsumerPort, 'pause' | 'resume'>) {}

  /** True while an operator has paused the job. */
  get byOperator(): boolean {
    return this.operator;
  }

  /** Sets the operator's pause. @returns false when it was already so (nothing changed). */
  setByOperator(paused: boolean): boolean {
    if (paused === this.operator) return false;
    this.operator = paused;
    this.apply();
    return true;
  }

  /** Sets the post-commit queue's pause. */
  setByBackpressure(paused: boolean): void {
    this.backpressure = paused;
    this.apply();
  }

  private apply(): void {
    if (this.operator || this.backpressure) this.consumer.pause();
    else this.consumer.resume();
  }
}
