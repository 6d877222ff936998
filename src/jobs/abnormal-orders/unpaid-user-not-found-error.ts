import { AppError } from '../../errors/app-error.js';

/** The uid asked for has no `unpayment_record`. Code: `UNPAID_USER_NOT_FOUND` (GraphQL: `NOT_FOUND`). */
export class UnpaidUserNotFoundError extends AppError {
  constructor(
    readonly uid: string,
    options?: { cause?: unknown },
  ) {
    super('UNPAID_USER_NOT_FOUND', `no abnormal-order user with uid ${JSON.stringify(uid)}`, options);
  }
}
