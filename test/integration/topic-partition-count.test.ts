import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { topicPartitionCount } from '../../src/ingest/topic-partition-count.js';
import { connectAdmin, createTestTopic, KAFKA_BROKERS } from '../helpers/services.js';

describe('topicPartitionCount (real broker)', () => {
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  before(async () => {
    topic = await createTestTopic('partition-count', 3);
  });
  after(async () => {
    await topic.delete();
  });

  it('reads the count, reuses it for its time to live, then reads the new count', async () => {
    const cached = topicPartitionCount(KAFKA_BROKERS, topic.topic, undefined, 60_000);
    const shortLived = topicPartitionCount(KAFKA_BROKERS, topic.topic, undefined, 1);
    assert.equal(await cached(), 3);
    assert.equal(await shortLived(), 3);
    const admin = await connectAdmin();
    try {
      await admin.createPartitions({ topicPartitions: [{ topic: topic.topic, count: 4 }] });
    } finally {
      await admin.disconnect();
    }
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await cached(), 3, 'within its time to live the count read before is answered');
    assert.equal(await shortLived(), 4, 'past it the brokers are asked again');
  });
});
