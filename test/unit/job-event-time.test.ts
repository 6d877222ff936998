// A job's eventTime reads a record as the job's processors do: the watermark
// the processor keeps after a batch is watermarkOf(the largest event time
// eventTime.of gives over that batch).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProductClick } from '../../src/jobs/hot-products/product-click-format.js';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { createAbnormalOrdersJob, ENTER_ORDER_PAGE } from '../../src/jobs/abnormal-orders/abnormal-orders-job.js';
import { createHotProductsJob } from '../../src/jobs/hot-products/hot-products-job.js';
import type { JobDefinition, SourceRecord } from '../../src/engine/job.js';
import type { HotProductStore } from '../../src/jobs/hot-products/hot-product-store.js';
import type { UnpaidUserStore } from '../../src/jobs/abnormal-orders/unpaid-user-store.js';
import { watermarkOf } from '../../src/stream/index.js';

const T = Date.UTC(2026, 0, 1, 8);
const YEAR_MS = 365 * 86_400_000;
const GRACE_MS = 5_000;

const record = (offset: number, value: string, timestampMs = T + 3_600_000): SourceRecord => ({
  offset: BigInt(offset),
  key: null,
  value: Buffer.from(value),
  timestampMs,
});

/** Feeds `records` to a fresh processor of `job` and compares its watermark with eventTime.of. */
function agrees(job: JobDefinition, records: SourceRecord[], expected: (number | null)[]): void {
  const eventTime = job.eventTime;
  assert.ok(eventTime, `${job.name} tells event times`);
  assert.equal(eventTime.graceMs, GRACE_MS);
  assert.deepEqual(
    records.map((r) => eventTime.of(r)),
    expected,
  );
  // Processed as soon as created: no idle advance moves the watermark meanwhile.
  const nowMs = T + 3_600_000;
  const processor = job.createProcessor({ partition: 0, nextOffset: 0n, replayFrom: 0n, watermarkMs: null, nowMs });
  processor.process(records, nowMs);
  const times = expected.filter((t): t is number => t !== null);
  assert.equal(processor.position().watermarkMs, watermarkOf(Math.max(...times), GRACE_MS));
}

describe('a job reads event times as its processors do', () => {
  it('should for abnormal-orders: every event key moves stream time; malformed and wrong-clock records none', () => {
    const job = createAbnormalOrdersJob({
      groupId: 'g',
      topic: 't',
      window: { sizeMs: 60_000, advanceMs: 30_000, graceMs: GRACE_MS, idleTimeoutMs: 3_600_000 },
      threshold: 3,
      // Never called: the batch's writes are returned, not run.
      store: {} as unknown as UnpaidUserStore,
      publish: () => undefined,
    });
    const line = (eventKey: string, eventTimeSec: number) =>
      formatUserBehavior({ uid: '7', phone: '13800000000', eventKey, eventTimeSec });
    agrees(
      job,
      [
        record(0, line(ENTER_ORDER_PAGE, T / 1000)),
        record(1, line('startApp', T / 1000 + 10)),
        record(2, 'not\ta\tline'),
        // A year ahead of its own Kafka timestamp: refused by the guard.
        record(3, line(ENTER_ORDER_PAGE, (T + YEAR_MS) / 1000)),
        // A year ahead with a Kafka timestamp a year ahead too: the guard cannot tell.
        record(4, line('startApp', (T + YEAR_MS) / 1000), T + YEAR_MS),
      ],
      [T, T + 10_000, null, null, T + YEAR_MS],
    );
  });

  it('should for hot-products: clicks and other actions alike; malformed and wrong-clock records none', () => {
    const job = createHotProductsJob({
      groupId: 'g',
      topic: 't',
      graceMs: GRACE_MS,
      idleTimeoutMs: 60_000,
      store: {} as unknown as HotProductStore,
      emitter: null,
    });
    const click = (eventTimeMs: number, action = 'click') =>
      formatProductClick({ eventTimeMs, productId: 'p1', userId: 'u1', action });
    agrees(
      job,
      [
        record(0, click(T + 20_000)),
        record(1, click(T + 40_000, 'view')),
        record(2, '{"event_time":'),
        record(3, click(T + YEAR_MS)),
      ],
      [T + 20_000, T + 40_000, null, null],
    );
  });
});
