import type { DeadLetter } from '../engine/job.js';

/**
 * `deadLetters` with each record's key and value copied into buffers of their
 * own, the rest as it was. The consumer hands out keys and values as views
 * into the fetch response they came in (up to `KAFKA_MAX_BYTES_PER_PARTITION`
 * per partition, bytes): a dead letter that waits for a larger transaction or
 * in the post-commit work would keep that whole response alive for its few
 * bytes. Dead letters are rare (malformed or late records), so the copies cost
 * little. Pure; returns the same array when it is empty.
 */
export function detachedDeadLetters(deadLetters: DeadLetter[]): DeadLetter[] {
  if (deadLetters.length === 0) return deadLetters;
  return deadLetters.map((d) => ({
    ...d,
    record: {
      ...d.record,
      key: d.record.key === null ? null : Buffer.from(d.record.key),
      value: d.record.value === null ? null : Buffer.from(d.record.value),
    },
  }));
}
