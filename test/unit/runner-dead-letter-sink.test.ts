import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chunksBySize,
  DeadLetterSink,
  deadLetterMessages,
  RECORD_BATCH_OVERHEAD_BYTES,
  recordBudgetBytes,
  recordBytes,
  truncatedToFit,
} from '../../src/runner/dead-letter-sink.js';
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

  it('sends a burst in requests below the broker limit, every dead letter once and in order', async () => {
    const producer = new FakeProducer();
    const maxMessageBytes = 64 * 1024;
    const sink = new DeadLetterSink(producer, job, { maxMessageBytes });
    const burst = Array.from({ length: 2_000 }, (_, i) => ({
      record: { ...record(BigInt(i), Buffer.from(`k${i}`)), value: Buffer.alloc(300, 'x') },
      reason: 'field-count',
      detail: 'expected 5 fields',
    }));
    await sink.send(1, burst);
    assert.ok(producer.sent.length > 10, `${producer.sent.length} requests for about 1 MB`);
    for (const request of producer.sent) {
      const bytes = RECORD_BATCH_OVERHEAD_BYTES + request.messages.reduce((n, m) => n + recordBytes(m), 0);
      assert.ok(bytes <= maxMessageBytes, `a request of ${bytes} bytes`);
      assert.equal(request.topic, 'user-behavior.dlq');
      assert.equal(request.acks, -1);
    }
    const keys = producer.sent.flatMap((r) => r.messages.map((m) => m.key));
    assert.deepEqual(
      keys,
      burst.map((d) => `user-behavior:1:${d.record.offset}`),
    );
  });

  it('changes its request size when the broker limit is read', async () => {
    const producer = new FakeProducer();
    const sink = new DeadLetterSink(producer, job);
    const letters = Array.from({ length: 100 }, (_, i) => ({
      record: { ...record(BigInt(i), null), value: Buffer.alloc(1_000) },
      reason: 'bad',
      detail: '',
    }));
    await sink.send(0, letters);
    assert.equal(producer.sent.length, 1, 'Kafka default limit: about 100 KB fit in one request');
    sink.setMaxMessageBytes(16 * 1024);
    await sink.send(0, letters);
    assert.ok(producer.sent.length >= 1 + 7, `${producer.sent.length - 1} requests of at most 16 KiB`);
  });

  it('cuts one record too large to dead-letter whole and says so, keeping its source position', async () => {
    const producer = new FakeProducer();
    const maxMessageBytes = 100_000;
    const sink = new DeadLetterSink(producer, job, { maxMessageBytes });
    const huge = { record: { ...record(7n, Buffer.alloc(5_000, 'k')), value: Buffer.alloc(maxMessageBytes, 'v') } };
    const small = { record: record(8n, null), reason: 'bad', detail: '' };
    await sink.send(2, [{ ...huge, reason: 'bad-json', detail: 'not JSON' }, small]);
    const messages = producer.sent.flatMap((r) => r.messages);
    assert.equal(messages.length, 2);
    const [cut, whole] = messages;
    assert.ok(recordBytes(cut) <= recordBudgetBytes(maxMessageBytes));
    assert.ok(Buffer.isBuffer(cut.value) && cut.value.length > 90_000, 'most of the value is kept');
    assert.deepEqual(cut.value, Buffer.alloc(cut.value.length, 'v'), 'the first bytes of the value');
    const h = cut.headers!;
    assert.equal(h['dlq.truncated'], 'true');
    assert.equal(h['dlq.original.size'], String(maxMessageBytes));
    assert.equal(h['dlq.source.key.size'], '5000');
    assert.equal((h['dlq.source.key'] as Buffer).length, 1_024);
    assert.equal(h['dlq.source.topic'], 'user-behavior');
    assert.equal(h['dlq.source.partition'], '2');
    assert.equal(h['dlq.source.offset'], '7');
    assert.equal(h['dlq.reason'], 'bad-json');
    assert.equal(cut.key, 'user-behavior:2:7');
    assert.equal(whole.headers!['dlq.truncated'], undefined, 'a record that fits is sent whole');
  });

  it('keeps a message that fits as it is, and chunks keep a message larger than the budget alone', () => {
    const m = { key: 'a', value: Buffer.alloc(10), headers: { h: 'v' } };
    assert.equal(truncatedToFit(m, 1_000), m);
    const big = { key: 'b', value: Buffer.alloc(2_000) };
    assert.deepEqual(
      chunksBySize([m, big, m], 1_000).map((c) => c.length),
      [1, 1, 1],
    );
    assert.deepEqual(chunksBySize([], 1_000), []);
  });
});
