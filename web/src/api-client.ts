import { createClient, type Client } from 'graphql-ws';

/** A GraphQL error as the service sends it: `extensions.code` is the stable part (UNAUTHENTICATED, FORBIDDEN, ...). */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    /** `extensions.code` of the first error, or `NETWORK_ERROR` / `HTTP_<status>` when there was no GraphQL answer. */
    readonly code: string,
  ) {
    super(message);
    this.name = 'GraphQLRequestError';
  }
}

/**
 * A GraphQL document that carries its result and variable types (generated
 * from the schema, see ./operations.ts): `request` and `subscribe` infer them,
 * so a caller cannot pass wrong variables or read a field the operation does
 * not select. At run time it is just the document's text.
 */
export type Operation<TResult, TVariables> = string & { readonly __types?: (v: TVariables) => TResult };

/** What the WebSocket connection is doing, for the connection indicator. */
export type ConnectionEvent =
  | { kind: 'connecting'; retry: boolean }
  | { kind: 'connected'; retry: boolean }
  | { kind: 'closed'; code: number; reason: string };

/** Longest wait between two reconnection attempts, milliseconds. */
export const MAX_RETRY_WAIT_MS = 30_000;
/** A ping without its pong within this many milliseconds counts as a dead connection. */
export const PONG_TIMEOUT_MS = 5_000;
/** A ping every this many milliseconds, so a silently dead connection is noticed. */
export const KEEP_ALIVE_MS = 10_000;

/**
 * Waits before reconnection attempt `retries` (0-based): 1 s, 2 s, 4 s, ...
 * capped at {@link MAX_RETRY_WAIT_MS}, plus up to 1 s of jitter so that many
 * dashboards do not reconnect in lockstep after a restart.
 */
export function retryDelayMs(retries: number, random = Math.random): number {
  return Math.min(1_000 * 2 ** retries, MAX_RETRY_WAIT_MS) + Math.floor(random() * 1_000);
}

/**
 * The dashboard's only way to the service: queries and mutations over HTTP
 * POST, subscriptions over graphql-ws, both at `/graphql` of the page's own
 * origin, both with the API key (`Authorization: Bearer <key>` /
 * `connectionParams.authorization`).
 */
export class ApiClient {
  readonly ws: Client;
  private readonly httpUrl: string;

  constructor(
    private readonly apiKey: string,
    onConnection: (e: ConnectionEvent) => void,
    origin = window.location.origin,
  ) {
    this.httpUrl = `${origin}/graphql`;
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    this.ws = createClient({
      url: this.httpUrl.replace(/^http/, 'ws'),
      connectionParams: () => ({ authorization: `Bearer ${this.apiKey}` }),
      // Connect now, not at the first subscription, so the indicator is right from the start.
      lazy: false,
      keepAlive: KEEP_ALIVE_MS,
      // A dashboard stays open for days: never give up, whatever closed the socket.
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, retryDelayMs(retries))),
      on: {
        connecting: (retry) => onConnection({ kind: 'connecting', retry }),
        connected: (_socket, _payload, retry) => onConnection({ kind: 'connected', retry }),
        closed: (event) => {
          clearTimeout(pongTimer);
          const e = event as { code?: number; reason?: string } | undefined;
          onConnection({ kind: 'closed', code: e?.code ?? 0, reason: e?.reason ?? '' });
        },
        // graphql-ws's recipe for a silently dead network: close the socket when a ping gets no pong in time;
        // the close is then retried like any other.
        ping: (received) => {
          if (received) return;
          pongTimer = setTimeout(() => this.ws.terminate(), PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
      },
    });
  }

  /**
   * One query or mutation over HTTP.
   * @throws {GraphQLRequestError} with the first error's `extensions.code`
   *   when the answer has errors, `NETWORK_ERROR` when the service could not
   *   be reached, `HTTP_<status>` when the answer was not GraphQL.
   */
  async request<T, V extends Record<string, unknown>>(query: Operation<T, V>, variables: V): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new GraphQLRequestError(`the service could not be reached: ${(err as Error).message}`, 'NETWORK_ERROR');
    }
    let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new GraphQLRequestError(`the service answered ${res.status} without GraphQL`, `HTTP_${res.status}`);
    }
    const first = body.errors?.[0];
    if (first) throw new GraphQLRequestError(first.message, first.extensions?.code ?? 'GRAPHQL_ERROR');
    if (!body.data)
      throw new GraphQLRequestError(`the service answered ${res.status} without data`, `HTTP_${res.status}`);
    return body.data;
  }

  /**
   * Subscribes for as long as the page lives; after a reconnection graphql-ws
   * subscribes again by itself, with the variables THEN (`variables` may be a
   * function: a resumable subscription passes its last cursor). Errors of the
   * operation (an unknown key, ...) go to `onError` with their code.
   */
  subscribe<T, V extends Record<string, unknown>>(
    query: Operation<T, V>,
    variables: V | (() => V),
    onData: (data: T) => void,
    onError: (err: GraphQLRequestError) => void,
  ): () => void {
    // graphql-ws serialises the same payload object at every (re)subscription: a getter is read each time.
    const payload =
      typeof variables === 'function'
        ? {
            query,
            get variables() {
              return variables();
            },
          }
        : { query, variables };
    return this.ws.subscribe<T>(payload, {
      next: (result) => {
        const first = result.errors?.[0];
        if (first)
          onError(
            new GraphQLRequestError(first.message, (first.extensions?.code as string | undefined) ?? 'GRAPHQL_ERROR'),
          );
        else if (result.data) onData(result.data);
      },
      error: (err) => {
        const list = Array.isArray(err) ? err : [err];
        const first = list[0] as { message?: string; extensions?: { code?: string } } | undefined;
        onError(
          new GraphQLRequestError(first?.message ?? String(err), first?.extensions?.code ?? 'SUBSCRIPTION_ERROR'),
        );
      },
      complete: () => undefined, // nothing to release: the caller's unsubscribe ends the subscription
    });
  }

  /**
   * Closes the WebSocket. A connection the service refused (an unknown key is
   * closed at connection_init with 4403) has nothing left to close: graphql-ws
   * rethrows that close from dispose, which is not an error here.
   */
  dispose(): Promise<void> {
    return Promise.resolve(this.ws.dispose()).catch(() => undefined);
  }
}
