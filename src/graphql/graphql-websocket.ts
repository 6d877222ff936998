import type { IncomingMessage, Server } from 'node:http';
import { OperationTypeNode, type ExecutionArgs, type GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Metrics } from '../observability/metrics.js';
import { keyId } from '../store/key-id.js';
import { refuse } from './admission.js';
import type { GraphQLCore } from './graphql-core.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';
import { createSharedResultSubscribe } from './shared-subscription-results.js';
import {
  WebSocketLimits,
  WS_CLOSE_FORBIDDEN,
  WS_CLOSE_TOO_MANY_CONNECTIONS,
  type WebSocketLimitOptions,
} from './websocket-limits.js';

/** What the handlers use of graphql-ws's context: the handshake request and the socket. */
interface Extra {
  extra: { request: IncomingMessage; socket: { close(code: number, reason: string): void } };
}

/** Options of {@link serveGraphQLOverWebSocket}. */
export interface GraphQLWebSocketOptions {
  /** The HTTP server whose upgrades of `/graphql` become graphql-ws sockets. */
  httpServer: Server;
  schema: GraphQLSchema;
  core: GraphQLCore;
  limits: WebSocketLimitOptions;
  metrics: Metrics;
  logger: Logger;
}

/** The WebSocket side, running: `dispose()` completes every operation and closes the sockets (graphql-ws), `close()` stops accepting. */
export interface GraphQLWebSocket {
  dispose(): Promise<void>;
  close(): void;
}

/**
 * The graphql-ws binding (`graphql-ws/use/ws`) of {@link GraphQLCore} at
 * `/graphql`: `connection_init` authenticates `connectionParams.authorization`
 * through the core (refused: close 4403 with the code as reason, or 4013
 * `RATE_LIMITED` once the client address spent its budget) and counts the
 * connection against the caps ({@link WebSocketLimits}: close 4013
 * `TOO_MANY_CONNECTIONS`); every `subscribe` is admitted again by the core,
 * which gives the execution arguments and the context, then counted
 * (`TOO_MANY_SUBSCRIPTIONS` as a graphql-ws `error` message, the socket stays
 * open). Subscribers of the same change-log event share one execution. The
 * handshake's answer carries `x-request-id` (see `requestId`), and the
 * operations' loggers that id.
 */
export function serveGraphQLOverWebSocket(opts: GraphQLWebSocketOptions): GraphQLWebSocket {
  const { core, limits: caps } = opts;
  const wsServer = new WebSocketServer({
    server: opts.httpServer,
    path: '/graphql',
    maxPayload: opts.limits.maxPayloadBytes,
  });
  const limits = new WebSocketLimits(caps, opts.metrics.openSubscriptions);
  /** The request id of each handshake, given when the upgrade is answered. */
  const ids = new WeakMap<IncomingMessage, string>();
  wsServer.on('headers', (headers: string[], request: IncomingMessage) => {
    const id = requestId(request.headers);
    ids.set(request, id);
    headers.push(`${REQUEST_ID_HEADER}: ${id}`);
  });
  const clientAddress = (ctx: Extra) => ctx.extra.request.socket.remoteAddress ?? 'unknown';
  const idOf = (ctx: Extra) => ids.get(ctx.extra.request) ?? requestId(ctx.extra.request.headers);

  const disposable = useServer<Record<string, unknown>>(
    {
      schema: opts.schema,
      subscribe: createSharedResultSubscribe(),
      onConnect: async (ctx) => {
        const auth = await core.authenticate(ctx.connectionParams?.authorization, clientAddress(ctx));
        if (!auth.ok) {
          const code = (auth.errors[0]?.extensions.code as string | undefined) ?? 'UNAUTHENTICATED';
          ctx.extra.socket.close(code === 'RATE_LIMITED' ? WS_CLOSE_TOO_MANY_CONNECTIONS : WS_CLOSE_FORBIDDEN, code);
          return false;
        }
        if (!limits.connect(ctx, keyId(auth.caller.apiKey))) {
          ctx.extra.socket.close(WS_CLOSE_TOO_MANY_CONNECTIONS, 'TOO_MANY_CONNECTIONS');
          return false;
        }
        return true;
      },
      onSubscribe: async (ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const admitted = await core.admitExecution(
          ctx.connectionParams?.authorization,
          clientAddress(ctx),
          payload,
          idOf(ctx),
          ctx.extra.request.method ?? 'GET',
          '/graphql',
        );
        if (!admitted.ok) return admitted.errors;
        if (!limits.has(ctx)) return refuse('UNAUTHENTICATED', 'the connection was not accepted').errors;
        if (!limits.start(ctx, id, admitted.operationType === OperationTypeNode.SUBSCRIPTION)) {
          return refuse(
            'TOO_MANY_SUBSCRIPTIONS',
            `at most ${caps.maxSubscriptionsPerKey} subscriptions per key at once: complete one first`,
            429,
            { maxSubscriptions: caps.maxSubscriptionsPerKey },
          ).errors;
        }
        return admitted.args;
      },
      onComplete: (ctx, id) => {
        limits.complete(ctx, id);
      },
      onClose: (ctx) => {
        limits.close(ctx);
      },
      onError: (_ctx, _id, _payload, errors) => {
        opts.logger.debug({ errors: errors.map((e) => e.message) }, 'websocket operation failed');
      },
    },
    wsServer,
  );
  return {
    dispose: async () => {
      await disposable.dispose();
    },
    close: () => wsServer.close(),
  };
}
