import { MalformedRecordError } from '../../errors/malformed-record-error.js';
import { UserBehaviorReader } from '../user-behavior/user-behavior-format.js';
import { ABNORMAL_ORDERS_CHANGE_KIND, type AbnormalUserDetectedEvent } from './abnormal-orders-events.js';
import {
  DEFAULT_MAX_EVENT_TIME_AHEAD_MS,
  eventTimeAheadError,
  WindowKeyCounter,
  type CountedWindow,
  type WindowSpec,
} from '../../stream/index.js';
import type { ChangeLogStore } from '../../store/change-log-store.js';
import type { Tx } from '../../store/prisma-client.js';
import { callbackStatusName, type Detection, type UnpaidUserStore } from './unpaid-user-store.js';
import type {
  BatchResult,
  DeadLetter,
  JobDefinition,
  PartitionProcessor,
  SourceRecord,
  WindowStateSize,
} from '../../engine/job.js';
import { guardedEventTime } from '../../engine/job-event-time.js';

/** The event key counted by this job: a user opening the order page. */
export const ENTER_ORDER_PAGE = 'enterOrderPage';

/** Options of {@link createAbnormalOrdersJob}. */
export interface AbnormalOrdersOptions {
  /** Consumer group. @default "abnormal-orders" */
  groupId: string;
  /** Source topic (key = uid). @default "user-behavior" */
  topic: string;
  /** Window size, advance, grace and idle timeout, all in milliseconds (60 s / 30 s / 5 s / 30 s by default). */
  window: WindowSpec;
  /** Largest lead of an event time over its record's Kafka timestamp, milliseconds (MAX_EVENT_TIME_AHEAD_MS). @default 60000 */
  maxEventTimeAheadMs?: number;
  /** Minimum enterOrderPage events in one window. @default 3 */
  threshold: number;
  store: UnpaidUserStore;
  /**
   * The subscriptions' change log: each batch's detections are appended in its
   * transaction. Omitted: no change log (benchmark comparison only, `CHANGE_LOG=off`).
   */
  changeLog?: ChangeLogStore;
  /** Publishes detections (a wake-up for the API processes' change-log tailers); called after commit only. */
  publish: (events: AbnormalUserDetectedEvent[]) => Promise<void> | void;
}

/**
 * Job `abnormal-orders` (users who keep opening the order page without paying): every
 * `advance`, over the last `size` of event time, users with at least
 * `threshold` `enterOrderPage` events in one hopping window who are not in
 * `vip_user` are upserted into `unpayment_record`, emit-final, exactly once;
 * `abnormalUserDetected` fires once per user per detecting window, after commit.
 */
export function createAbnormalOrdersJob(opts: AbnormalOrdersOptions): JobDefinition {
  // Reads outside the processors (repairWatermark) have a reader of their own.
  const eventReader = new UserBehaviorReader();
  return {
    name: 'abnormal-orders',
    groupId: opts.groupId,
    topic: opts.topic,
    results: 'idempotent',
    windowSpec: {
      sizeMs: opts.window.sizeMs,
      advanceMs: opts.window.advanceMs,
      graceMs: opts.window.graceMs,
      settings: ['ABNORMAL_WINDOW_SIZE_MS', 'ABNORMAL_WINDOW_ADVANCE_MS', 'GRACE_MS'],
    },
    // Detections are idempotent upserts, so a replay rewrites them; the rows also hold the
    // CRM team's callback statuses, which are business data: a rebuild keeps them.
    clearResults: () => Promise.resolve(),
    // Every parsed record moves stream time, whatever its event key (see `process`).
    eventTime: guardedEventTime(
      {
        parse: (record) => {
          eventReader.read(record.value);
          return eventReader.eventTimeMs;
        },
        eventTimeMs: (t) => t,
        maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
      },
      opts.window.graceMs,
    ),
    createProcessor: ({ partition, nextOffset, replayFrom, watermarkMs, nowMs }) =>
      new AbnormalOrdersProcessor(
        opts,
        partition,
        // Counts per uid per window with each window's last phone, compact (no object per user):
        // memory follows the users in the open windows; only users at the threshold are handed out.
        new WindowKeyCounter(opts.window, { nextOffset, watermarkMs, replayFrom }, nowMs, opts.threshold),
      ),
  };
}

class AbnormalOrdersProcessor implements PartitionProcessor {
  private peakDistinctKeys = 0;
  private peakLiveKeys = 0;
  /** Strings are made only for the uid and phone of the order-page events this job counts. */
  private readonly reader = new UserBehaviorReader();

  constructor(
    private readonly opts: AbnormalOrdersOptions,
    private readonly partition: number,
    private readonly engine: WindowKeyCounter,
  ) {}

  process(records: readonly SourceRecord[], nowMs: number): BatchResult {
    const deadLetters: DeadLetter[] = [];
    let lateRecords = 0;
    let fresh = 0;
    for (const record of records) {
      const replaying = this.engine.isReplaying(record.offset);
      if (!replaying) fresh++;
      const reader = this.reader;
      try {
        reader.read(record.value);
      } catch (err) {
        if (!(err instanceof MalformedRecordError)) throw err;
        // A malformed record still moves the partition's offset on.
        this.engine.skip(record.offset, nowMs);
        if (!replaying) deadLetters.push({ record, reason: err.reason, detail: err.message });
        continue;
      }
      const eventTimeMs = reader.eventTimeMs;
      const ahead = eventTimeAheadError(
        eventTimeMs,
        record.timestampMs,
        this.opts.maxEventTimeAheadMs ?? DEFAULT_MAX_EVENT_TIME_AHEAD_MS,
      );
      if (ahead) {
        // A wrong clock: it must not move stream time (it would make every real record late).
        this.engine.skip(record.offset, nowMs);
        if (!replaying) deadLetters.push({ record, reason: ahead.reason, detail: ahead.message });
        continue;
      }
      if (!reader.eventKeyIs(ENTER_ORDER_PAGE)) {
        // Every record's event time advances stream time, whatever its event key.
        this.engine.observe({ offset: record.offset, eventTimeMs }, nowMs);
        continue;
      }
      const outcome = this.engine.add(
        { offset: record.offset, eventTimeMs, key: reader.uid(), value: reader.phone() },
        nowMs,
      );
      if (outcome === 'late') {
        lateRecords++;
        deadLetters.push({
          record,
          reason: 'late',
          detail: `event time ${new Date(eventTimeMs).toISOString()} is at or before the watermark ${new Date(this.engine.watermarkMs ?? 0).toISOString()}: every window containing it is final`,
        });
      }
    }
    // The state is largest now, before the batch's windows close.
    this.peakDistinctKeys = Math.max(this.peakDistinctKeys, this.engine.distinctKeyCount);
    this.peakLiveKeys = Math.max(this.peakLiveKeys, this.engine.liveKeyCount);
    return this.close(this.engine.closeDue(nowMs), deadLetters, lateRecords, fresh, nowMs);
  }

  tick(nowMs: number): BatchResult | null {
    const before = this.engine.watermarkMs;
    const closed = this.engine.closeDue(nowMs);
    if (closed.length === 0 && this.engine.watermarkMs === before) return null;
    return this.close(closed, [], 0, 0, nowMs);
  }

  position() {
    return {
      nextOffset: this.engine.nextOffset,
      replayFrom: this.engine.replayFrom,
      watermarkMs: this.engine.watermarkMs,
    };
  }

  windowState(): WindowStateSize {
    return {
      distinctKeys: this.engine.distinctKeyCount,
      liveKeys: this.engine.liveKeyCount,
      peakDistinctKeys: this.peakDistinctKeys,
      peakLiveKeys: this.peakLiveKeys,
    };
  }

  private close(
    closed: CountedWindow[],
    deadLetters: DeadLetter[],
    lateRecords: number,
    records: number,
    nowMs: number,
  ): BatchResult {
    const candidates: Detection[] = [];
    for (const { window, entries } of closed) {
      // The counter hands out only the users that reached the threshold.
      for (const { key, count, value } of entries) {
        candidates.push({
          uid: key,
          phone: value,
          enterOrderCount: count,
          windowStartMs: window.start,
          windowEndMs: window.end,
        });
      }
    }
    if (candidates.length === 0) return { deadLetters, lateRecords, records };
    // Windows close in order of their end, and each closing moves the watermark on: the
    // position this commit writes is after every earlier commit's of this partition.
    const batchOffset = this.engine.nextOffset;
    const batchWatermarkMs = this.engine.watermarkMs;
    // Ordered by window end, then uid: the same batch replayed logs the same sequence.
    candidates.sort((a, b) => a.windowEndMs - b.windowEndMs || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
    return {
      deadLetters,
      lateRecords,
      records,
      closedAtMs: nowMs,
      ...detectionWrites(this.opts, [{ partition: this.partition, batchOffset, batchWatermarkMs, candidates }]),
    };
  }
}

/** The candidates of one closing of one partition's windows, with the position its commit writes. */
interface DetectionPart {
  partition: number;
  batchOffset: bigint;
  batchWatermarkMs: number | null;
  /** Ordered by window end, then uid. */
  candidates: readonly Detection[];
}

/** The parts of each result's write, by its `write` function, with the job's options (one job's results combine). */
const pendingDetections = new WeakMap<object, { opts: AbnormalOrdersOptions; parts: readonly DetectionPart[] }>();

/**
 * The write and post-commit work of `parts` (of one partition or several,
 * in commit order): ONE VIP lookup, ONE upsert and ONE change-log statement
 * for all of them (the upsert is order-independent: the later window end
 * wins), each part's detections logged under its own partition and batch
 * position. Combines with a later result of the same job.
 */
function detectionWrites(
  opts: AbnormalOrdersOptions,
  parts: readonly DetectionPart[],
): Pick<BatchResult, 'write' | 'afterCommit' | 'combineWrites'> {
  let events: AbnormalUserDetectedEvent[][] = [];
  const write = async (tx: Tx) => {
    const vips = await opts.store.findVips(tx, [...new Set(parts.flatMap((p) => p.candidates.map((c) => c.uid)))]);
    const detected = parts.map((p) => p.candidates.filter((c) => !vips.has(c.uid)));
    const all = detected.flat();
    await opts.store.upsertDetections(tx, all);
    // The status each user was detected under (the rows are locked by the upsert): a detection after a
    // CRM set one is a re-detection, marked in the change log.
    const statuses =
      opts.changeLog && all.length > 0
        ? await opts.store.statusesOf(tx, [...new Set(all.map((d) => d.uid))])
        : new Map<string, number | null>();
    events = detected.map((ds) => ds.map((d) => toEvent(d, statuses.get(d.uid) ?? null)));
    if (opts.changeLog && all.length > 0) {
      await opts.changeLog.appendMany(
        tx,
        parts
          .map((p, i) => ({
            batch: {
              stream: opts.groupId,
              topic: opts.topic,
              partition: p.partition,
              batchOffset: p.batchOffset,
              batchWatermarkMs: p.batchWatermarkMs,
            },
            entries: events[i].map((payload) => ({ kind: ABNORMAL_ORDERS_CHANGE_KIND.abnormalUserDetected, payload })),
          }))
          .filter((b) => b.entries.length > 0),
      );
    }
  };
  pendingDetections.set(write, { opts, parts });
  return {
    write,
    afterCommit: () => opts.publish(events.flat()),
    combineWrites: (later) => {
      const next = later.write ? pendingDetections.get(later.write) : undefined;
      if (next?.opts !== opts) return undefined;
      return detectionWrites(opts, parts.concat(next.parts));
    },
  };
}

/**
 * A detection as subscribers receive it (and as the change log stores it).
 * @param status the user's callback status code when detected (NULL: never set by a CRM).
 */
function toEvent(d: Detection, status: number | null): AbnormalUserDetectedEvent {
  return {
    uid: d.uid,
    phone: d.phone,
    enterOrderCount: d.enterOrderCount,
    windowStart: new Date(d.windowStartMs).toISOString(),
    windowEnd: new Date(d.windowEndMs).toISOString(),
    ...(status === null ? {} : { callbackStatus: callbackStatusName(status) }),
  };
}
