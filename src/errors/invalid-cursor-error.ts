import { AppError } from './app-error.js';

/**
 * A cursor this API did not issue: an `unpaidUsers` page cursor or a
 * subscription cursor that is garbage or belongs to another subscription.
 * Code: `CURSOR_INVALID` (GraphQL: `BAD_USER_INPUT`).
 */
export class InvalidCursorError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CURSOR_INVALID', message, options);
  }
}
