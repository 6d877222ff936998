// What the read path's per-request savings keep exact: the rate limit's reservations never admit
// beyond the budget, a cost remembered per document is the cost of the variables that set it, and a
// remembered key id is the key's hash.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createPubSub } from '@graphql-yoga/subscription';
import { parse } from 'graphql';
import { Admission, costVariables } from '../../src/graphql/admission.js';
import { Authenticator } from '../../src/graphql/auth.js';
import { createSchema } from '../../src/app-schema.js';
import { OperationRateLimiter, reservationSize } from '../../src/graphql/rate-limit.js';
import { keyId } from '../../src/store/key-id.js';

const schema = await createSchema(createPubSub());

describe('rate limit reservations', () => {
  it('should take a hundredth of the budget per reservation, 1 to 50', () => {
    assert.equal(reservationSize(5), 1);
    assert.equal(reservationSize(600), 6);
    assert.equal(reservationSize(1_000_000), 50);
  });

  it('should admit exactly the budget per key, also when the calls come at once, and refuse the rest with RATE_LIMITED', async () => {
    const limiter = new OperationRateLimiter(null, 650);
    assert.equal(limiter.reservation, 6);
    const outcomes = await Promise.all(Array.from({ length: 700 }, () => limiter.consume('key-a')));
    assert.equal(outcomes.filter((o) => o === null).length, 650);
    const refused = outcomes.find((o) => o !== null);
    assert.equal(refused?.extensions.code, 'RATE_LIMITED');
    assert.ok(Number(refused.extensions.retryAfterSeconds) >= 1);
    // Another key has its own budget.
    assert.equal(await limiter.consume('key-b'), null);
  });

  it('should keep refusing a spent budget below 200 per minute, one operation per reservation', async () => {
    const limiter = new OperationRateLimiter(null, 5);
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 8; i++) codes.push((await limiter.consume('k'))?.extensions.code as string | undefined);
    assert.deepEqual(codes, [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'RATE_LIMITED',
      'RATE_LIMITED',
      'RATE_LIMITED',
    ]);
  });

  it('should hand out the end of a budget that is not a multiple of the reservation', async () => {
    const limiter = new OperationRateLimiter(null, 203);
    let admitted = 0;
    for (let i = 0; i < 210; i++) if ((await limiter.consume('k')) === null) admitted++;
    assert.equal(admitted, 203);
  });
});

describe('cost remembered per document', () => {
  it('should depend on page sizes and directive variables only', () => {
    assert.deepEqual(
      costVariables(
        parse(
          'query($n: Int, $uid: ID!, $s: Boolean!, $a: String) { unpaidUsers(first: $n, after: $a) { totalCount @include(if: $s) } unpaidUser(uid: $uid) { uid } }',
        ),
      ),
      ['n', 's'],
    );
  });

  it('should refuse a costly page size after a cheap one of the same document, and admit the cheap one again', async () => {
    const admission = new Admission({
      schema,
      authenticator: new Authenticator(new Map([['k', 'viewer']])),
      rateLimiter: new OperationRateLimiter(null, 1_000_000),
      limits: { maxDepth: 10, maxCost: 100, maxAliases: 50, maxTokens: 2_000, maxDirectives: 20 },
      introspection: true,
      trustedOnly: false,
      allowBatching: false,
      maxBatchSize: 10,
    });
    const caller = { role: 'viewer' as const, apiKey: 'k', kind: 'api-key' as const };
    const query =
      'query($n: Int, $uid: ID!) { unpaidUsers(first: $n) { edges { node { uid } } } unpaidUser(uid: $uid) { uid } }';
    const cheap = await admission.admitOperation(caller, { query, variables: { n: 5, uid: 'a' } });
    assert.equal(cheap.ok, true);
    const costly = await admission.admitOperation(caller, { query, variables: { n: 200, uid: 'a' } });
    assert.ok(!costly.ok);
    assert.equal(costly.errors[0].extensions.code, 'QUERY_TOO_COMPLEX');
    // Another uid: the same cost, remembered.
    assert.equal((await admission.admitOperation(caller, { query, variables: { n: 5, uid: 'b' } })).ok, true);
    assert.equal((await admission.admitOperation(caller, { query, variables: { n: 200, uid: 'b' } })).ok, false);
  });
});

describe('keyId', () => {
  it("should give an API key's sha256 prefix, the same on every call, and another for another key", () => {
    const expected = createHash('sha256').update('ops-key').digest('hex').slice(0, 12);
    assert.equal(keyId('ops-key'), expected);
    assert.equal(keyId('ops-key'), expected, 'the remembered id is the same');
    assert.notEqual(keyId('crm-key'), expected);
    assert.match(keyId('crm-key'), /^[0-9a-f]{12}$/);
  });
});
