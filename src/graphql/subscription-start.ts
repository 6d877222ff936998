import { GraphQLError } from 'graphql';
import { CursorExpiredError } from '../errors/cursor-expired-error.js';
import { InvalidCursorError } from '../errors/invalid-cursor-error.js';
import type { ChangeLogTailer } from '../subscriptions/change-log-tailer.js';
import type { GraphQLContext } from './context.js';
import { badUserInput } from './errors.js';

/**
 * A progress event is sent when this many MILLISECONDS passed since the last
 * one: with polls every 250 ms, consecutive progress events are at most about
 * 4.5 s apart while the change log can be read ("at least every 5 s").
 */
export const PROGRESS_INTERVAL_MS = 4_000;

/** The GraphQL error of {@link CursorExpiredError}: `CURSOR_EXPIRED` with `extensions.oldestCursor` and `extensions.retentionHours`. */
export function cursorExpired(err: CursorExpiredError): GraphQLError {
  return new GraphQLError(err.message, {
    extensions: { code: err.code, oldestCursor: err.oldestCursor, retentionHours: err.retentionHours },
    originalError: err,
  });
}

/**
 * Where a resumable subscription of `stream` starts (see `ChangeFeeds.startOf`).
 * @throws {GraphQLError} `BAD_USER_INPUT` (argument `after`) for a cursor this
 *   subscription did not make; `CURSOR_EXPIRED` with `extensions.oldestCursor`
 *   (the oldest cursor still complete) and `extensions.retentionHours` when the
 *   changes after it were pruned.
 */
export async function subscriptionStart(
  ctx: GraphQLContext,
  stream: string,
  after: string | null,
): Promise<{ tailer: ChangeLogTailer; start: Map<number, string>; catchUp: boolean }> {
  try {
    return await ctx.services.changeFeeds.startOf(stream, after);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw badUserInput('after', err.message);
    if (err instanceof CursorExpiredError) throw cursorExpired(err);
    throw err;
  }
}
