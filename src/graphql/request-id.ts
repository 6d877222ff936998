import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** The header a client may name its request with, and in which every answer (HTTP, WebSocket handshake) echoes the id. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Longest request id kept from a client's `x-request-id`, characters; the rest is cut off. */
export const MAX_REQUEST_ID_LENGTH = 100;

/**
 * The one request-id rule of every path (GraphQL fast path, Express routes,
 * WebSocket handshakes): the client's `x-request-id` header cut to
 * {@link MAX_REQUEST_ID_LENGTH} characters, or a new random UUID when it sends
 * none (or an empty one, or the header twice). The caller echoes it in the
 * answer's `x-request-id` header and logs it as `req.id`.
 */
export function requestId(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  return (typeof given === 'string' && given.slice(0, MAX_REQUEST_ID_LENGTH)) || randomUUID();
}

/**
 * The id an answer carries in its `x-request-id` header (set by the request-id
 * middleware of the Express routes, see `startHttpServer`); a new one from
 * {@link requestId} when none was set.
 */
export function requestIdOf(res: ServerResponse, headers: IncomingHttpHeaders): string {
  const set = res.getHeader(REQUEST_ID_HEADER);
  return typeof set === 'string' ? set : requestId(headers);
}
