import { AppError } from '../../errors/app-error.js';

/**
 * A status update named the status it expected (`expectedStatus`) and the
 * user's current status is another: nothing was changed. Code:
 * `CALLBACK_STATUS_CONFLICT` (GraphQL: `CONFLICT`, with `currentStatus`).
 */
export class CallbackStatusConflictError extends AppError {
  constructor(
    readonly uid: string,
    /** The status the caller expected (a `CallbackStatus` name). */
    readonly expectedStatus: string,
    /** The status the user has (a `CallbackStatus` name). */
    readonly currentStatus: string,
    options?: { cause?: unknown },
  ) {
    super(
      'CALLBACK_STATUS_CONFLICT',
      `uid ${JSON.stringify(uid)} has callback status ${currentStatus}, not the expected ${expectedStatus}`,
      options,
    );
  }

  override clientDetails(): Record<string, unknown> {
    return { uid: this.uid, currentStatus: this.currentStatus, expectedStatus: this.expectedStatus };
  }
}
