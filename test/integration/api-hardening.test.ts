// The public-API hardening against the real services: every limit refuses an
// abusive operation with its stable code and lets a normal one through, over
// HTTP and WebSocket through the one admission path; JWTs verified against a
// JWKS this test serves; trusted documents; production starts refused without
// real credentials.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import WebSocket from 'ws';
import { documentHash } from '../../src/graphql/trusted-documents.js';
import { errorCode, gql, type GraphQLResponse } from '../helpers/graphql-client.js';
import { TestRuns } from '../helpers/job-runs.js';
import type { ServiceProcess } from '../helpers/service-process.js';
import { KAFKA_BROKERS, randomName, REDIS_URL, waitFor } from '../helpers/services.js';

const ISSUER = 'https://issuer.rt-analytics.test';
const AUDIENCE = 'rt-analytics-api';
const LIMIT_CODES = [
  'TOKEN_LIMIT',
  'ALIAS_LIMIT',
  'DIRECTIVE_LIMIT',
  'DEPTH_LIMIT',
  'QUERY_TOO_COMPLEX',
  'UNTRUSTED_DOCUMENT',
  'BATCHING_DISABLED',
  'RATE_LIMITED',
  'UNAUTHENTICATED',
];
const COUNT = '{ unpaidUsers(first: 1) { totalCount } }';
const MAIN = path.resolve(import.meta.dirname, '../../src/main.js');
const TRUSTED_FILE = path.resolve(import.meta.dirname, '../../trusted-documents.json');

/** A graphql-ws client and how its connection ended up: connected, or closed with a code and reason. */
function connect(
  url: string,
  authorization: string | undefined,
): { client: Client; state: Promise<'connected' | { code: number; reason: string }> } {
  let settle!: (v: 'connected' | { code: number; reason: string }) => void;
  const state = new Promise<'connected' | { code: number; reason: string }>((r) => {
    settle = r;
  });
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { authorization } : {},
    lazy: false,
    retryAttempts: 0,
    // A refused connection is the expected outcome here, reported through `state`.
    onNonLazyError: () => undefined,
    on: {
      connected: () => settle('connected'),
      closed: (e) => settle({ code: (e as { code: number }).code, reason: (e as { reason: string }).reason }),
    },
  });
  return { client, state };
}

/** The first result (or error) of one operation over `client`. */
function once(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  extensions?: Record<string, unknown>,
): Promise<GraphQLResponse> {
  return new Promise((resolve) => {
    let done = false;
    const dispose = client.subscribe(
      { query, variables, ...(extensions ? { extensions } : {}) },
      {
        next: (v) => {
          if (!done) {
            done = true;
            resolve(v as GraphQLResponse);
            dispose();
          }
        },
        error: (e) => {
          if (!done) {
            done = true;
            resolve({ errors: (Array.isArray(e) ? e : [e]) as GraphQLResponse['errors'] });
          }
        },
        // Only the first result or error matters.
        complete: () => undefined,
      },
    );
  });
}

async function post(url: string, body: unknown, key?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** `rt_graphql_open_subscriptions` of a process: its open WebSocket operations. */
async function openOperations(url: string): Promise<number> {
  const text = await (await fetch(url.replace('/graphql', '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('rt_graphql_open_subscriptions '));
  return Number(line?.split(' ')[1]);
}

describe('public API hardening: one admission path for HTTP and WebSocket', () => {
  const runs = new TestRuns();
  const keys = {
    viewer: randomName('viewer'),
    crm: randomName('crm'),
    ops: randomName('ops'),
    other: randomName('viewer2'),
  };
  let jwks: Server;
  let jwksUrl: string;
  let privateKey: CryptoKey;
  let strangerKey: CryptoKey;
  let api: ServiceProcess;
  let permissive: ServiceProcess;
  let trusted: ServiceProcess;
  const trustedDocs = JSON.parse(readFileSync(TRUSTED_FILE, 'utf8')) as { documents: Record<string, string> };

  const token = (
    claims: Record<string, unknown>,
    opts: { iss?: string; aud?: string; exp?: number; key?: CryptoKey } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setSubject('user-42')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600)
      .sign(opts.key ?? privateKey);

  before(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;

    const db = await runs.freshDb();
    const common = {
      DATABASE_URL: db.url,
      ROLES: 'api',
      RATE_LIMIT_PER_MINUTE: '100000',
      API_KEYS: `viewer:${keys.viewer},crm:${keys.crm},ops:${keys.ops},viewer:${keys.other}`,
    };
    [api, permissive, trusted] = await Promise.all([
      runs.start({
        ...common,
        AUTH_JWKS_URL: jwksUrl,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        WS_MAX_CONNECTIONS_PER_KEY: '2',
        WS_MAX_SUBSCRIPTIONS_PER_KEY: '2',
        WS_MAX_PAYLOAD_BYTES: '4096',
      }),
      runs.start({
        ...common,
        GRAPHQL_MAX_ALIASES: '5000',
        GRAPHQL_MAX_TOKENS: '100000',
        GRAPHQL_ALLOW_BATCHING: 'true',
      }),
      runs.start({ ...common, TRUSTED_DOCUMENTS_ONLY: 'true' }),
    ]);
  });

  after(async () => {
    await runs.cleanup();
    await new Promise((r) => jwks.close(r));
  });

  it('should refuse more tokens, aliases, directives and depth than allowed, each with its code, and let normal operations through', async () => {
    const cases: [code: string, abusive: string, normal: string][] = [
      // One character per token (nested list brackets), so the document also fits the WebSocket payload bound.
      ['TOKEN_LIMIT', `{ __typename(x: ${'['.repeat(1_100)}${']'.repeat(1_100)}) }`, `{ ${'__typename '.repeat(50)} }`],
      [
        'ALIAS_LIMIT',
        `{ ${Array.from({ length: 51 }, (_, i) => `a${i}: rechargeSummary { orders }`).join(' ')} }`,
        `{ ${Array.from({ length: 10 }, (_, i) => `a${i}: rechargeSummary { orders }`).join(' ')} }`,
      ],
      [
        'DIRECTIVE_LIMIT',
        `{ rechargeSummary { ${'orders @include(if: true) '.repeat(21)} } }`,
        '{ rechargeSummary { orders @include(if: true) failed @skip(if: false) } }',
      ],
      [
        'DEPTH_LIMIT',
        `{ ${'... on Query { '.repeat(11)} rechargeSummary { orders } ${'} '.repeat(11)} }`,
        `{ ${'... on Query { '.repeat(3)} rechargeSummary { orders } ${'} '.repeat(3)} }`,
      ],
    ];
    for (const [code, abusive, normal] of cases) {
      const refused = await post(api.url, { query: abusive }, keys.viewer);
      assert.equal(
        refused.body.errors?.[0]?.extensions?.code,
        code,
        `${code}: ${JSON.stringify(refused.body).slice(0, 300)}`,
      );
      assert.equal(refused.status, 400);
      const ok = await post(api.url, { query: normal }, keys.viewer);
      assert.equal(ok.body.errors, undefined, `${code} normal: ${JSON.stringify(ok.body.errors)}`);
      // The same admission over WebSocket.
      const ws = connect(api.url, `Bearer ${keys.viewer}`);
      assert.equal(errorCode(await once(ws.client, abusive)), code);
      assert.equal((await once(ws.client, normal)).errors, undefined);
      await ws.client.dispose();
    }
  });

  it('should price a COUNT like a database query: 1,200 aliased totalCounts are too costly even with alias and token limits raised', async () => {
    const abusive = `{ ${Array.from({ length: 1_200 }, (_, i) => `a${i}: unpaidUsers(first: 1) { totalCount }`).join(' ')} }`;
    const res = await post(permissive.url, { query: abusive }, keys.viewer);
    assert.equal(res.body.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX', JSON.stringify(res.body).slice(0, 300));
    assert.ok(res.body.errors[0].extensions.cost > res.body.errors[0].extensions.maxCost);
    // With the default limits, the same document is refused earlier, while parsing, by its tokens.
    assert.equal(
      (await post(api.url, { query: abusive }, keys.viewer)).body.errors?.[0]?.extensions?.code,
      'TOKEN_LIMIT',
    );
    const few = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: unpaidUsers(first: 1) { totalCount }`).join(' ')} }`;
    assert.equal((await post(permissive.url, { query: few }, keys.viewer)).body.errors, undefined);
  });

  it('should admit every operation the dashboard sends, under the default limits', async () => {
    const docs = Object.values(trustedDocs.documents);
    assert.ok(docs.length >= 26, `only ${docs.length} dashboard documents`);
    for (const doc of docs) {
      const variables: Record<string, unknown> = {
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-01T01:00:00Z',
        date: '2026-01-01',
        uid: 'no-such-uid',
        status: 'CONTACTED',
      };
      for (let i = 0; i < 20; i++) variables[`u${i}`] = `u${i}`;
      const res = await post(api.url, { query: doc, variables }, keys.crm);
      const code = res.body.errors?.[0]?.extensions?.code;
      assert.ok(!LIMIT_CODES.includes(code), `${doc.slice(0, 80)}: ${code}`);
    }
  });

  it('should refuse batched operations unless GRAPHQL_ALLOW_BATCHING, then run each', async () => {
    const batch = [{ query: '{ rechargeSummary { orders } }' }, { query: COUNT }];
    const refused = await post(api.url, batch, keys.viewer);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors[0].extensions.code, 'BATCHING_DISABLED');
    const ok = await post(permissive.url, batch, keys.viewer);
    assert.ok(Array.isArray(ok.body), JSON.stringify(ok.body));
    assert.equal(ok.body.length, 2);
    assert.equal(ok.body[1].data.unpaidUsers.totalCount, 0);
    // Every operation of a batch is admitted on its own.
    const mixed = await post(
      permissive.url,
      [{ query: COUNT }, { query: `{ ${'... on Query { '.repeat(11)} __typename ${'} '.repeat(11)} }` }],
      keys.viewer,
    );
    assert.equal(mixed.body.errors?.[0]?.extensions?.code, 'DEPTH_LIMIT');
  });

  it('should refuse an HTTP body over GRAPHQL_MAX_BODY_BYTES with 413 and a WebSocket message over WS_MAX_PAYLOAD_BYTES by closing with 1009', async () => {
    const big = await post(api.url, { query: COUNT, variables: { pad: 'x'.repeat(150_000) } }, keys.viewer);
    assert.equal(big.status, 413);
    assert.equal(big.body.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');

    const socket = new WebSocket(api.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((r) => socket.once('close', (code) => r(code)));
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${keys.viewer}` } }));
    await new Promise((r) => socket.once('message', r));
    socket.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: COUNT, variables: { pad: 'x'.repeat(5_000) } } }),
    );
    assert.equal(await closed, 1009);
    // A message within the bound runs.
    const ws = connect(api.url, `Bearer ${keys.viewer}`);
    assert.equal((await once(ws.client, COUNT, { pad: 'x'.repeat(1_000) })).errors?.[0]?.extensions?.code, undefined);
    await ws.client.dispose();
  });

  it('should cap WebSocket connections and subscriptions per key', async () => {
    const first = connect(api.url, `Bearer ${keys.other}`);
    const second = connect(api.url, `Bearer ${keys.other}`);
    assert.equal(await first.state, 'connected');
    assert.equal(await second.state, 'connected');
    const third = connect(api.url, `Bearer ${keys.other}`);
    assert.deepEqual(await third.state, { code: 4013, reason: 'TOO_MANY_CONNECTIONS' });
    // Another key is not held back by this one.
    const otherKey = connect(api.url, `Bearer ${keys.crm}`);
    assert.equal(await otherKey.state, 'connected');
    await otherKey.client.dispose();

    const before = await openOperations(api.url);
    const sub = 'subscription { abnormalUserDetected { uid } }';
    const noop = { next: () => undefined, error: () => undefined, complete: () => undefined };
    const a = first.client.subscribe({ query: sub }, noop);
    second.client.subscribe({ query: sub }, noop);
    await waitFor(
      'two subscriptions to be open',
      async () => (await openOperations(api.url)) === before + 2,
      10_000,
      50,
    );
    const refused = await once(first.client, sub);
    assert.equal(errorCode(refused), 'TOO_MANY_SUBSCRIPTIONS');
    // A query is no subscription: it still runs.
    assert.equal((await once(first.client, COUNT)).errors, undefined);
    a();
    await waitFor(
      'the completed subscription to be gone',
      async () => (await openOperations(api.url)) === before + 1,
      10_000,
      50,
    );
    const again = first.client.subscribe({ query: sub }, noop);
    await waitFor(
      'the new subscription to be open',
      async () => (await openOperations(api.url)) === before + 2,
      10_000,
      50,
    );
    again();
    await first.client.dispose();
    await second.client.dispose();
    // The server frees a key's places when it sees the sockets close, a moment after dispose.
    const fourth = await waitFor(
      'a connection of that key to be admitted again',
      async () => {
        const c = connect(api.url, `Bearer ${keys.other}`);
        if ((await c.state) === 'connected') return c;
        await Promise.resolve(c.client.dispose()).catch(() => undefined);
        return null;
      },
      10_000,
      100,
    );
    await fourth.client.dispose();
  });

  it('should accept a valid JWT over HTTP and refuse expired, wrong-audience, wrong-issuer, unsigned-by-the-JWKS and unknown-role tokens', async () => {
    const viewer = await token({ role: 'viewer' });
    const ok = await gql(api.url, COUNT, {}, viewer);
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    assert.equal(ok.data.unpaidUsers.totalCount, 0);
    // The role from the token is checked like a key's.
    const mutation = 'mutation { setCallbackStatus(uid: "no-such-uid", status: CONTACTED) { uid } }';
    assert.equal(errorCode(await gql(api.url, mutation, {}, viewer)), 'FORBIDDEN');
    assert.equal(errorCode(await gql(api.url, mutation, {}, await token({ role: 'crm' }))), 'NOT_FOUND');

    const refusals: [string, string, string][] = [
      ['expired', await token({ role: 'viewer' }, { exp: Math.floor(Date.now() / 1000) - 600 }), 'UNAUTHENTICATED'],
      ['wrong audience', await token({ role: 'viewer' }, { aud: 'someone-else' }), 'UNAUTHENTICATED'],
      ['wrong issuer', await token({ role: 'viewer' }, { iss: 'https://evil.test' }), 'UNAUTHENTICATED'],
      ['another key', await token({ role: 'viewer' }, { key: strangerKey }), 'UNAUTHENTICATED'],
      ['unknown role', await token({ role: 'admin' }), 'FORBIDDEN'],
      ['no role', await token({}), 'FORBIDDEN'],
    ];
    for (const [what, jwt, code] of refusals) {
      const res = await fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ query: COUNT }),
      });
      const body = (await res.json()) as GraphQLResponse;
      assert.equal(errorCode(body), code, `${what}: ${JSON.stringify(body.errors)}`);
      assert.equal(res.status, code === 'FORBIDDEN' ? 403 : 401, what);
      assert.equal(body.data, undefined, what);
    }
  });

  it('should accept a valid JWT over WebSocket and close the connection for refused tokens', async () => {
    const ws = connect(api.url, `Bearer ${await token({ role: 'ops' })}`);
    assert.equal(await ws.state, 'connected');
    const res = await once(ws.client, COUNT);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.equal(res.data.unpaidUsers.totalCount, 0);
    await ws.client.dispose();
    const cases: [string, string, string][] = [
      ['expired', await token({ role: 'viewer' }, { exp: Math.floor(Date.now() / 1000) - 600 }), 'UNAUTHENTICATED'],
      ['wrong audience', await token({ role: 'viewer' }, { aud: 'someone-else' }), 'UNAUTHENTICATED'],
      ['wrong issuer', await token({ role: 'viewer' }, { iss: 'https://evil.test' }), 'UNAUTHENTICATED'],
      ['unknown role', await token({ role: 'admin' }), 'FORBIDDEN'],
      ['no credential', '', 'UNAUTHENTICATED'],
    ];
    for (const [what, jwt, reason] of cases) {
      const refused = connect(api.url, jwt ? `Bearer ${jwt}` : undefined);
      assert.deepEqual(await refused.state, { code: 4403, reason }, what);
      await refused.client.dispose();
    }
  });

  it('should run only trusted documents with TRUSTED_DOCUMENTS_ONLY, by text or by sha256', async () => {
    const [hash, text] = Object.entries(trustedDocs.documents).find(([, t]) => t.includes('DashboardSnapshot'))!;
    assert.equal(documentHash(text), hash);
    // The dashboard's snapshot takes its sizes as variables.
    const variables = { hotLimit: 10, feedPage: 20 };
    const byText = await post(trusted.url, { query: text, variables }, keys.viewer);
    assert.equal(byText.body.errors, undefined, JSON.stringify(byText.body.errors));
    const byHash = await post(
      trusted.url,
      { variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } },
      keys.viewer,
    );
    assert.equal(byHash.body.errors, undefined, JSON.stringify(byHash.body.errors));
    assert.deepEqual(Object.keys(byHash.body.data), Object.keys(byText.body.data));
    const other = await post(trusted.url, { query: COUNT }, keys.viewer);
    assert.equal(other.body.errors[0].extensions.code, 'UNTRUSTED_DOCUMENT');
    assert.equal(other.status, 403);
    const unknownHash = await post(
      trusted.url,
      { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(COUNT) } } },
      keys.viewer,
    );
    assert.equal(unknownHash.body.errors[0].extensions.code, 'UNTRUSTED_DOCUMENT');
    const ws = connect(trusted.url, `Bearer ${keys.viewer}`);
    assert.equal(
      errorCode(await once(ws.client, 'subscription { abnormalUserDetected { uid phone } }')),
      'UNTRUSTED_DOCUMENT',
    );
    const sub = Object.values(trustedDocs.documents).find((t) => t.includes('abnormalUserDetected'))!;
    // A trusted subscription is admitted: it stays open (the untrusted one above was refused at once).
    const before = await openOperations(trusted.url);
    const dispose = ws.client.subscribe(
      { query: sub },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    await waitFor(
      'the trusted subscription to be open',
      async () => (await openOperations(trusted.url)) === before + 1,
      10_000,
      50,
    );
    dispose();
    await ws.client.dispose();
    // Without the mode, any document runs (the default).
    assert.equal((await post(api.url, { query: COUNT }, keys.viewer)).body.errors, undefined);
  });

  it('should refuse a production start with the development keys or without any way to authenticate', async () => {
    const startProduction = (env: Record<string, string | undefined>) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const { API_KEYS: _keys, AUTH_JWKS_URL: _jwks, ...rest } = process.env;
        const child = spawn(process.execPath, [MAIN], {
          env: {
            ...rest,
            NODE_ENV: 'production',
            KAFKA_BROKERS: KAFKA_BROKERS.join(','),
            REDIS_URL,
            PORT: '0',
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.once('exit', (code) => resolve({ code, stderr }));
      });
    const none = await startProduction({});
    assert.equal(none.code, 1);
    assert.match(none.stderr.trim(), /^rt-analytics: NODE_ENV=production needs a way to authenticate: set API_KEYS/);
    assert.equal(none.stderr.trim().split('\n').length, 1);
    const dev = await startProduction({ API_KEYS: 'viewer:viewer-key,ops:real-ops-key' });
    assert.equal(dev.code, 1);
    assert.match(dev.stderr.trim(), /^rt-analytics: NODE_ENV=production refuses the built-in development API keys/);
    const noIssuer = await startProduction({ AUTH_JWKS_URL: jwksUrl });
    assert.equal(noIssuer.code, 1);
    assert.match(noIssuer.stderr, /AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE/);
  });
});
