import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import type { Logger } from 'pino';
import type { CoreResponse, GraphQLCore } from './graphql-core.js';
import { logRequestCompleted } from './http-request-log.js';
import { requestId } from './request-id.js';

/** Options of {@link createFastGraphQLPath}. */
export interface FastPathOptions {
  core: GraphQLCore;
  /** Largest request body, bytes: a larger one is answered 413 `PAYLOAD_TOO_LARGE`. */
  maxBodyBytes: number;
  /** With CORS configured, requests that carry an `Origin` are left to the Express route (its cors middleware answers them). */
  corsEnabled: boolean;
  logger: Logger;
}

/** A request listener that serves what it takes and says whether it took it. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const LINE_METHOD = 'POST';
const LINE_URL = '/graphql';

/** Writes the chunks of an incremental answer, then logs the request. */
async function sendChunks(
  res: ServerResponse,
  chunks: AsyncIterable<string>,
  log: Logger,
  id: string,
  status: number,
  startedMs: number,
): Promise<void> {
  for await (const chunk of chunks) res.write(chunk);
  res.end();
  logRequestCompleted(log, id, LINE_METHOD, LINE_URL, status, startedMs);
}

/**
 * Writes a core answer with Node's own response (no Express): status, headers,
 * `content-length` for a whole body, the body; then logs the request.
 * @returns a promise only for an incremental answer (chunks), written as they come.
 */
function send(
  res: ServerResponse,
  answer: CoreResponse,
  log: Logger,
  id: string,
  startedMs: number,
): Promise<void> | undefined {
  const { body, headers, status } = answer;
  if (typeof body !== 'string') {
    res.writeHead(status, headers);
    return sendChunks(res, body, log, id, status, startedMs);
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
  logRequestCompleted(log, id, LINE_METHOD, LINE_URL, status, startedMs);
  return undefined;
}

/**
 * The HTTP adapter of the common request, in front of Express: `POST /graphql`
 * with `Content-Type: application/json`, a `Content-Length`, no content
 * encoding (and, with CORS configured, no `Origin`). It reads the body with
 * raw-body (the declared length checked against `maxBodyBytes` before reading,
 * the bytes received while reading), parses it as body-parser's strict JSON
 * (an object or an array, else 400 `BAD_REQUEST`), hands it to
 * {@link GraphQLCore.handle} and writes the answer with Node's response: no
 * Express router, body-parser or per-request middleware, which together cost
 * about as much CPU as the admission and execution of a cached query. The
 * answers are the core's, as through the Express route; the request is logged
 * like every `/graphql` request (see `logRequestCompleted`).
 *
 * @returns a listener returning `false`, having touched nothing, for any other
 *   request (the caller passes it to Express), `true` for a request it serves.
 */
export function createFastGraphQLPath(opts: FastPathOptions): FastPath {
  const { core, logger: log } = opts;

  const serve = async (req: IncomingMessage, res: ServerResponse, id: string, length: number, startedMs: number) => {
    let text: string;
    try {
      text = await getRawBody(req, { length, limit: opts.maxBodyBytes, encoding: 'utf8' });
    } catch (err) {
      if ((err as { type?: unknown }).type !== 'entity.too.large') return; // the client went away mid-body
      req.resume();
      await send(res, core.payloadTooLarge(opts.maxBodyBytes, id), log, id, startedMs);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== 'object') {
      await send(res, core.notJson(id), log, id, startedMs);
      return;
    }
    const answer = await core.handle({
      method: LINE_METHOD,
      url: LINE_URL,
      headers: req.headers,
      search: '',
      body,
      clientAddress: req.socket.remoteAddress ?? 'unknown',
      requestId: id,
      startedMs,
    });
    return send(res, answer, log, id, startedMs);
  };

  return (req, res) => {
    const headers = req.headers;
    const length = Number(headers['content-length']);
    if (
      req.method !== LINE_METHOD ||
      req.url !== LINE_URL ||
      !JSON_CONTENT_TYPE.test(headers['content-type'] ?? '') ||
      headers['transfer-encoding'] !== undefined ||
      !Number.isSafeInteger(length) ||
      length <= 0 ||
      (headers['content-encoding'] !== undefined && headers['content-encoding'] !== 'identity') ||
      (opts.corsEnabled && headers.origin !== undefined)
    )
      return false;
    const startedMs = performance.now();
    const id = requestId(headers);
    serve(req, res, id, length, startedMs).catch((err: unknown) => {
      log.error({ err }, 'graphql request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = JSON.stringify({
        errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      void send(
        res,
        { status: 500, headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': id }, body },
        log,
        id,
        startedMs,
      );
    });
    return true;
  };
}
