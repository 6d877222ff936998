import { AppError } from './app-error.js';

/** The pagination cursor is not one this API issued. Code: `CURSOR_INVALID` (GraphQL: `BAD_USER_INPUT`). */
export class InvalidCursorError extends AppError {
  constructor(readonly cursor: string, options?: { cause?: unknown }) {
    super('CURSOR_INVALID', `after: ${JSON.stringify(cursor)} is not a cursor returned by unpaidUsers`, options);
  }
}
