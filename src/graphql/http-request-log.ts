import type { Logger } from 'pino';

/** The request fields of a log line (as pino-http wrote them): the request id, the method and the path. */
export interface RequestLine {
  id: string;
  method: string;
  url: string;
}

/**
 * Logs one answered HTTP request of `/graphql` as `request completed` with
 * `req`, `res.statusCode` and `responseTime` (MILLISECONDS, rounded). One line
 * per answered operation at info would cost every request a JSON write at
 * 1,000 requests/s: answers (< 400) are logged at debug, refusals (4xx) at
 * info, failures (5xx) at warn.
 *
 * @param startedMs `performance.now()` when the request arrived, milliseconds.
 */
export function logRequestCompleted(
  log: Logger,
  id: string,
  method: string,
  url: string,
  statusCode: number,
  startedMs: number,
): void {
  const level = statusCode >= 500 ? 'warn' : statusCode >= 400 ? 'info' : 'debug';
  if (!log.isLevelEnabled(level)) return;
  const req: RequestLine = { id, method, url };
  log[level](
    { req, res: { statusCode }, responseTime: Math.round(performance.now() - startedMs) },
    'request completed',
  );
}
