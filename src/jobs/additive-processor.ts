import { MalformedRecordError } from '../errors/malformed-record-error.js';
import type { BatchResult, DeadLetter, JobPosition, PartitionProcessor, SourceRecord } from './job.js';

/** What an additive job does with the parsed records of one batch. */
export interface AdditiveHandler<E> {
  /**
   * Parses one record.
   * @throws {MalformedRecordError} for a bad record: it is dead-lettered with the error's reason.
   */
  parse(record: SourceRecord): E;
  /** Event time of a parsed record, epoch milliseconds. */
  eventTimeMs(event: E): number;
  /**
   * Folds the batch's events into additive upserts (`write`, inside the batch
   * transaction) and post-commit work (`afterCommit`). Called once per batch
   * with at least one event.
   */
  aggregate(events: readonly E[], ctx: { partition: number; watermarkMs: number | null }): Pick<BatchResult, 'write' | 'afterCommit'>;
}

/**
 * The partition processor of an additive job (ARCHITECTURE.md, "Time and
 * windows"): counts, sums and distinct-inserts need no window state, so each
 * batch adds its contribution inside the batch transaction (emit-changes), a
 * record of any age lands in its own bucket, nothing is late, and
 * `replayFrom` always equals `nextOffset`: after a crash nothing is replayed
 * and nothing is counted twice. The watermark (max event time - grace) is kept
 * for jobs that emit at event-time boundaries.
 */
export class AdditiveProcessor<E> implements PartitionProcessor {
  private next: bigint;
  private maxEventTimeMs: number | null;

  constructor(
    private readonly handler: AdditiveHandler<E>,
    private readonly partition: number,
    restored: { nextOffset: bigint; watermarkMs: number | null },
    private readonly graceMs: number,
  ) {
    this.next = restored.nextOffset;
    this.maxEventTimeMs = restored.watermarkMs === null ? null : restored.watermarkMs + graceMs;
  }

  process(records: readonly SourceRecord[]): BatchResult {
    const events: E[] = [];
    const deadLetters: DeadLetter[] = [];
    let fresh = 0;
    for (const record of records) {
      // Already committed: counting it again would double it.
      if (record.offset < this.next) continue;
      this.next = record.offset + 1n;
      fresh++;
      let event: E;
      try {
        event = this.handler.parse(record);
      } catch (err) {
        if (!(err instanceof MalformedRecordError)) throw err;
        deadLetters.push({ record, reason: err.reason, detail: err.message });
        continue;
      }
      const t = this.handler.eventTimeMs(event);
      if (this.maxEventTimeMs === null || t > this.maxEventTimeMs) this.maxEventTimeMs = t;
      events.push(event);
    }
    const out = events.length > 0 ? this.handler.aggregate(events, { partition: this.partition, watermarkMs: this.watermarkMs }) : {};
    return { ...out, deadLetters, lateRecords: 0, records: fresh };
  }

  tick(): BatchResult | null {
    return null;
  }

  position(): JobPosition {
    return { nextOffset: this.next, replayFrom: this.next, watermarkMs: this.watermarkMs };
  }

  private get watermarkMs(): number | null {
    return this.maxEventTimeMs === null ? null : this.maxEventTimeMs - this.graceMs;
  }
}
