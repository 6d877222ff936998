import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { GraphQLContext } from './context.js';

/** Results kept for reuse; each is small (one event's selection), and a burst is delivered within moments. */
const MAX_SHARED_RESULTS = 5_000;

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * Which change-log events may share one execution result between
 * subscribers: a change or a progress event, identified by its position and
 * cursor (the same for every subscriber that is at the same position).
 * Snapshots and errors are per subscriber.
 */
function sharedEventKey(event: unknown): string | null {
  if (typeof event !== 'object' || event === null) return null;
  const e = event as { kind?: unknown; cursor?: unknown; change?: { partition: number; pos: string }; atMs?: number };
  if (typeof e.cursor !== 'string') return null;
  if (e.kind === 'change' && e.change) return `c\u0000${e.change.partition}\u0000${e.change.pos}\u0000${e.cursor}`;
  if (e.kind === 'progress') return `p\u0000${e.atMs}\u0000${e.cursor}`;
  return null;
}

/**
 * graphql-ws's `subscribe` for this schema: graphql-js's own (source stream,
 * then one `execute` per event), except that subscribers running the same
 * operation (same document, variables, operation name and caller role) on the
 * same change-log event share ONE execution result. A thousand subscribers of
 * `abnormalUserDetected` then cost one execution per detection instead of a
 * thousand; the result depends on nothing else (the resolvers read the event
 * and process-wide services only). Other events (snapshots, the Redis-borne
 * `hotProductsUpdated`) execute per subscriber as before.
 */
export function createSharedResultSubscribe(): (
  args: ExecutionArgs,
) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const shared = new Map<string, Result>();
  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in (source as object))) return source as ExecutionResult;
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const role = (args.contextValue as GraphQLContext | undefined)?.caller?.role ?? '';
    const operation = `${role}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${print(args.document)}`;
    const run = (event: unknown): Result => {
      const eventKey = sharedEventKey(event);
      if (eventKey === null) return execute({ ...args, rootValue: event });
      const key = `${operation}\u0001${eventKey}`;
      let result = shared.get(key);
      if (result === undefined) {
        result = execute({ ...args, rootValue: event });
        shared.set(key, result);
        // Oldest first: a Map iterates in insertion order.
        if (shared.size > MAX_SHARED_RESULTS) {
          const oldest = shared.keys().next();
          if (!oldest.done) shared.delete(oldest.value);
        }
      }
      return result;
    };
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        const n = await iterator.next();
        if (n.done) return { done: true, value: undefined };
        try {
          return { done: false, value: await run(n.value) };
        } catch (err) {
          await iterator.return?.();
          throw err;
        }
      },
      async return() {
        await iterator.return?.();
        return { done: true, value: undefined };
      },
      async throw(err: unknown) {
        await iterator.return?.();
        throw err;
      },
    };
    return mapped;
  };
}
