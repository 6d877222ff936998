import { AppError } from './app-error.js';

/**
 * A subscription cursor older than the change log's retention: changes after
 * it were pruned, so resuming from it would skip some. `oldestCursor` is the
 * oldest cursor still complete (resuming from it loses the pruned changes only).
 */
export class CursorExpiredError extends AppError {
  constructor(
    readonly oldestCursor: string,
    readonly retentionHours: number | null,
  ) {
    super(
      'CURSOR_EXPIRED',
      'the cursor is older than the change log keeps (CHANGE_LOG_RETENTION_HOURS): changes after it were pruned; subscribe without `after` (or with extensions.oldestCursor) and reload the state',
    );
  }
}
