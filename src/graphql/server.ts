import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Role } from '../config/config.js';
import { resolveCaller, unauthenticated } from './auth.js';
import type { ApiServices, GraphQLContext } from './context.js';

/** Options of {@link startApiServer}. */
export interface ApiServerOptions {
  schema: GraphQLSchema;
  services: ApiServices;
  apiKeys: ReadonlyMap<string, Role>;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Host to bind. @default "0.0.0.0" */
  host?: string;
  logger: Logger;
}

export interface ApiServer {
  /** The port actually bound. */
  port: number;
  /** `http://localhost:<port>/graphql` */
  url: string;
  close(): Promise<void>;
}

/**
 * GraphQL over HTTP (Apollo Server) and over WebSocket (graphql-ws protocol)
 * on one port at `/graphql`, plus `/healthz`. HTTP callers authenticate with
 * `Authorization: Bearer <key>`; WebSocket callers with
 * `connectionParams.authorization`, checked again on every operation.
 */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const app = express();
  const httpServer: Server = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const log = opts.logger.child({ component: 'api' });

  const wsCleanup = useServer<Record<string, unknown>>({
    schema: opts.schema,
    context: (ctx): GraphQLContext => ({
      caller: resolveCaller(ctx.connectionParams?.authorization, opts.apiKeys),
      services: opts.services,
    }),
    onSubscribe: (ctx) => {
      // Re-checked per operation, not once per connection: keys can be revoked.
      if (!resolveCaller(ctx.connectionParams?.authorization, opts.apiKeys)) return [unauthenticated()];
      return undefined;
    },
    onError: (_ctx, _id, _payload, errors) => {
      log.debug({ errors: errors.map((e) => e.message) }, 'websocket operation failed');
    },
  }, wsServer);

  const apollo = new ApolloServer<GraphQLContext>({
    schema: opts.schema,
    // The service stops Apollo itself, after the consumers finished their batch.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
    formatError: (formatted, error) => {
      const original = (error as GraphQLError | undefined)?.originalError;
      if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') log.error({ err: original ?? error }, 'resolver failed');
      return formatted;
    },
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use('/graphql', express.json({ limit: '100kb' }), expressMiddleware(apollo, {
    context: async ({ req }) => ({ caller: resolveCaller(req.headers.authorization, opts.apiKeys), services: opts.services }),
  }));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  return {
    port,
    url: `http://localhost:${port}/graphql`,
    async close() {
      await apollo.stop();
      wsServer.close();
      httpServer.closeAllConnections?.();
    },
  };
}
