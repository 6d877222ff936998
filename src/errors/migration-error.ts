import { AppError } from './app-error.js';

/** A migration that was applied with other SQL than the file now holds, or that failed. Code: `MIGRATION_FAILED`. */
export class MigrationError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MIGRATION_FAILED', message, options);
  }
}
