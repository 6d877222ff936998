import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import {
  GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate,
  type ExecutionArgs, type GraphQLSchema, type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { WebSocketServer } from 'ws';
import type { Role } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import { keyId } from '../store/unpaid-user-store.js';
import { resolveCaller, unauthenticated, type Caller } from './auth.js';
import { createSharedResultSubscribe } from './shared-subscription-results.js';
import type { ApiServices, GraphQLContext } from './context.js';
import { checkCost, depthRules, type OperationLimits } from './operation-limits.js';
import type { OperationRateLimiter } from './rate-limit.js';

/** A readiness probe: resolves with details, throws when not ready. */
export type ReadinessCheck = () => Promise<Record<string, unknown>>;

/** The GraphQL part of the HTTP server (processes with the `api` role). */
export interface GraphQLOptions {
  schema: GraphQLSchema;
  services: ApiServices;
  apiKeys: ReadonlyMap<string, Role>;
  limits: OperationLimits;
  introspection: boolean;
  rateLimiter: OperationRateLimiter;
  /** Browser origins allowed by CORS; empty for none, `*` for any. */
  corsOrigins: string[];
}

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
 * authenticate with `Authorization: Bearer <key>`, WebSocket callers with
 * `connectionParams.authorization`; the key, rate limit, depth and cost are
 * checked on every operation, WebSocket ones included.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);
  const log = opts.logger.child({ component: 'http' });
  const cleanups: Array<() => Promise<void>> = [];

  app.use(pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const id = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    // Probes and scrapes every few seconds would drown the log.
    autoLogging: { ignore: (req) => req.url !== '/graphql' },
    serializers: {
      req: (req) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res) => ({ statusCode: res.statusCode }),
    },
  }));

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

  if (opts.graphql) cleanups.push(await mountGraphQL(app, httpServer, opts.graphql, opts.metrics, log));
  if (opts.staticDir && existsSync(opts.staticDir)) {
    app.use('/', express.static(opts.staticDir, {
      index: 'index.html',
      maxAge: '1h',
      // Built assets have hashed names; the page itself must be revalidated after a rebuild.
      setHeaders: (res, file) => {
        if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
      },
    }));
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

async function mountGraphQL(app: express.Express, httpServer: Server, g: GraphQLOptions, metrics: Metrics, log: Logger): Promise<() => Promise<void>> {
  const rules: ValidationRule[] = [...depthRules(g.limits), ...(g.introspection ? [] : [NoSchemaIntrospectionCustomRule])];

  // --- WebSocket (graphql-ws) ---
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const open = new WeakMap<object, Set<string>>();
  const wsCleanup = useServer<Record<string, unknown>>({
    schema: g.schema,
    // Subscribers of the same change-log event share one execution result.
    subscribe: createSharedResultSubscribe(),
    onSubscribe: async (ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
      // Every operation is checked again: keys can be revoked, budgets run out.
      const caller = resolveCaller(ctx.connectionParams?.authorization, g.apiKeys);
      if (!caller) return [unauthenticated()];
      const limited = await g.rateLimiter.consume(keyId(caller.apiKey));
      if (limited) return [limited];
      let document;
      try {
        document = parse(payload.query);
      } catch (err) {
        return [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
      }
      const errors = validate(g.schema, document, [...specifiedRules, ...rules]);
      if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
      const tooCostly = checkCost(g.schema, document, payload.variables ?? undefined, payload.operationName, g.limits);
      if (tooCostly) return [tooCostly];
      const set = open.get(ctx) ?? new Set<string>();
      open.set(ctx, set);
      if (!set.has(id)) {
        set.add(id);
        metrics.openSubscriptions.inc();
      }
      const contextValue: GraphQLContext = { caller, services: g.services, logger: log };
      return { schema: g.schema, document, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined, contextValue };
    },
    onComplete: (ctx, id) => {
      if (open.get(ctx)?.delete(id)) metrics.openSubscriptions.dec();
    },
    onClose: (ctx) => {
      const set = open.get(ctx);
      if (set) metrics.openSubscriptions.dec(set.size);
      open.delete(ctx);
    },
    onError: (_ctx, _id, _payload, errors) => {
      log.debug({ errors: errors.map((e) => e.message) }, 'websocket operation failed');
    },
  }, wsServer);

  // --- HTTP (Apollo Server) ---
  const limitsPlugin: ApolloServerPlugin<GraphQLContext> = {
    async requestDidStart() {
      const started = performance.now();
      return {
        async didResolveOperation({ request, document }) {
          const err = checkCost(g.schema, document, request.variables, request.operationName, g.limits);
          if (err) throw err;
        },
        async willSendResponse({ operation }) {
          metrics.graphqlDuration.observe({ operation: operation?.operation ?? 'invalid' }, (performance.now() - started) / 1000);
        },
      };
    },
  };
  const apollo = new ApolloServer<GraphQLContext>({
    schema: g.schema,
    introspection: g.introspection,
    validationRules: rules,
    // The service stops Apollo itself, after the consumers finished their batch.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
      limitsPlugin,
    ],
    formatError: (formatted, error) => {
      if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') log.error({ err: (error as GraphQLError).originalError ?? error }, 'resolver failed');
      return formatted;
    },
  });
  await apollo.start();

  const rateLimit: RequestHandler = async (req, res, next) => {
    const caller = resolveCaller(req.headers.authorization, g.apiKeys);
    const limited = await g.rateLimiter.consume(caller ? keyId(caller.apiKey) : `ip:${req.ip}`);
    if (!limited) return next();
    res.setHeader('retry-after', String(limited.extensions.retryAfterSeconds));
    res.status(429).json({ errors: [{ message: limited.message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds: limited.extensions.retryAfterSeconds } }] });
  };
  const corsMiddleware = g.corsOrigins.length > 0
    ? cors({ origin: g.corsOrigins.includes('*') ? true : g.corsOrigins, allowedHeaders: ['authorization', 'content-type', 'x-request-id'] })
    : ((_req, _res, next) => next()) as RequestHandler;

  app.use('/graphql', corsMiddleware, express.json({ limit: '100kb' }), rateLimit, expressMiddleware(apollo, {
    context: async ({ req }) => ({
      caller: resolveCaller(req.headers.authorization, g.apiKeys) as Caller | null,
      services: g.services,
      logger: (req as unknown as { log: Logger }).log ?? log,
    }),
  }));

  return async () => {
    await apollo.stop();
    wsServer.close();
  };
}

function withCode(err: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(err.message, { nodes: err.nodes, extensions: { ...err.extensions, code } });
}
