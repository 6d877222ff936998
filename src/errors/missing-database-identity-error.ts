import { AppError } from './app-error.js';

/**
 * The database has no `database_identity` row, so nothing kept outside it
 * (the Redis copy of recharge-metrics) can be tied to it: the migrations did
 * not run. `code` is always `DATABASE_IDENTITY_MISSING`.
 */
export class MissingDatabaseIdentityError extends AppError {
  constructor() {
    super('DATABASE_IDENTITY_MISSING', 'database_identity is empty: apply the migrations (npm run migrate)');
  }
}
