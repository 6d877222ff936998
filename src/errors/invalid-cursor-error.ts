import { AppError } from './app-error.js';

/** A subscription cursor that this service did not make (garbage, another subscription's): GraphQL `BAD_USER_INPUT`. */
export class InvalidCursorError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_CURSOR', message, options);
  }
}
