import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { Admission } from './admission.js';
import { startApolloExecutor } from './apollo-executor.js';
import type { ApiServices } from './context.js';
import { GraphQLCore } from './graphql-core.js';
import { graphqlExpressRoute } from './graphql-express-route.js';
import { serveGraphQLOverWebSocket } from './graphql-websocket.js';
import { healthRoutes, type ReadinessCheck } from './health-routes.js';
import { createFastGraphQLPath, type FastPath } from './http-fast-path.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';
import { staticDashboard } from './static-dashboard.js';
import type { WebSocketLimitOptions } from './websocket-limits.js';

export type { ReadinessCheck } from './health-routes.js';
export { WS_CLOSE_FORBIDDEN, WS_CLOSE_TOO_MANY_CONNECTIONS } from './websocket-limits.js';

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
  websocket: WebSocketLimitOptions;
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

/** Gives every request through Express its id (see `requestId`) in the answer's `x-request-id` header. */
const assignRequestId: RequestHandler = (req, res, next) => {
  res.setHeader(REQUEST_ID_HEADER, requestId(req.headers));
  next();
};

/**
 * The process's HTTP server, composed of its parts: `/healthz`, `/readyz`,
 * `/metrics` (`health-routes.ts`); for the `api` role GraphQL at `/graphql`:
 * one transport-free core (`graphql-core.ts`: admission, context, execution)
 * behind three adapters, the fast path of `POST` JSON requests in front of
 * Express (`http-fast-path.ts`), the Express route for the rest
 * (`graphql-express-route.ts`) and graphql-ws on the same port
 * (`graphql-websocket.ts`), with Apollo Server as the executor of what the
 * core does not answer itself (`apollo-executor.ts`); and the dashboard at `/`
 * (`static-dashboard.ts`). Every answer carries `x-request-id`.
 *
 * @throws the listen error (e.g. `EADDRINUSE`) or Apollo Server's start failure.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const app = express();
  app.disable('x-powered-by');
  let fastPath: FastPath | null = null;
  const httpServer: Server = createServer((req, res) => {
    if (!fastPath?.(req, res)) void app(req, res);
  });
  const log = opts.logger.child({ component: 'http' });
  const cleanups: (() => Promise<void>)[] = [];

  app.use(assignRequestId);
  app.use(healthRoutes(opts.readiness, opts.metrics));
  if (opts.graphql) {
    const g = opts.graphql;
    const executor = await startApolloExecutor({
      schema: g.schema,
      introspection: g.introspection,
      allowBatching: g.allowBatching,
      httpServer,
      metrics: opts.metrics,
      logger: log,
    });
    const core = new GraphQLCore({
      schema: g.schema,
      services: g.services,
      admission: g.admission,
      executor,
      logger: log,
      metrics: opts.metrics,
    });
    const websocket = serveGraphQLOverWebSocket({
      httpServer,
      schema: g.schema,
      core,
      limits: g.websocket,
      metrics: opts.metrics,
      logger: log,
    });
    cleanups.push(async () => {
      // Drained together, as Apollo Server's drain phase did: the sockets' operations completed, the HTTP requests answered.
      await Promise.all([websocket.dispose(), executor.stop()]);
      websocket.close();
    });
    app.use(
      '/graphql',
      graphqlExpressRoute({ core, maxBodyBytes: g.maxBodyBytes, corsOrigins: g.corsOrigins, logger: log }),
    );
    fastPath = createFastGraphQLPath({
      core,
      maxBodyBytes: g.maxBodyBytes,
      corsEnabled: g.corsOrigins.length > 0,
      logger: log,
    });
  }
  const dashboard = opts.staticDir ? staticDashboard(opts.staticDir) : null;
  if (dashboard) app.use('/', dashboard);

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
