import cors from 'cors';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { CoreResponse, GraphQLCore } from './graphql-core.js';
import { logRequestCompleted } from './http-request-log.js';
import { requestIdOf } from './request-id.js';

/** Options of {@link graphqlExpressRoute}. */
export interface GraphQLExpressRouteOptions {
  core: GraphQLCore;
  /** Largest request body, bytes: a larger one is answered 413 `PAYLOAD_TOO_LARGE`. */
  maxBodyBytes: number;
  /** Browser origins allowed by CORS; empty for none, `*` for any. */
  corsOrigins: string[];
  logger: Logger;
}

/** The path asked for, without the query string (a GET's operation and variables stay out of the logs). */
function pathOf(req: Request): string {
  const query = req.originalUrl.indexOf('?');
  return query < 0 ? req.originalUrl : req.originalUrl.slice(0, query);
}

/** Sends a core answer through Express (`res.send`: its ETag and HEAD handling for whole bodies). */
async function send(res: Response, answer: CoreResponse): Promise<void> {
  res.status(answer.status).set(answer.headers);
  if (typeof answer.body === 'string') {
    res.send(answer.body);
    return;
  }
  for await (const chunk of answer.body) res.write(chunk);
  res.end();
}

/**
 * The Express adapter of {@link GraphQLCore} at `/graphql`, for what the fast
 * path (`http-fast-path.ts`) leaves: GET (and the landing page), OPTIONS,
 * other content types and encodings, and, with `corsOrigins`, requests with
 * an `Origin` (cors answers preflights and adds its headers). Every request
 * through it is logged like those of the fast path (see
 * `logRequestCompleted`), whoever answers it. Bodies are read by
 * `express.json` (at most `maxBodyBytes` bytes: 413 `PAYLOAD_TOO_LARGE`;
 * not JSON: 400 `BAD_REQUEST`), then the core answers.
 *
 * @returns the middlewares to mount at `/graphql`, in order.
 */
export function graphqlExpressRoute(opts: GraphQLExpressRouteOptions): (RequestHandler | ErrorRequestHandler)[] {
  const { core, logger: log } = opts;
  const logCompleted: RequestHandler = (req, res, next) => {
    const startedMs = performance.now();
    res.once('finish', () => {
      logRequestCompleted(log, requestIdOf(res, req.headers), req.method, pathOf(req), res.statusCode, startedMs);
    });
    next();
  };
  const bodyErrors: ErrorRequestHandler = (err, req, res, next) => {
    const type = (err as { type?: string }).type;
    const id = requestIdOf(res, req.headers);
    if (type === 'entity.too.large') void send(res, core.payloadTooLarge(opts.maxBodyBytes, id));
    else if (type === 'entity.parse.failed') void send(res, core.notJson(id));
    else next(err);
  };
  const handle: RequestHandler = async (req, res) => {
    const startedMs = performance.now();
    const query = req.originalUrl.indexOf('?');
    const answer = await core.handle({
      method: req.method.toUpperCase(),
      url: pathOf(req),
      headers: req.headers,
      search: query < 0 ? '' : req.originalUrl.slice(query),
      body: req.body as unknown,
      clientAddress: req.ip ?? 'unknown',
      requestId: requestIdOf(res, req.headers),
      startedMs,
    });
    await send(res, answer);
  };
  const corsMiddleware: RequestHandler[] =
    opts.corsOrigins.length > 0
      ? [
          cors({
            origin: opts.corsOrigins.includes('*') ? true : opts.corsOrigins,
            allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
          }),
        ]
      : [];
  return [logCompleted, ...corsMiddleware, express.json({ limit: opts.maxBodyBytes }), bodyErrors, handle];
}
