import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { quantile, startPacedLoad } from '../../bench/paced-load.js';

// The read-path bench's load generator, against a plain local HTTP server: every
// scheduled request is sent once, bodies rotate, failures are counted, and the
// latencies come back sorted.
describe('paced load', () => {
  let server: Server;
  let origin: string;
  const bodiesSeen: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let b = '';
      req.on('data', (d: Buffer) => (b += d.toString()));
      req.on('end', () => {
        bodiesSeen.push(b);
        res.writeHead(b === 'fail' ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(`echo:${b}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends rate x duration requests, rotating the bodies, and counts the failed ones', async () => {
    bodiesSeen.length = 0;
    const checked: string[] = [];
    const load = startPacedLoad({
      origin,
      path: '/graphql',
      headers: { 'content-type': 'text/plain' },
      bodies: ['a', 'b', 'fail'],
      rate: 300,
      durationSec: 0.5,
      connections: 4,
      timeoutMs: 5_000,
      check: (status, text) => {
        checked.push(text);
        return status === 200 ? null : `HTTP ${status}`;
      },
    });
    const r = await load.done;
    assert.equal(r.sent, 150);
    assert.equal(r.responses, 150);
    assert.equal(r.errors, 50, 'one body in three answers 500');
    assert.equal(r.firstError, 'HTTP 500');
    assert.deepEqual(bodiesSeen.toSorted(), [
      ...Array(50).fill('a'),
      ...Array(50).fill('b'),
      ...Array(50).fill('fail'),
    ]);
    assert.ok(
      checked.every((t) => t.startsWith('echo:')),
      'check sees the whole body',
    );
    for (let i = 1; i < r.latencies.length; i++) assert.ok(r.latencies[i - 1] <= r.latencies[i], 'latencies sorted');
    assert.ok(r.latencies[0] >= 0);
  });

  it('stop() ends the schedule early and still resolves once the requests in flight answer', async () => {
    const load = startPacedLoad({
      origin,
      path: '/',
      headers: {},
      bodies: ['x'],
      rate: 100,
      durationSec: 60,
      connections: 2,
      timeoutMs: 5_000,
      check: () => null,
    });
    await new Promise((r) => setTimeout(r, 100));
    load.stop();
    const r = await load.done;
    assert.ok(r.sent > 0 && r.sent < 6_000, `sent ${r.sent} of the 6,000 scheduled`);
    assert.equal(r.responses, r.sent);
  });

  it('counts a refused connection as an error, not a rejection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await startPacedLoad({
      origin: `http://127.0.0.1:${port}`,
      path: '/',
      headers: {},
      bodies: ['x'],
      rate: 20,
      durationSec: 0.1,
      connections: 1,
      timeoutMs: 5_000,
      check: () => null,
    }).done;
    assert.equal(r.responses, 2);
    assert.equal(r.errors, 2);
    assert.match(r.firstError ?? '', /^request failed/);
  });

  it('refuses a rate, duration or connection count that is not positive', () => {
    const base = { origin, path: '/', headers: {}, bodies: ['x'], timeoutMs: 1_000, check: () => null };
    assert.throws(() => startPacedLoad({ ...base, rate: 0, durationSec: 1, connections: 1 }), RangeError);
    assert.throws(() => startPacedLoad({ ...base, rate: 10, durationSec: 0, connections: 1 }), RangeError);
    assert.throws(() => startPacedLoad({ ...base, rate: 10, durationSec: 1, connections: 0 }), RangeError);
  });
});

describe('quantile (nearest rank)', () => {
  it('takes the ceil(p x n)-th smallest value', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(sorted, 0.5), 50);
    assert.equal(quantile(sorted, 0.99), 99);
    assert.equal(quantile(sorted, 1), 100);
    assert.equal(quantile([7], 0.99), 7);
    assert.equal(quantile([], 0.5), 0);
  });
});
