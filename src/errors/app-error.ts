import type { ErrorCode } from './error-code.js';

/**
 * Base class of every error this service throws on purpose.
 *
 * Callers branch on `code` (one of {@link ErrorCode}: stable, never reworded) or on
 * `instanceof`, never on the message text. The original error, when there is
 * one, is kept in `cause` (ES2022 error cause).
 */
export class AppError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * What a client is told besides the code and the message (GraphQL
   * `extensions`), e.g. the current state that refused an update. None by default.
   */
  clientDetails(): Record<string, unknown> {
    return {};
  }
}
