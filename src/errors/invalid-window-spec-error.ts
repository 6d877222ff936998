import { AppError } from './app-error.js';

/**
 * A window specification (size, advance, grace, idle timeout) that cannot
 * describe epoch-aligned hopping windows. Thrown at start-up, before any
 * record is read, so a misconfigured job fails fast instead of producing
 * windows that do not line up.
 *
 * Code: `WINDOW_SPEC_INVALID`. `option` names the offending field
 * (`sizeMs`, `advanceMs`, `graceMs` or `idleTimeoutMs`); the message starts
 * with it too.
 */
export class InvalidWindowSpecError extends AppError {
  /** The spec field that is wrong, e.g. `sizeMs`. */
  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('WINDOW_SPEC_INVALID', message, options);
    this.option = option;
  }
}
