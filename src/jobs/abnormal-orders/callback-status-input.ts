import { GraphQLError } from 'graphql';
import { MAX_NOTE_LENGTH, noteLength } from './callback-status-plan.js';
import type { Caller } from '../../graphql/auth.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput } from '../../graphql/errors.js';

/** Longest clientMutationId, CHARACTERS (the column is VARCHAR(128)). */
export const MAX_CLIENT_MUTATION_ID_LENGTH = 128;

/**
 * The caller of a status mutation. `@Authorized` admits only authenticated
 * callers; a change is never recorded without one.
 * @throws {GraphQLError} UNAUTHENTICATED when there is none.
 */
export function requireCaller(ctx: GraphQLContext): Caller {
  if (!ctx.caller)
    throw new GraphQLError('this operation needs an authenticated caller', { extensions: { code: 'UNAUTHENTICATED' } });
  return ctx.caller;
}

/**
 * @throws {GraphQLError} BAD_USER_INPUT naming `argument` when `note` is longer than 500 characters.
 */
export function checkNote(argument: string, note: string | null): void {
  if (note !== null && noteLength(note) > MAX_NOTE_LENGTH)
    throw badUserInput(argument, `a note is at most ${MAX_NOTE_LENGTH} characters, got ${noteLength(note)}`);
}

/**
 * @throws {GraphQLError} BAD_USER_INPUT (argument `clientMutationId`) when it is empty or longer than 128 characters.
 */
export function checkClientMutationId(id: string | null): void {
  if (id !== null && (id.length === 0 || noteLength(id) > MAX_CLIENT_MUTATION_ID_LENGTH))
    throw badUserInput('clientMutationId', `must be 1 to ${MAX_CLIENT_MUTATION_ID_LENGTH} characters`);
}
