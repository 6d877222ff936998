import { UserBehaviorReader } from '../user-behavior/user-behavior-format.js';
import type { ZonedCalendar } from '../../domain/zoned-calendar.js';
import type { DailyActiveUserStore, DayUsers, FirstDay } from './daily-active-user-store.js';
import { AdditiveProcessor, type AdditiveHandler } from '../../engine/additive-processor.js';
import type { JobDefinition } from '../../engine/job.js';
import { guardedEventTime } from '../../engine/job-event-time.js';

/** Options of {@link createDailyActiveUsersJob}. */
export interface DailyActiveUsersOptions {
  /** Consumer group. @default "daily-active-users" */
  groupId: string;
  /** Source topic. @default "user-behavior" */
  topic: string;
  /** Grace period of the (informational) watermark, milliseconds. @default 5000 */
  graceMs: number;
  /** Largest lead of an event time over its record's Kafka timestamp, milliseconds (MAX_EVENT_TIME_AHEAD_MS). @default 60000 */
  maxEventTimeAheadMs?: number;
  /** Calendar days of TIME_ZONE (Asia/Shanghai by default). */
  calendar: ZonedCalendar;
  store: DailyActiveUserStore;
}

interface UserEvent {
  uid: string;
  eventTimeMs: number;
}

/** Every zone offset is a multiple of 15 minutes: the local date is constant within a quarter hour. */
const QUARTER_HOUR_MS = 900_000;

/**
 * `calendar.dateOf` memoised per quarter hour of UTC: a batch spans a few
 * quarter hours, so the date of almost every event is one map lookup.
 */
export function memoizedDateOf(calendar: Pick<ZonedCalendar, 'dateOf'>): (epochMs: number) => string {
  const cache = new Map<number, string>();
  return (epochMs) => {
    const q = Math.floor(epochMs / QUARTER_HOUR_MS);
    let date = cache.get(q);
    if (date === undefined) {
      if (cache.size > 10_000) cache.clear();
      date = calendar.dateOf(q * QUARTER_HOUR_MS);
      cache.set(q, date);
    }
    return date;
  };
}

/**
 * De-duplicates one batch in memory (producers send duplicates, at least once):
 * the distinct uids of each local day, days ascending and uids sorted, and
 * each uid's earliest day in the batch, sorted by uid (the store's lock
 * order). Pure.
 */
export function aggregateDailyUsers(
  events: readonly UserEvent[],
  dateOf: (epochMs: number) => string,
): { days: DayUsers[]; firstDays: FirstDay[] } {
  const byDay = new Map<string, Set<string>>();
  const first = new Map<string, string>();
  for (const e of events) {
    const day = dateOf(e.eventTimeMs);
    let users = byDay.get(day);
    if (users === undefined) byDay.set(day, (users = new Set()));
    users.add(e.uid);
    const seen = first.get(e.uid);
    if (seen === undefined || day < seen) first.set(e.uid, day);
  }
  const days = [...byDay]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([day, uids]) => ({ day, uids: [...uids].sort(byCodeUnit) }));
  const firstDays = [...first].sort(([a], [b]) => byCodeUnit(a, b)).map(([uid, day]) => ({ uid, day }));
  return { days, firstDays };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Job `daily-active-users` (one consumer group on `user-behavior`): exact distinct
 * uids per calendar day of TIME_ZONE and the new users of each day (first day
 * ever seen), from `user-behavior` (any event key). Additive-processor
 * bookkeeping with idempotent writes (INSERT IGNORE, LEAST): replaying
 * records, even a whole day, changes nothing, so the job may be rewound freely.
 */
export function createDailyActiveUsersJob(opts: DailyActiveUsersOptions): JobDefinition {
  const dateOf = memoizedDateOf(opts.calendar);
  // Processors run one batch at a time, synchronously: one reader serves every partition.
  const reader = new UserBehaviorReader();
  const eventReader = new UserBehaviorReader();
  const handler: AdditiveHandler<UserEvent> = {
    // Only the uid becomes a string: the job needs no other field.
    parse: (record) => {
      reader.read(record.value);
      return { uid: reader.uid(), eventTimeMs: reader.eventTimeMs };
    },
    eventTimeMs: (event) => event.eventTimeMs,
    maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
    // INSERT IGNORE / LEAST and added counts: one aggregate over two batches writes what both would.
    aggregatesAcrossBatches: true,
    aggregate: (parts) => {
      const { days, firstDays } = aggregateDailyUsers(
        parts.flatMap((p) => p.events),
        dateOf,
      );
      // The users new on a day go to the count rows of one partition of the transaction (the lowest):
      // it holds that partition's row locked, so no other transaction writes them at the same time.
      const owner = Math.min(...parts.map((p) => p.partition));
      return { write: (tx) => opts.store.addBatch(tx, owner, days, firstDays) };
    },
  };
  return {
    name: 'daily-active-users',
    groupId: opts.groupId,
    topic: opts.topic,
    results: 'idempotent',
    // No row two transactions write at once: the day counts are per partition (each transaction adds
    // to those of a partition it holds), and a user's rows belong to the partition the producers key
    // the user to.
    clearResults: (tx) => opts.store.clear(tx),
    eventTime: guardedEventTime(
      {
        // A reader of its own: reads outside the processors (repairWatermark) never share one's state.
        parse: (record) => {
          eventReader.read(record.value);
          return eventReader.eventTimeMs;
        },
        eventTimeMs: (t) => t,
        maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
      },
      opts.graceMs,
    ),
    createProcessor: ({ partition, nextOffset, watermarkMs }) =>
      new AdditiveProcessor(handler, partition, { nextOffset, watermarkMs }, opts.graceMs),
  };
}
