import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import type { ExecutionArgs, GraphQLError, GraphQLSchema } from 'graphql';
import { OperationTypeNode } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { WebSocketServer } from 'ws';
import type { Metrics } from '../observability/metrics.js';
import { keyId } from '../store/key-id.js';
import { refuse, refusalBody, type Admission, type OperationRequest, type Refusal } from './admission.js';
import type { Caller } from './auth.js';
import { createFastGraphQLPath, type FullPath, type HandedOver } from './http-fast-path.js';
import { createSharedResultSubscribe } from './shared-subscription-results.js';
import type { ApiServices, GraphQLContext } from './context.js';

/** A readiness probe: resolves with details, throws when not ready. */
export type ReadinessCheck = () => Promise<Record<string, unknown>>;

/** The GraphQL part of the HTTP server (processes with the `api` role). */
export interface GraphQLOptions {
  schema: GraphQLSchema;
  services: ApiServices;
  /** The one admission path (authentication, rate limit, document, limits, cost) of both transports. */
  admission: Admission;
  introspection: boolean;
  /** Whether an HTTP request may carry a JSON array of operations (each admitted on its own). */
  allowBatching: boolean;
  /** Largest HTTP request body, bytes. */
  maxBodyBytes: number;
  /** WebSocket bounds, all per process. */
  websocket: {
    /** Largest message, bytes (ws `maxPayload`). */
    maxPayloadBytes: number;
    /** Open connections in all. */
    maxConnections: number;
    /** Open connections per API key or token subject. */
    maxConnectionsPerKey: number;
    /** Active subscriptions per API key or token subject, over all its connections. */
    maxSubscriptionsPerKey: number;
  };
  /** Browser origins allowed by CORS; empty for none, `*` for any. */
  corsOrigins: string[];
}

/** WebSocket close code for a connection over the caps or out of rate budget: 4013 mirrors 1013 "try again later" in the application range (graphql-ws gives 4429 another meaning and its clients never retry it). */
export const WS_CLOSE_TOO_MANY_CONNECTIONS = 4013;
/** WebSocket close code for a connection whose credential is refused (graphql-ws's Forbidden). */
export const WS_CLOSE_FORBIDDEN = 4403;

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Host to bind. @default "0.0.0.0" */
  host?: string;
  logger: Logger;
  metrics: Metrics;
  /** `/readyz` is 200 when this resolves, 503 with the error otherwise. */
  readiness: ReadinessCheck;
  /** Mounts `/graphql` (HTTP and WebSocket) when given. */
  graphql?: GraphQLOptions;
  /** A folder served at `/` (the dashboard's built files) when given and present. */
  staticDir?: string;
}

export interface HttpServer {
  /** The port actually bound. */
  port: number;
  /** `http://localhost:<port>/graphql` */
  url: string;
  close(): Promise<void>;
}

/**
 * The process's HTTP server: `/healthz` (the process lives), `/readyz`
 * (Kafka, MySQL, Redis reachable, consumers joined), `/metrics` (Prometheus),
 * and, for the `api` role, GraphQL over HTTP (Apollo Server) and over
 * WebSocket (graphql-ws) on the same port at `/graphql`. HTTP callers
 * authenticate with `Authorization: Bearer <key or JWT>`, WebSocket callers
 * with `connectionParams.authorization`; every operation of either transport
 * goes through the same {@link Admission} (credential, rate limit, limits,
 * cost), WebSocket ones each time they subscribe.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const app = express();
  app.disable('x-powered-by');
  /** `POST /graphql` served without Express and Apollo Server when it can be (see createFastGraphQLPath). */
  let fastGraphQL: ((req: IncomingMessage, res: ServerResponse, full: FullPath) => void) | null = null;
  const httpServer: Server = createServer((req, res) => {
    if (fastGraphQL) fastGraphQL(req, res, app);
    else void app(req, res);
  });
  const log = opts.logger.child({ component: 'http' });
  const cleanups: (() => Promise<void>)[] = [];

  app.use(
    pinoHttp({
      logger: log,
      genReqId: (req, res) => {
        const id =
          (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) ||
          randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // Probes and scrapes every few seconds would drown the log.
      autoLogging: { ignore: (req) => req.url !== '/graphql' },
      // One line per answered operation at info would cost every request a JSON write at 1,000 requests/s:
      // answers at debug, refusals (4xx) at info and failures (5xx) at warn.
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'warn' : res.statusCode >= 400 ? 'info' : 'debug',
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      res.json({ status: 'ready', checks: await opts.readiness() });
    } catch (err) {
      res.status(503).json({ status: 'not ready', error: (err as Error).message });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', opts.metrics.registry.contentType);
    res.send(await opts.metrics.registry.metrics());
  });

  if (opts.graphql) {
    const mounted = await mountGraphQL(app, httpServer, opts.graphql, opts.metrics, log);
    cleanups.push(mounted.close);
    fastGraphQL = mounted.fastPath;
  }
  if (opts.staticDir && existsSync(opts.staticDir)) {
    app.use(
      '/',
      express.static(opts.staticDir, {
        index: 'index.html',
        maxAge: '1h',
        // Built assets have hashed names; the page itself must be revalidated after a rebuild.
        setHeaders: (res, file) => {
          if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
        },
      }),
    );
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  return {
    port,
    url: `http://localhost:${port}/graphql`,
    async close() {
      for (const c of cleanups) await c();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}

async function mountGraphQL(
  app: express.Express,
  httpServer: Server,
  g: GraphQLOptions,
  metrics: Metrics,
  log: Logger,
): Promise<{ close: () => Promise<void>; fastPath: ReturnType<typeof createFastGraphQLPath> }> {
  // --- WebSocket (graphql-ws) ---
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: g.websocket.maxPayloadBytes,
  });
  /** Per connection: the subject it counts under, and its operations (id -> is a subscription). */
  const connections = new Map<object, { subject: string; operations: Map<string, boolean> }>();
  const connectionsPerSubject = new Map<string, number>();
  const subscriptionsPerSubject = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, d: number) => {
    const n = (m.get(k) ?? 0) + d;
    if (n > 0) m.set(k, n);
    else m.delete(k);
  };
  const clientAddress = (ctx: { extra: { request: { socket: { remoteAddress?: string } } } }) =>
    ctx.extra.request.socket.remoteAddress ?? 'unknown';
  const closeSocket = (
    ctx: { extra: { socket: { close(code: number, reason: string): void } } },
    code: number,
    reason: string,
  ) => ctx.extra.socket.close(code, reason);

  const wsCleanup = useServer<Record<string, unknown>>(
    {
      schema: g.schema,
      // Subscribers of the same change-log event share one execution result.
      subscribe: createSharedResultSubscribe(),
      onConnect: async (ctx) => {
        const auth = await g.admission.authenticate(ctx.connectionParams?.authorization, clientAddress(ctx));
        if (!auth.ok) {
          const code = (auth.errors[0]?.extensions.code as string | undefined) ?? 'UNAUTHENTICATED';
          closeSocket(ctx, code === 'RATE_LIMITED' ? WS_CLOSE_TOO_MANY_CONNECTIONS : WS_CLOSE_FORBIDDEN, code);
          return false;
        }
        const subject = keyId(auth.caller.apiKey);
        if (
          connections.size >= g.websocket.maxConnections ||
          (connectionsPerSubject.get(subject) ?? 0) >= g.websocket.maxConnectionsPerKey
        ) {
          closeSocket(ctx, WS_CLOSE_TOO_MANY_CONNECTIONS, 'TOO_MANY_CONNECTIONS');
          return false;
        }
        connections.set(ctx, { subject, operations: new Map() });
        bump(connectionsPerSubject, subject, 1);
        return true;
      },
      onSubscribe: async (ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        // Every operation is admitted again: keys can be revoked, tokens expire, budgets run out.
        const admitted = await g.admission.admit(ctx.connectionParams?.authorization, clientAddress(ctx), payload);
        if (!admitted.ok) return admitted.errors;
        const conn = connections.get(ctx);
        if (!conn) return refuse('UNAUTHENTICATED', 'the connection was not accepted').errors;
        const isSubscription = admitted.operationType === OperationTypeNode.SUBSCRIPTION;
        if (isSubscription && (subscriptionsPerSubject.get(conn.subject) ?? 0) >= g.websocket.maxSubscriptionsPerKey) {
          return refuse(
            'TOO_MANY_SUBSCRIPTIONS',
            `at most ${g.websocket.maxSubscriptionsPerKey} subscriptions per key at once: complete one first`,
            429,
            { maxSubscriptions: g.websocket.maxSubscriptionsPerKey },
          ).errors;
        }
        if (!conn.operations.has(id)) {
          conn.operations.set(id, isSubscription);
          if (isSubscription) bump(subscriptionsPerSubject, conn.subject, 1);
          metrics.openSubscriptions.inc();
        }
        const contextValue: GraphQLContext = { caller: admitted.caller, services: g.services, logger: log };
        return {
          schema: g.schema,
          document: admitted.document,
          variableValues: admitted.variables,
          operationName: admitted.operationName,
          contextValue,
        };
      },
      onComplete: (ctx, id) => {
        const conn = connections.get(ctx);
        if (!conn?.operations.has(id)) return;
        if (conn.operations.get(id)) bump(subscriptionsPerSubject, conn.subject, -1);
        conn.operations.delete(id);
        metrics.openSubscriptions.dec();
      },
      onClose: (ctx) => {
        const conn = connections.get(ctx);
        if (!conn) return;
        connections.delete(ctx);
        bump(connectionsPerSubject, conn.subject, -1);
        const subscriptions = [...conn.operations.values()].filter(Boolean).length;
        if (subscriptions > 0) bump(subscriptionsPerSubject, conn.subject, -subscriptions);
        metrics.openSubscriptions.dec(conn.operations.size);
      },
      onError: (_ctx, _id, _payload, errors) => {
        log.debug({ errors: errors.map((e) => e.message) }, 'websocket operation failed');
      },
    },
    wsServer,
  );

  // --- HTTP (Apollo Server) ---
  const durationPlugin: ApolloServerPlugin<GraphQLContext> = {
    requestDidStart() {
      const started = performance.now();
      return Promise.resolve({
        willSendResponse({ operation }) {
          metrics.graphqlDuration.observe(
            { operation: operation?.operation ?? 'invalid' },
            (performance.now() - started) / 1000,
          );
          return Promise.resolve();
        },
      });
    },
  };
  const apollo = new ApolloServer<GraphQLContext>({
    schema: g.schema,
    introspection: g.introspection,
    // The admission middleware checked every operation already; Apollo executes them.
    allowBatchedHttpRequests: g.allowBatching,
    // Documents by hash come from the trusted-documents list only, resolved by the admission.
    persistedQueries: false,
    // The service stops Apollo itself, after the consumers finished their batch.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        serverWillStart() {
          return Promise.resolve({
            async drainServer() {
              await wsCleanup.dispose();
            },
          });
        },
      },
      durationPlugin,
    ],
    formatError: (formatted, error) => {
      if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR')
        log.error({ err: (error as GraphQLError).originalError ?? error }, 'resolver failed');
      return formatted;
    },
  });
  await apollo.start();

  const send = (res: express.Response, refusal: Refusal) => {
    if (refusal.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(refusal.retryAfterSeconds));
    res.status(refusal.status).json(refusalBody(refusal));
  };
  const fromQueryString = (q: Record<string, unknown>): OperationRequest => {
    const json = (v: unknown) => {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    };
    return {
      query: q.query,
      operationName: q.operationName,
      variables: json(q.variables),
      extensions: json(q.extensions),
    };
  };
  const admit: RequestHandler = async (req, res, next) => {
    try {
      // Admitted (and its budget spent) by the fast path already, which handed it over.
      const handedOver = (req as unknown as { handedOver?: HandedOver }).handedOver;
      if (handedOver) {
        (req as unknown as { caller: Caller }).caller = handedOver.caller;
        next();
        return;
      }
      const isGet = req.method === 'GET' || req.method === 'HEAD';
      if (req.method === 'OPTIONS') {
        next();
        return;
      }
      // A GET without an operation is the landing page (or Apollo's 400): nothing to admit.
      if (isGet && req.query.query === undefined && req.query.extensions === undefined) {
        next();
        return;
      }
      const body: unknown = isGet ? fromQueryString(req.query) : req.body;
      const batch = Array.isArray(body);
      const operations = (batch ? body : [body]) as unknown[];
      if (batch) {
        const refused = g.admission.checkBatch(operations);
        if (refused) {
          send(res, refused);
          return;
        }
      }
      if (operations.some((o) => !o || typeof o !== 'object')) {
        send(res, refuse('BAD_REQUEST', 'the body must be a GraphQL request object'));
        return;
      }
      const auth = await g.admission.authenticate(req.headers.authorization, req.ip ?? 'unknown');
      if (!auth.ok) {
        send(res, auth);
        return;
      }
      for (const op of operations as OperationRequest[]) {
        const admitted = await g.admission.admitOperation(auth.caller, op);
        if (!admitted.ok) {
          send(res, admitted);
          return;
        }
        // Apollo runs exactly the text that was admitted (a trusted document sent by hash included).
        op.query = admitted.query;
        const ext = op.extensions as Record<string, unknown> | undefined;
        if (ext && 'persistedQuery' in ext) delete ext.persistedQuery;
      }
      if (isGet) {
        // Apollo reads GET operations from the query string: put the admitted text there.
        Object.defineProperty(req, 'query', {
          value: { ...req.query, query: (operations[0] as OperationRequest).query, extensions: undefined },
          configurable: true,
          writable: true,
        });
      }
      (req as unknown as { caller: Caller }).caller = auth.caller;
      next();
    } catch (err) {
      next(err);
    }
  };
  const bodyErrors = (err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      send(
        res,
        refuse('PAYLOAD_TOO_LARGE', `the request body is larger than ${g.maxBodyBytes} bytes`, 413, {
          maxBytes: g.maxBodyBytes,
        }),
      );
      return;
    }
    if (type === 'entity.parse.failed') {
      send(res, refuse('BAD_REQUEST', 'the request body is not valid JSON'));
      return;
    }
    next(err);
  };
  const corsMiddleware =
    g.corsOrigins.length > 0
      ? cors({
          origin: g.corsOrigins.includes('*') ? true : g.corsOrigins,
          allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
        })
      : (((_req, _res, next) => next()) as RequestHandler);

  app.use(
    '/graphql',
    corsMiddleware,
    express.json({ limit: g.maxBodyBytes }),
    bodyErrors,
    admit,
    expressMiddleware(apollo, {
      context: ({ req }) =>
        Promise.resolve({
          caller: (req as unknown as { caller?: Caller }).caller ?? null,
          services: g.services,
          logger: (req as unknown as { log?: Logger }).log ?? log,
        }),
    }),
  );

  return {
    close: async () => {
      await apollo.stop();
      wsServer.close();
    },
    fastPath: createFastGraphQLPath({
      schema: g.schema,
      services: g.services,
      admission: g.admission,
      maxBodyBytes: g.maxBodyBytes,
      corsEnabled: g.corsOrigins.length > 0,
      logger: log,
      metrics,
    }),
  };
}
