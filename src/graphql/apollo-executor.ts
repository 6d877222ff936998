import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { GraphQLContext } from './context.js';

/** Options of {@link startApolloExecutor}. */
export interface ApolloExecutorOptions {
  schema: GraphQLSchema;
  introspection: boolean;
  /** Whether an HTTP request may carry a JSON array of operations (each admitted on its own by the core first). */
  allowBatching: boolean;
  /** The HTTP server whose connections Apollo Server drains when it stops. */
  httpServer: Server;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Apollo Server 5, started, as the executor of what the core does not answer
 * itself (see `GraphQLCore.handle`): it formats, masks and logs errors
 * (`INTERNAL_SERVER_ERROR` at error with its cause), negotiates the answer's
 * media type, serves the landing page and observes every request it runs in
 * `rt_graphql_request_duration_seconds` (SECONDS, label `operation`: `query`,
 * `mutation` or `invalid`). The core admitted every operation before it gets
 * here; documents by hash are resolved by the admission, so Apollo's own
 * persisted queries are off. Stop it with `stop()` (the service does, after
 * the consumers finished their batch; not on termination signals).
 *
 * @throws what `ApolloServer.start()` throws (e.g. a plugin failing to start).
 */
export async function startApolloExecutor(opts: ApolloExecutorOptions): Promise<ApolloServer<GraphQLContext>> {
  const log = opts.logger;
  const duration: ApolloServerPlugin<GraphQLContext> = {
    requestDidStart() {
      const started = performance.now();
      return Promise.resolve({
        willSendResponse({ operation }) {
          opts.metrics.graphqlDuration.observe(
            { operation: operation?.operation ?? 'invalid' },
            (performance.now() - started) / 1000,
          );
          return Promise.resolve();
        },
      });
    },
  };
  const apollo = new ApolloServer<GraphQLContext>({
    schema: opts.schema,
    introspection: opts.introspection,
    allowBatchedHttpRequests: opts.allowBatching,
    persistedQueries: false,
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: opts.httpServer }), duration],
    formatError: (formatted, error) => {
      if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR')
        log.error({ err: (error as GraphQLError).originalError ?? error }, 'resolver failed');
      return formatted;
    },
  });
  await apollo.start();
  return apollo;
}
