// The transport-free core of the GraphQL API, without a socket: admission, context and execution of
// requests given as plain values, and what it hands to the executor (Apollo Server in the service).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderMap, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from '@apollo/server';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import pino from 'pino';
import { Metrics } from '../../src/observability/metrics.js';
import { Admission } from '../../src/graphql/admission.js';
import { Authenticator } from '../../src/graphql/auth.js';
import type { ApiServices, GraphQLContext } from '../../src/graphql/context.js';
import { GraphQLCore, type CoreRequest, type GraphQLExecutor } from '../../src/graphql/graphql-core.js';
import { OperationRateLimiter } from '../../src/graphql/rate-limit.js';
import { documentHash } from '../../src/graphql/trusted-documents.js';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: { type: GraphQLString, resolve: () => 'hi' },
      fails: {
        type: GraphQLString,
        resolve: () => {
          throw new Error('boom');
        },
      },
    },
  }),
});

/** An executor that records what it is handed and answers 200 `{"handed":true}`. */
function recordingExecutor(): GraphQLExecutor & { handed: { request: HTTPGraphQLRequest; context: GraphQLContext }[] } {
  const handed: { request: HTTPGraphQLRequest; context: GraphQLContext }[] = [];
  return {
    handed,
    async executeHTTPGraphQLRequest({ httpGraphQLRequest, context }): Promise<HTTPGraphQLResponse> {
      handed.push({ request: httpGraphQLRequest, context: await context() });
      const headers = new HeaderMap([['content-type', 'application/json; charset=utf-8']]);
      return { status: 200, headers, body: { kind: 'complete', string: '{"handed":true}' } };
    },
  };
}

function core(budgetPerMinute = 1_000) {
  const executor = recordingExecutor();
  const admission = new Admission({
    schema,
    authenticator: new Authenticator(new Map([['k', 'viewer']])),
    rateLimiter: new OperationRateLimiter(null, budgetPerMinute),
    limits: { maxDepth: 10, maxCost: 100, maxAliases: 50, maxTokens: 2_000, maxDirectives: 20 },
    introspection: true,
    trustedOnly: false,
    allowBatching: false,
    maxBatchSize: 10,
  });
  // The toy schema's resolvers use no service.
  const services = {} as ApiServices;
  const logger = pino({ level: 'silent' });
  return {
    executor,
    core: new GraphQLCore({ schema, services, admission, executor, logger, metrics: new Metrics() }),
  };
}

function post(body: unknown, authorization: string | null = 'Bearer k'): CoreRequest {
  return {
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    search: '',
    body,
    clientAddress: '192.0.2.1',
    requestId: 'req-1',
    startedMs: performance.now(),
  };
}

describe('GraphQLCore', () => {
  it('should answer an admitted plain-JSON query itself, as Apollo Server would', async () => {
    const { core: c, executor } = core();
    const answer = await c.handle(post({ query: '{ hello }' }));
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '{"data":{"hello":"hi"}}\n');
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(answer.headers['x-request-id'], 'req-1');
    assert.equal(executor.handed.length, 0);
  });

  it('should refuse before anything runs: 401 without a credential, 400 for a batch while batching is off', async () => {
    const { core: c, executor } = core();
    const unauthenticated = await c.handle(post({ query: '{ hello }' }, null));
    assert.equal(unauthenticated.status, 401);
    assert.equal(
      (JSON.parse(unauthenticated.body as string) as { errors: { extensions: { code: string } }[] }).errors[0]
        ?.extensions.code,
      'UNAUTHENTICATED',
    );
    const batch = await c.handle(post([{ query: '{ hello }' }]));
    assert.equal(batch.status, 400);
    assert.match(batch.body as string, /BATCHING_DISABLED/);
    assert.equal(executor.handed.length, 0);
  });

  it('should answer 429 with retry-after in seconds once the budget is spent', async () => {
    const { core: c } = core(1);
    assert.equal((await c.handle(post({ query: '{ hello }' }))).status, 200);
    const limited = await c.handle(post({ query: '{ hello }' }));
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });

  it('should hand a query whose execution reported errors to the executor, with the caller in the context', async () => {
    const { core: c, executor } = core();
    const answer = await c.handle(post({ query: '{ fails }' }));
    assert.equal(answer.body, '{"handed":true}');
    assert.equal(answer.headers['x-request-id'], 'req-1');
    assert.equal(executor.handed.length, 1);
    assert.equal(executor.handed[0]?.context.caller?.role, 'viewer');
    assert.deepEqual(executor.handed[0]?.request.body, { query: '{ fails }' });
  });

  it('should hand an admitted GET to the executor with the admitted text in its query string and no persisted-query hash', async () => {
    const { core: c, executor } = core();
    const hash = documentHash('{ hello }');
    const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash }, x: 1 });
    const search = `?query=${encodeURIComponent('{ hello }')}&extensions=${encodeURIComponent(extensions)}`;
    await c.handle({ ...post(undefined), method: 'GET', search });
    const params = new URLSearchParams(executor.handed[0]?.request.search);
    assert.equal(params.get('query'), '{ hello }');
    assert.equal(params.get('extensions'), '{"x":1}');
    // A GET without an operation (the landing page) runs nothing and needs no credential.
    await c.handle({ ...post(undefined, null), method: 'GET', search: '' });
    assert.equal(executor.handed[1]?.context.caller, null);
  });

  it('should give the WebSocket transport execution arguments with the same context', async () => {
    const { core: c } = core();
    const admitted = await c.admitExecution('Bearer k', '192.0.2.1', { query: '{ hello }' }, 'ws-1', 'GET', '/graphql');
    assert.ok(admitted.ok);
    assert.equal((admitted.args.contextValue as GraphQLContext).caller?.role, 'viewer');
    const refused = await c.admitExecution(
      'Bearer nope',
      '192.0.2.1',
      { query: '{ hello }' },
      'ws-1',
      'GET',
      '/graphql',
    );
    assert.equal(refused.ok, false);
  });
});
