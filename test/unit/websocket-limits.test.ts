import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { WebSocketLimits } from '../../src/graphql/websocket-limits.js';
import { MAX_REQUEST_ID_LENGTH, requestId } from '../../src/graphql/request-id.js';

async function gaugeValue(gauge: Gauge): Promise<number> {
  return (await gauge.get()).values[0]?.value ?? 0;
}

function limits(maxConnections = 3, maxConnectionsPerKey = 2, maxSubscriptionsPerKey = 2) {
  const gauge = new Gauge({ name: 'open_operations', help: 'test', registers: [new Registry()] });
  const caps = { maxPayloadBytes: 1024, maxConnections, maxConnectionsPerKey, maxSubscriptionsPerKey };
  return { gauge, limits: new WebSocketLimits(caps, gauge) };
}

describe('WebSocketLimits', () => {
  it('should refuse a connection over the per-key cap and over the process cap', () => {
    const { limits: l } = limits(3, 2);
    assert.equal(l.connect({}, 'a'), true);
    assert.equal(l.connect({}, 'a'), true);
    assert.equal(l.connect({}, 'a'), false);
    assert.equal(l.connect({}, 'b'), true);
    assert.equal(l.connect({}, 'c'), false);
  });

  it('should free a connection place and its subscriptions when it closes', async () => {
    const { limits: l, gauge } = limits(3, 1, 1);
    const first = {};
    assert.equal(l.connect(first, 'a'), true);
    assert.equal(l.start(first, '1', true), true);
    assert.equal(l.start(first, '2', false), true);
    assert.equal(await gaugeValue(gauge), 2);
    l.close(first);
    assert.equal(await gaugeValue(gauge), 0);
    assert.equal(l.has(first), false);
    const second = {};
    assert.equal(l.connect(second, 'a'), true);
    assert.equal(l.start(second, '1', true), true);
  });

  it('should cap subscriptions per key over all its connections, not queries, and count an id once', async () => {
    const { limits: l, gauge } = limits(3, 2, 2);
    const one = {};
    const two = {};
    l.connect(one, 'a');
    l.connect(two, 'a');
    assert.equal(l.start(one, '1', true), true);
    assert.equal(l.start(one, '1', true), true);
    assert.equal(l.start(two, '1', true), true);
    assert.equal(l.start(two, '2', true), false);
    assert.equal(l.start(two, '3', false), true);
    assert.equal(await gaugeValue(gauge), 3);
    l.complete(one, '1');
    l.complete(one, '1');
    assert.equal(await gaugeValue(gauge), 2);
    assert.equal(l.start(two, '2', true), true);
  });

  it('should count nothing for a connection it did not accept', async () => {
    const { limits: l, gauge } = limits();
    assert.equal(l.start({}, '1', false), false);
    assert.equal(await gaugeValue(gauge), 0);
  });
});

describe('requestId', () => {
  it("should keep the client's x-request-id up to 100 characters, else make a UUID", () => {
    assert.equal(requestId({ 'x-request-id': 'abc' }), 'abc');
    assert.equal(requestId({ 'x-request-id': 'x'.repeat(150) }), 'x'.repeat(MAX_REQUEST_ID_LENGTH));
    assert.match(requestId({}), /^[0-9a-f-]{36}$/);
    assert.match(requestId({ 'x-request-id': '' }), /^[0-9a-f-]{36}$/);
  });
});
