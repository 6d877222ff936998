import { GraphQLError } from 'graphql';
import { AppError } from '../errors/app-error.js';

/** A bad argument: `extensions.code` BAD_USER_INPUT, naming the argument. */
export function badUserInput(argument: string, message: string): GraphQLError {
  return new GraphQLError(`${argument}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

/** Turns an {@link AppError} into a GraphQL error carrying its stable code. */
export function toGraphQLError(err: unknown): unknown {
  if (err instanceof AppError) return new GraphQLError(err.message, { extensions: { code: err.code }, originalError: err });
  return err;
}
