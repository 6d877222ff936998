import { AppError } from './app-error.js';
import type { ErrorCode } from './error-code.js';

/** The codes an operator's request can be refused with. */
export type OperationRefusalCode = Extract<ErrorCode, 'JOB_NOT_FOUND' | 'OPERATION_INPUT_INVALID' | 'RECOUNT_REFUSED'>;

/**
 * An operator's request (offset reset, rebuild, pause) refused because of its
 * input. `details` name what was wrong (e.g. `{ argument: 'partitions' }`)
 * and go to the GraphQL error's `extensions`.
 */
export class OperationRefusedError extends AppError {
  declare readonly code: OperationRefusalCode;

  constructor(
    code: OperationRefusalCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
