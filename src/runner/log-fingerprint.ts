import { createHash } from 'node:crypto';
import type { SourceRecord } from '../engine/job.js';
import type { LogFingerprint } from '../store/offset-store.js';

/**
 * The fingerprint of `record`, stored with the position it ends: its offset,
 * its Kafka timestamp (epoch milliseconds) and the first 64 bits of SHA-256
 * over its key and value, each with its length first (so a key's end cannot
 * pass for a value's start), as a signed 64-bit integer (a BIGINT column).
 * Kafka identifies a topic's incarnation by its topic ID (KIP-516), which
 * the Kafka client used here does not expose; a record of the log at a known
 * offset tells one log from another as well. Computed once per fetched batch.
 */
export function fingerprintOf(record: Pick<SourceRecord, 'offset' | 'key' | 'value' | 'timestampMs'>): LogFingerprint {
  const h = createHash('sha256');
  for (const part of [record.key, record.value]) {
    const length = Buffer.alloc(4);
    length.writeInt32BE(part === null ? -1 : part.length);
    h.update(length);
    if (part !== null) h.update(part);
  }
  return { offset: record.offset, timestampMs: record.timestampMs, hash: h.digest().readBigInt64BE(0) };
}

/** True when `a` and `b` describe the same record of the same log. Pure. */
export function sameRecord(a: LogFingerprint, b: LogFingerprint): boolean {
  return a.offset === b.offset && a.timestampMs === b.timestampMs && a.hash === b.hash;
}
