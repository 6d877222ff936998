import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import { execute, OperationTypeNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import {
  refuse,
  refusalBody,
  type Admission,
  type AdmittedOperation,
  type OperationRequest,
  type Refusal,
} from './admission.js';
import type { Caller } from './auth.js';
import type { ApiServices, GraphQLContext } from './context.js';
import type { RequestLine } from './http-request-log.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/**
 * One GraphQL request over HTTP, whatever the server that received it: what
 * {@link GraphQLCore.handle} needs and nothing of a socket.
 */
export interface CoreRequest {
  /** Upper case: `POST`, `GET`, `HEAD`, `OPTIONS`, ... */
  method: string;
  /** The path asked for (for logs), e.g. `/graphql`. */
  url: string;
  /** Header names in lower case, as Node gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The query string, with or without its leading `?` (`''` when none): a GET's operation. */
  search: string;
  /** The JSON body of a POST, parsed (an object, an array of them for a batch); `undefined` without one. Rewritten in place once admitted. */
  body: unknown;
  /** The client's IP address: whose rate budget a failed authentication spends. */
  clientAddress: string;
  /** See `requestId` (request-id.ts). */
  requestId: string;
  /** `performance.now()` when the request arrived, MILLISECONDS: the start of `rt_graphql_request_duration_seconds`. */
  startedMs: number;
}

/** An HTTP answer, whatever the server that sends it. */
export interface CoreResponse {
  status: number;
  /** Header names in lower case; always `content-type` and `x-request-id`. */
  headers: Record<string, string>;
  /** The whole body, or its chunks in order (Apollo Server's incremental answers). */
  body: string | AsyncIterable<string>;
}

/** What executes the requests the core does not answer itself (Apollo Server 5; started). */
export type GraphQLExecutor = Pick<ApolloServer<GraphQLContext>, 'executeHTTPGraphQLRequest'>;

/** Options of {@link GraphQLCore}. */
export interface GraphQLCoreOptions {
  schema: GraphQLSchema;
  services: ApiServices;
  /** The one admission path (authentication, rate limit, trusted documents, limits, cost). */
  admission: Admission;
  /** Runs what {@link GraphQLCore.handle} does not answer itself, with the context the core built. */
  executor: GraphQLExecutor;
  /** The HTTP component's logger: request loggers are its children. */
  logger: Logger;
  metrics: Metrics;
}

/** A WebSocket operation let through: graphql-ws's execution arguments (context included) and the operation's type. */
export interface AdmittedExecution {
  ok: true;
  args: ExecutionArgs;
  /** `query`, `mutation` or `subscription`; `undefined` when the document names no such operation. */
  operationType: OperationTypeNode | undefined;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Whether the client accepts the `application/json` answer Apollo Server would
 * choose; other negotiations (graphql-response+json, multipart) go to Apollo Server.
 */
function acceptsPlainJson(accept: string | string[] | undefined): boolean {
  if (accept === undefined || accept === '') return true;
  if (typeof accept !== 'string' || /graphql-response|multipart|callback/i.test(accept)) return false;
  return /application\/json|\*\/\*|application\/\*/i.test(accept);
}

/** A query string's parameters as Node's `querystring` gives them: a repeated name as an array. */
function searchParams(search: string): Map<string, string | string[]> {
  const params = new Map<string, string | string[]>();
  for (const [name, value] of new URLSearchParams(search)) {
    const seen = params.get(name);
    params.set(name, seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]);
  }
  return params;
}

/** A JSON parameter of a GET (`variables`, `extensions`) parsed, or as it is when it is not JSON (the admission then names it). */
function jsonParam(value: string | string[] | undefined): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * The transport-free core of the GraphQL API (as graphql-ws's `makeServer` is
 * for WebSocket): given a request of either transport it admits the
 * operation through the one {@link Admission}, builds the request context
 * ({@link GraphQLContext}: the caller, the services, the request logger) in
 * one place ({@link context}), and executes it or hands it to the executor
 * (Apollo Server). It knows no socket, server or framework: the HTTP adapters
 * (`http-fast-path.ts`, `graphql-express-route.ts`) turn their requests into a
 * {@link CoreRequest} and send the {@link CoreResponse}; the WebSocket binding
 * (`graphql-websocket.ts`) gets graphql-ws execution arguments from
 * {@link admitExecution}.
 */
export class GraphQLCore {
  private readonly log: Logger;

  constructor(private readonly opts: GraphQLCoreOptions) {
    this.log = opts.logger;
  }

  /**
   * The context of one operation: the caller (`null` for requests that run
   * none, such as the landing page), the services, and a logger carrying the
   * request's `req` fields (`requestId`, `method`, `url`), made on first use
   * (most operations never log).
   */
  context(caller: Caller | null, requestId: string, method: string, url: string): GraphQLContext {
    let requestLogger: Logger | undefined;
    const log = this.log;
    return {
      caller,
      services: this.opts.services,
      get logger() {
        const req: RequestLine = { id: requestId, method, url };
        return (requestLogger ??= log.child({ req }));
      },
    };
  }

  /**
   * Authenticates a credential (`Bearer <key or JWT>`, or the bare value):
   * the WebSocket `connection_init`. A refusal is `UNAUTHENTICATED`,
   * `FORBIDDEN`, `AUTH_UNAVAILABLE`, or `RATE_LIMITED` once the client
   * address has spent its budget of failed attempts.
   */
  authenticate(authorization: unknown, clientAddress: string): Promise<{ ok: true; caller: Caller } | Refusal> {
    return this.opts.admission.authenticate(authorization, clientAddress);
  }

  /**
   * Admits one operation of a WebSocket (every `subscribe`, so a revoked key
   * or an expired token stops at the next one) and returns what graphql-ws
   * executes, with the context built by {@link context} (`requestId`,
   * `method`, `url`: the handshake's); or the refusal (its errors carry
   * `extensions.code`).
   */
  async admitExecution(
    authorization: unknown,
    clientAddress: string,
    operation: OperationRequest,
    requestId: string,
    method: string,
    url: string,
  ): Promise<AdmittedExecution | Refusal> {
    const admitted = await this.opts.admission.admit(authorization, clientAddress, operation);
    if (!admitted.ok) return admitted;
    return {
      ok: true,
      operationType: admitted.operationType,
      args: {
        schema: this.opts.schema,
        document: admitted.document,
        variableValues: admitted.variables,
        operationName: admitted.operationName,
        contextValue: this.context(admitted.caller, requestId, method, url),
      },
    };
  }

  /**
   * Answers one HTTP request of `/graphql`. Every operation in it (each of a
   * batch) is admitted first; a refusal answers with the admission's status
   * (400, 401, 403, 429 with `retry-after` in SECONDS, 503) and
   * `{"errors":[...]}`. A single admitted query asking for plain JSON is
   * executed here with graphql-js and, when its execution reports no error,
   * answered as Apollo Server answers it (200, `cache-control: no-store`,
   * `{"data":...}` and a newline), its duration observed in
   * `rt_graphql_request_duration_seconds`. Everything else (mutations,
   * batches, GET, other negotiations, a query whose execution reported errors,
   * executed again there so that errors are formatted, masked and logged in
   * one place: queries have no side effects, the landing page, OPTIONS) runs
   * in Apollo Server on the admitted text with the same context.
   * Never throws for a bad request; an unexpected failure rejects.
   */
  async handle(request: CoreRequest): Promise<CoreResponse> {
    const isGet = request.method === 'GET' || request.method === 'HEAD';
    let params: Map<string, string | string[]> | undefined;
    // A GET without an operation is the landing page (or Apollo's 400); OPTIONS has none either: nothing to admit.
    if (request.method === 'OPTIONS') return this.execute(request, null, request.search);
    if (isGet) {
      params = searchParams(request.search);
      if (!params.has('query') && !params.has('extensions')) return this.execute(request, null, request.search);
    }
    const body: unknown = params
      ? {
          query: params.get('query'),
          operationName: params.get('operationName'),
          variables: jsonParam(params.get('variables')),
          extensions: jsonParam(params.get('extensions')),
        }
      : request.body;
    const batch = Array.isArray(body);
    const operations = (batch ? body : [body]) as unknown[];
    if (batch) {
      const refused = this.opts.admission.checkBatch(operations);
      if (refused) return this.refusal(refused, request.requestId);
    }
    if (operations.some((o) => !o || typeof o !== 'object'))
      return this.refusal(refuse('BAD_REQUEST', 'the body must be a GraphQL request object'), request.requestId);
    const auth = await this.opts.admission.authenticate(request.headers.authorization, request.clientAddress);
    if (!auth.ok) return this.refusal(auth, request.requestId);
    let admitted: AdmittedOperation | undefined;
    for (const op of operations as OperationRequest[]) {
      const result = await this.opts.admission.admitOperation(auth.caller, op);
      if (!result.ok) return this.refusal(result, request.requestId);
      admitted = result;
      // The executor runs exactly the text that was admitted (a trusted document sent by hash included).
      op.query = result.query;
      const ext = op.extensions as Record<string, unknown> | undefined;
      if (ext && typeof ext === 'object' && 'persistedQuery' in ext) delete ext.persistedQuery;
    }
    if (params && admitted) {
      // A GET's operation is read from the query string: the admitted text there, without the hash.
      params.set('query', admitted.query);
      const ext = (body as OperationRequest).extensions;
      if (ext && typeof ext === 'object') {
        if (Object.keys(ext).length > 0) params.set('extensions', JSON.stringify(ext));
        else params.delete('extensions');
      }
      return this.execute(request, auth.caller, new URLSearchParams([...params].flatMap(searchPairs)).toString());
    }
    if (
      request.method === 'POST' &&
      !batch &&
      admitted?.operationType === OperationTypeNode.QUERY &&
      acceptsPlainJson(request.headers.accept)
    ) {
      const answered = await this.executeQuery(request, admitted);
      if (answered) return answered;
    }
    return this.execute(request, auth.caller, request.search);
  }

  /**
   * The answer of a refusal: its status, `{"errors":[...]}` (each error with
   * `extensions.code`), and `retry-after` (SECONDS) for `RATE_LIMITED`.
   */
  refusal(refusal: Refusal, requestId: string): CoreResponse {
    const headers: Record<string, string> = { 'content-type': JSON_TYPE, [REQUEST_ID_HEADER]: requestId };
    if (refusal.retryAfterSeconds !== undefined) headers['retry-after'] = String(refusal.retryAfterSeconds);
    return { status: refusal.status, headers, body: JSON.stringify(refusalBody(refusal)) };
  }

  /** The answer to a body over `maxBytes` bytes: 413 `PAYLOAD_TOO_LARGE` with `extensions.maxBytes`. */
  payloadTooLarge(maxBytes: number, requestId: string): CoreResponse {
    return this.refusal(
      refuse('PAYLOAD_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`, 413, { maxBytes }),
      requestId,
    );
  }

  /** The answer to a body that is not a JSON object or array: 400 `BAD_REQUEST`. */
  notJson(requestId: string): CoreResponse {
    return this.refusal(refuse('BAD_REQUEST', 'the request body is not valid JSON'), requestId);
  }

  /** Executes an admitted query with graphql-js; `null` when its execution reported errors (Apollo Server answers it then). */
  private async executeQuery(request: CoreRequest, admitted: AdmittedOperation): Promise<CoreResponse | null> {
    const result = await execute({
      schema: this.opts.schema,
      document: admitted.document,
      variableValues: admitted.variables,
      operationName: admitted.operationName,
      contextValue: this.context(admitted.caller, request.requestId, request.method, request.url),
    });
    if ((result.errors && result.errors.length > 0) || result.extensions !== undefined) return null;
    this.opts.metrics.graphqlDuration.observe({ operation: 'query' }, (performance.now() - request.startedMs) / 1000);
    return {
      status: 200,
      headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', [REQUEST_ID_HEADER]: request.requestId },
      body: `${JSON.stringify({ data: result.data })}\n`,
    };
  }

  /** Runs the request in the executor (Apollo Server) with `search` as its query string and the context of `caller`. */
  private async execute(request: CoreRequest, caller: Caller | null, search: string): Promise<CoreResponse> {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: request.method, headers, search, body: request.body };
    const contextValue = this.context(caller, request.requestId, request.method, request.url);
    const answer = await this.opts.executor.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () => Promise.resolve(contextValue),
    });
    const out: Record<string, string> = {};
    for (const [name, value] of answer.headers) out[name] = value;
    out[REQUEST_ID_HEADER] = request.requestId;
    return {
      status: answer.status ?? 200,
      headers: out,
      body: answer.body.kind === 'complete' ? answer.body.string : answer.body.asyncIterator,
    };
  }
}

/** One query-string parameter as `[name, value]` pairs, a repeated one as several. */
function searchPairs([name, value]: [string, string | string[]]): [string, string][] {
  return Array.isArray(value) ? value.map((v) => [name, v] as [string, string]) : [[name, value]];
}
