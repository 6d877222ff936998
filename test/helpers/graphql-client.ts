import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

/** POSTs one operation to `url` with `Authorization: Bearer <key>` when a key is given. */
export async function gql<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  key?: string,
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/** The `extensions.code` of the first error, or undefined. */
export function errorCode(res: GraphQLResponse): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

/** A graphql-ws client on `url` (http -> ws) authenticating with `key`. */
export function wsClient(url: string, key?: string): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    lazy: false,
    retryAttempts: 0,
  });
}

/** Subscribes and collects every `next` payload (and errors) until `dispose()`. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T is the test's statement of the subscription's data shape (the answer is untyped JSON)
export function collect<T = any>(client: Client, query: string): { events: T[]; errors: unknown[]; dispose(): void } {
  const events: T[] = [];
  const errors: unknown[] = [];
  const dispose = client.subscribe<T>(
    { query },
    {
      next: (v) => {
        if (v.errors) errors.push(v.errors);
        else events.push(v.data as T);
      },
      error: (e) => errors.push(e),
      complete: () => undefined, // what was collected stays readable after the server completes
    },
  );
  return { events, errors, dispose };
}
