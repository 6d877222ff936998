// The cost model and the graphql-armor limits on the real schema, without a server.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPubSub } from '@graphql-yoga/subscription';
import { parse, specifiedRules, validate } from 'graphql';
import { loadConfig } from '../../src/app-config.js';
import { checkProductionAuth } from '../../src/config/config.js';
import { createSchema } from '../../src/app-schema.js';
import { checkCost, limitRules, parseWithLimits, type OperationLimits } from '../../src/graphql/operation-limits.js';

const LIMITS: OperationLimits = { maxDepth: 10, maxCost: 5_000, maxAliases: 50, maxTokens: 2_000, maxDirectives: 20 };
const schema = await createSchema(createPubSub());
const costOf = (query: string, variables: Record<string, unknown> = {}) =>
  checkCost(schema, parse(query), variables, undefined, { ...LIMITS, maxCost: 0 }).refusal?.extensions.cost as number;

describe('operation cost and limits', () => {
  it("should multiply a connection's edges by first, but not its totalCount, and price the COUNT like a query", () => {
    assert.equal(costOf('{ unpaidUsers(first: 1) { totalCount } }'), 20);
    assert.equal(costOf('{ unpaidUsers(first: 200) { totalCount } }'), 20);
    // root 10 + edges (1 + 200 x (node 1 + uid 1))
    assert.equal(costOf('{ unpaidUsers(first: 200) { edges { node { uid } } } }'), 10 + 1 + 200 * 2);
    assert.equal(
      costOf('query($n: Int!) { unpaidUsers(first: $n) { edges { node { uid } } } }', { n: 5 }),
      10 + 1 + 5 * 2,
    );
    assert.equal(costOf('{ hotProducts(limit: 10) { rank productId } }'), 10 + 10 * 2);
    const aliases = `{ ${Array.from({ length: 1_200 }, (_, i) => `a${i}: unpaidUsers(first: 1) { totalCount }`).join(' ')} }`;
    assert.equal(
      checkCost(schema, parse(aliases), {}, undefined, LIMITS).refusal?.extensions.code,
      'QUERY_TOO_COMPLEX',
    );
  });

  it("should price a bulk mutation's results by the number of its updates", () => {
    const bulk =
      'mutation($u: [CallbackStatusUpdate!]!) { setCallbackStatuses(updates: $u) { results { uid user { uid callbackStatus } error { code currentStatus } } } }';
    const updates = (n: number) => Array.from({ length: n }, (_, i) => ({ uid: `u${i}`, status: 'CONTACTED' }));
    // root 10 + payload 1 x (results 1 + n x (uid 1 + user 3 + error 3))
    assert.equal(costOf(bulk, { u: updates(500) }), 10 + 1 + 500 * 7);
    assert.equal(costOf(bulk, { u: updates(2) }), 10 + 1 + 2 * 7);
    assert.equal(
      checkCost(schema, parse(bulk), { u: updates(500) }, undefined, LIMITS).refusal,
      null,
      'the largest call fits the default limit',
    );
    // The feed's edges multiply by its first, like any connection.
    assert.equal(costOf('{ unpaidUserChanges(first: 100) { edges { cursor } } }'), 10 + 1 + 100 * 1);
  });

  it('should report each armor limit with its code', () => {
    const codes = (q: string) =>
      validate(schema, parse(q), [...limitRules(LIMITS), ...specifiedRules]).map((e) => e.extensions.code);
    assert.deepEqual(
      codes(`{ ${Array.from({ length: 51 }, (_, i) => `a${i}: rechargeSummary { orders }`).join(' ')} }`),
      ['ALIAS_LIMIT'],
    );
    assert.deepEqual(codes(`{ rechargeSummary { ${'orders @skip(if: false) '.repeat(21)} } }`), ['DIRECTIVE_LIMIT']);
    assert.deepEqual(codes(`{ ${'... on Query { '.repeat(10)} rechargeSummary { orders } ${'} '.repeat(10)} }`), [
      'DEPTH_LIMIT',
    ]);
    assert.deepEqual(codes(`{ ${'... on Query { '.repeat(9)} rechargeSummary { orders } ${'} '.repeat(9)} }`), []);
    assert.throws(
      () => parseWithLimits(`{ ${'a '.repeat(2_001)} }`, LIMITS),
      (e: any) => e.extensions.code === 'TOKEN_LIMIT',
    );
    assert.throws(
      () => parseWithLimits('{ a', LIMITS),
      (e: any) => e.extensions.code === 'GRAPHQL_PARSE_FAILED',
    );
  });

  it('should refuse production configurations with development keys or no way to authenticate', () => {
    assert.throws(() => checkProductionAuth(loadConfig({ NODE_ENV: 'production' })), /needs a way to authenticate/);
    assert.throws(
      () => checkProductionAuth(loadConfig({ NODE_ENV: 'production', API_KEYS: 'ops:ops-key' })),
      /development API keys/,
    );
    assert.doesNotThrow(() => checkProductionAuth(loadConfig({ NODE_ENV: 'production', API_KEYS: 'ops:s3cret-ops' })));
    const jwtOnly = loadConfig({
      NODE_ENV: 'production',
      AUTH_JWKS_URL: 'https://idp.example/jwks.json',
      AUTH_ISSUER: 'https://idp.example',
      AUTH_AUDIENCE: 'api',
    });
    assert.doesNotThrow(() => checkProductionAuth(jwtOnly));
    assert.equal(jwtOnly.API_KEYS.size, 0);
    assert.equal(jwtOnly.GRAPHQL_INTROSPECTION, false);
    assert.equal(loadConfig({}).API_KEYS.get('viewer-key'), 'viewer');
  });
});
