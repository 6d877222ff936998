import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadLetterSink, deadLetterMessages } from '../../src/runner/dead-letter-sink.js';
import { FakeProducer } from '../helpers/fake-runner-ports.js';

const job = { name: 'abnormal-orders', topic: 'user-behavior' };
const record = (offset: bigint, key: Buffer | null) => ({
  offset,
  key,
  value: Buffer.from('x'),
  timestampMs: 1_700_000_000_000,
});

describe('dead letters', () => {
  it('keys each by its source position and names source and reason in headers', () => {
    const late = { record: record(41n, Buffer.from('u1')), reason: 'late', detail: 'window final' };
    const [m] = deadLetterMessages(job, 2, [late]);
    assert.equal(m.key, 'user-behavior:2:41');
    assert.deepEqual(m.value, Buffer.from('x'));
    assert.deepEqual(m.headers, {
      'dlq.reason': 'late',
      'dlq.detail': 'window final',
      'dlq.job': 'abnormal-orders',
      'dlq.source.topic': 'user-behavior',
      'dlq.source.partition': '2',
      'dlq.source.offset': '41',
      'dlq.source.timestamp': '1700000000000',
      'dlq.source.key': Buffer.from('u1'),
    });
  });

  it('omits the key header for a record without key', () => {
    const [m] = deadLetterMessages(job, 0, [{ record: record(1n, null), reason: 'bad', detail: '' }]);
    assert.equal('dlq.source.key' in m.headers!, false);
  });

  it('sends to <topic>.dlq with acks=all, and nothing for no dead letters', async () => {
    const producer = new FakeProducer();
    const sink = new DeadLetterSink(producer, job);
    await sink.send(0, []);
    assert.equal(producer.sent.length, 0);
    await sink.send(0, [{ record: record(1n, null), reason: 'bad', detail: '' }]);
    assert.equal(producer.sent.length, 1);
    assert.equal(producer.sent[0].topic, 'user-behavior.dlq');
    assert.equal(producer.sent[0].acks, -1);
  });
});
