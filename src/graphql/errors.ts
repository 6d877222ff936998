import { GraphQLError } from 'graphql';
import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-code.js';
import { OperationRefusedError } from '../errors/operation-refused-error.js';
import { PartitionReadError } from '../errors/partition-read-error.js';

/**
 * The one mapping of domain error codes to the client-visible GraphQL
 * `extensions.code`. Every {@link ErrorCode} has an entry, so a new code is a
 * compile error until it is decided here. Codes clients already rely on
 * (`BAD_USER_INPUT`, `NOT_FOUND`, `RECOUNT_REFUSED`, ...) never change.
 */
export const GRAPHQL_CODES: Readonly<Record<ErrorCode, string>> = {
  CURSOR_INVALID: 'BAD_USER_INPUT',
  OPERATION_INPUT_INVALID: 'BAD_USER_INPUT',
  UNPAID_USER_NOT_FOUND: 'NOT_FOUND',
  CALLBACK_STATUS_CONFLICT: 'CONFLICT',
  JOB_NOT_FOUND: 'NOT_FOUND',
  RECOUNT_REFUSED: 'RECOUNT_REFUSED',
  PARTITION_READ_FAILED: 'PARTITION_READ_FAILED',
  CONFIG_INVALID: 'CONFIG_INVALID',
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  DATABASE_IDENTITY_MISSING: 'DATABASE_IDENTITY_MISSING',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  PARTITION_FENCED: 'PARTITION_FENCED',
  MALFORMED_RECORD: 'MALFORMED_RECORD',
  WINDOW_SPEC_INVALID: 'WINDOW_SPEC_INVALID',
  WINDOW_SPEC_CHANGED: 'WINDOW_SPEC_CHANGED',
  TOPIC_RECREATED: 'TOPIC_RECREATED',
  WINDOW_ENGINE_INPUT_INVALID: 'WINDOW_ENGINE_INPUT_INVALID',
  TIME_ZONE_INVALID: 'TIME_ZONE_INVALID',
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  INVALID_OPTION: 'INVALID_OPTION',
  KAFKA_PRODUCE_FAILED: 'KAFKA_PRODUCE_FAILED',
  USAGE: 'USAGE',
};

/** A bad argument: `extensions.code` BAD_USER_INPUT, naming the argument. */
export function badUserInput(argument: string, message: string): GraphQLError {
  return new GraphQLError(`${argument}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

/**
 * Turns an {@link AppError} into a GraphQL error whose `extensions.code` is
 * its code's entry in {@link GRAPHQL_CODES}; an operator's refusal and a
 * failed partition read also carry their `details` (e.g. `argument`,
 * `recordsToRecount`; `failure`, `unfinished`) in `extensions`, any other
 * error its `clientDetails()`.
 * Anything else is returned as it is (Apollo reports it as INTERNAL_SERVER_ERROR).
 */
export function toGraphQLError(err: unknown): unknown {
  if (!(err instanceof AppError)) return err;
  const details =
    err instanceof OperationRefusedError || err instanceof PartitionReadError ? err.details : err.clientDetails();
  const extensions = { code: GRAPHQL_CODES[err.code], ...details };
  return new GraphQLError(err.message, { extensions, originalError: err });
}
