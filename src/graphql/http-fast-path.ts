import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { execute, OperationTypeNode, type GraphQLSchema } from 'graphql';
import getRawBody from 'raw-body';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { refuse, refusalBody, type Admission, type OperationRequest, type Refusal } from './admission.js';
import type { Caller } from './auth.js';
import type { ApiServices, GraphQLContext } from './context.js';

/** What the full (Express and Apollo Server) path gets from the fast path when it hands a request over. */
export interface HandedOver {
  /** The caller the fast path authenticated, and the operation it admitted: not admitted (nor rate-limited) twice. */
  caller: Caller;
}

/** Where a request handed over by the fast path ends up: the Express application. */
export type FullPath = (req: IncomingMessage, res: ServerResponse) => void;

/** Options of {@link createFastGraphQLPath}. */
export interface FastPathOptions {
  schema: GraphQLSchema;
  services: ApiServices;
  admission: Admission;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** With CORS configured, requests that carry an `Origin` take the full path (the cors middleware answers them). */
  corsEnabled: boolean;
  logger: Logger;
  metrics: Metrics;
}

const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * Whether the client accepts the `application/json` answer Apollo Server would
 * choose; other negotiations (graphql-response+json, multipart) take the full path.
 */
function acceptsPlainJson(accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return true;
  if (/graphql-response|multipart|callback/i.test(accept)) return false;
  return /application\/json|\*\/\*|application\/\*/i.test(accept);
}

/** A request id: the client's `x-request-id` (at most 100 characters) or a new UUID, as the Express path makes it. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return (typeof given === 'string' && given.slice(0, 100)) || randomUUID();
}

/**
 * The fast path of `POST /graphql`: the common request (one JSON operation,
 * `Content-Type: application/json`, a `Content-Length`, no content encoding)
 * is read, admitted by the same {@link Admission} and, for a query whose
 * execution has no errors, executed with graphql-js and answered here,
 * without Express's router, pino-http, body-parser and Apollo Server's request
 * pipeline (together about as much CPU as the admission and execution of a
 * cached query). The answer is what Apollo Server sends for it: HTTP 200,
 * `content-type: application/json; charset=utf-8`, `cache-control: no-store`,
 * `{"data":...}` and a newline, plus `x-request-id`; refusals are the admission's
 * (same status, `retry-after`, body) and logged at info like the full path's.
 *
 * Everything else takes the full path unchanged: other methods and URLs,
 * batches (a JSON array), mutations and subscriptions, a query whose execution
 * reported errors (executed again there, so errors are formatted, masked and
 * logged by Apollo Server; queries have no side effects), other content types,
 * encodings or negotiations, and CORS requests. A request handed over after
 * its body was read carries it as `req.body` (body-parser then leaves it) and,
 * once admitted, {@link HandedOver} so that it is not admitted twice.
 *
 * @returns a request listener: `(req, res, full)`, `full` the Express application.
 */
export function createFastGraphQLPath(
  opts: FastPathOptions,
): (req: IncomingMessage, res: ServerResponse, full: FullPath) => void {
  const log = opts.logger;

  const answer = (
    res: ServerResponse,
    id: string,
    status: number,
    payload: string,
    started: number,
    extra?: Record<string, string>,
  ) => {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'x-request-id': id,
      ...extra,
    });
    res.end(payload);
    // The full path logs answers at debug and refusals at info (pino-http's fields).
    const level = status >= 500 ? 'warn' : status >= 400 ? 'info' : 'debug';
    if (log.isLevelEnabled(level)) {
      log[level](
        {
          req: { id, method: 'POST', url: '/graphql' },
          res: { statusCode: status },
          responseTime: Math.round(performance.now() - started),
        },
        'request completed',
      );
    }
  };
  const sendRefusal = (res: ServerResponse, id: string, refusal: Refusal, started: number) =>
    answer(
      res,
      id,
      refusal.status,
      JSON.stringify(refusalBody(refusal)),
      started,
      refusal.retryAfterSeconds !== undefined ? { 'retry-after': String(refusal.retryAfterSeconds) } : undefined,
    );

  const run = async (req: IncomingMessage, res: ServerResponse, full: FullPath, text: string, started: number) => {
    const id = requestId(req);
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      body = undefined;
    }
    // body-parser's strict JSON: an object or an array, nothing else.
    if (!body || typeof body !== 'object') {
      sendRefusal(res, id, refuse('BAD_REQUEST', 'the request body is not valid JSON'), started);
      return;
    }
    const handOver = (caller?: Caller) => {
      (req as IncomingMessage & { body?: unknown }).body = body;
      if (caller) (req as IncomingMessage & { handedOver?: HandedOver }).handedOver = { caller };
      full(req, res);
    };
    if (Array.isArray(body)) {
      handOver();
      return;
    }
    const op = body as OperationRequest;
    const auth = await opts.admission.authenticate(req.headers.authorization, req.socket.remoteAddress ?? 'unknown');
    if (!auth.ok) {
      sendRefusal(res, id, auth, started);
      return;
    }
    const admitted = await opts.admission.admitOperation(auth.caller, op);
    if (!admitted.ok) {
      sendRefusal(res, id, admitted, started);
      return;
    }
    // Apollo runs exactly the text that was admitted (a trusted document sent by hash included).
    op.query = admitted.query;
    const ext = op.extensions as Record<string, unknown> | undefined;
    if (ext && typeof ext === 'object' && 'persistedQuery' in ext) delete ext.persistedQuery;
    if (admitted.operationType !== OperationTypeNode.QUERY) {
      handOver(auth.caller);
      return;
    }
    let requestLogger: Logger | undefined;
    const contextValue: GraphQLContext = {
      caller: admitted.caller,
      services: opts.services,
      // Most operations never log: the child logger (with the request id) is made on first use.
      get logger() {
        return (requestLogger ??= log.child({ req: { id, method: 'POST', url: '/graphql' } }));
      },
    };
    const result = await execute({
      schema: opts.schema,
      document: admitted.document,
      variableValues: admitted.variables,
      operationName: admitted.operationName,
      contextValue,
    });
    if ((result.errors && result.errors.length > 0) || result.extensions !== undefined) {
      handOver(auth.caller);
      return;
    }
    answer(res, id, 200, `${JSON.stringify({ data: result.data })}\n`, started, { 'cache-control': 'no-store' });
    opts.metrics.graphqlDuration.observe({ operation: 'query' }, (performance.now() - started) / 1000);
  };

  /** Runs a request whose body was read; an unexpected failure answers 500 (or drops the connection if the answer began). */
  const runRead = (req: IncomingMessage, res: ServerResponse, full: FullPath, text: string, started: number) => {
    run(req, res, full, text, started).catch((err: unknown) => {
      log.error({ err }, 'graphql request failed');
      if (!res.headersSent)
        answer(
          res,
          requestId(req),
          500,
          JSON.stringify({ errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }),
          started,
        );
      else res.destroy();
    });
  };

  return (req, res, full) => {
    const headers = req.headers;
    const length = Number(headers['content-length']);
    if (
      req.method !== 'POST' ||
      req.url !== '/graphql' ||
      !JSON_CONTENT_TYPE.test(headers['content-type'] ?? '') ||
      headers['transfer-encoding'] !== undefined ||
      !Number.isSafeInteger(length) ||
      length <= 0 ||
      (headers['content-encoding'] !== undefined && headers['content-encoding'] !== 'identity') ||
      !acceptsPlainJson(headers.accept) ||
      (opts.corsEnabled && headers.origin !== undefined)
    ) {
      full(req, res);
      return;
    }
    const started = performance.now();
    // raw-body (what Express's body-parser reads with) checks the declared length against the limit before
    // reading, and the bytes received against both while reading.
    getRawBody(req, { length, limit: opts.maxBodyBytes, encoding: 'utf8' }).then(
      (text) => {
        runRead(req, res, full, text, started);
      },
      (err: unknown) => {
        if ((err as { type?: unknown }).type !== 'entity.too.large') return; // the client went away mid-body
        req.resume();
        sendRefusal(
          res,
          requestId(req),
          refuse('PAYLOAD_TOO_LARGE', `the request body is larger than ${opts.maxBodyBytes} bytes`, 413, {
            maxBytes: opts.maxBodyBytes,
          }),
          started,
        );
      },
    );
  };
}
