import { AdditiveProcessor, type AdditiveHandler } from '../../engine/additive-processor.js';
import type { JobDefinition } from '../../engine/job.js';
import { guardedEventTime } from '../../engine/job-event-time.js';
import type { ChangeLogStore } from '../../store/change-log-store.js';
import type { CommitOrderStore } from '../../store/commit-order-store.js';
import { adMinuteKeys, groupAdClicks } from './ad-click-aggregation.js';
import { parseAdClick, type AdClickEvent } from './ad-click-format.js';
import type { AdClickStore } from './ad-click-store.js';
import { AD_CLICKS_CHANGE_KIND, type AdClicksChangedPayload } from './ad-clicks-events.js';

/** Options of {@link createAdClicksJob}. */
export interface AdClicksOptions {
  /** Consumer group (also the change-log stream). @default "ad-clicks" */
  groupId: string;
  /** Source topic (any key). @default "ad-clicks" */
  topic: string;
  /** Grace period of the watermark, milliseconds; the job emits at no boundary, so it only shapes the stored watermark. @default 5000 */
  graceMs: number;
  /** Largest lead of an event time over its record's Kafka timestamp, milliseconds (MAX_EVENT_TIME_AHEAD_MS). @default 60000 */
  maxEventTimeAheadMs?: number;
  store: AdClickStore;
  /** The change log `adClicksUpdated` reads; undefined: none written (CHANGE_LOG=off). */
  changeLog?: ChangeLogStore;
  /**
   * The group's ordering row, taken before the totals the change log carries
   * are read: required with `changeLog` (the totals would otherwise miss a
   * concurrent commit's part).
   */
  commitOrder?: CommitOrderStore;
  /** After a commit that changed ad minutes: wakes the API processes' tailers. */
  publish: () => void;
}

/**
 * Job `ad-clicks` (one consumer group on `ad-clicks`): clicks per ad per
 * 1-minute tumbling window of event time, additive in the batch transaction;
 * a click whose user or IP is on `ad_blacklist`, as the transaction reads it,
 * is counted apart as blocked (by user first, else by IP). Every (ad, minute)
 * a batch changed is appended to the change log with its totals after the
 * commit.
 *
 * Rows are partition-local (a row per ad, minute and partition; a
 * transaction adds to those of the lowest partition it carries), so the
 * workers' transactions never write the same row. The totals the change log
 * carries are summed after the group's ordering row (`commitOrder`), taken
 * last: they follow the commit order, each the total after its commit.
 * @throws {Error} at creation, when `changeLog` is given without `commitOrder`.
 */
export function createAdClicksJob(opts: AdClicksOptions): JobDefinition {
  if (opts.changeLog && !opts.commitOrder)
    throw new Error('ad-clicks: a change log needs the ordering row (commitOrder) its totals are read after');
  const handler: AdditiveHandler<AdClickEvent> = {
    parse: (record) => parseAdClick(record.value),
    eventTimeMs: (event) => event.eventTimeMs,
    maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
    // Additive sums keyed by (ad, minute): one aggregate over several batches writes what they would in turn.
    aggregatesAcrossBatches: true,
    aggregate: (parts) => {
      const groups = groupAdClicks(parts.flatMap((p) => p.events));
      // The rows of the lowest partition carried: its consumer_offset row is locked by this transaction.
      const owner = Math.min(...parts.map((p) => p.partition));
      let changed = false;
      return {
        write: async (tx) => {
          changed = false;
          await opts.store.addBatch(tx, owner, groups);
          changed = groups.length > 0;
          if (!opts.changeLog || !opts.commitOrder || !changed) return;
          // Last before the totals: every earlier commit of the group is in them, no later one before this.
          await opts.commitOrder.take(tx, opts.groupId);
          const values = await opts.store.readBack(tx, adMinuteKeys(groups));
          const byKey = new Map(values.map((v) => [`${v.adId}|${v.minuteMs}`, v]));
          // Each partition logs the (ad, minute) keys its clicks touched, in key order: a replayed batch logs the same sequence.
          await opts.changeLog.appendMany(
            tx,
            parts.map((part) => ({
              batch: {
                stream: opts.groupId,
                topic: opts.topic,
                partition: part.partition,
                batchOffset: part.nextOffset,
                batchWatermarkMs: part.watermarkMs,
              },
              entries: adMinuteKeys(groupAdClicks(part.events)).flatMap((key) => {
                const v = byKey.get(key);
                if (v === undefined) return [];
                const payload: AdClicksChangedPayload = {
                  adId: v.adId,
                  minute: new Date(v.minuteMs).toISOString(),
                  clicks: v.clicks,
                  blockedByUser: v.blockedByUser,
                  blockedByIp: v.blockedByIp,
                };
                return [{ kind: AD_CLICKS_CHANGE_KIND.adMinuteChanged, payload }];
              }),
            })),
          );
        },
        afterCommit: () => {
          if (changed) opts.publish();
        },
      };
    },
  };
  return {
    name: 'ad-clicks',
    groupId: opts.groupId,
    topic: opts.topic,
    results: 'additive',
    clearResults: (tx) => opts.store.clear(tx),
    eventTime: guardedEventTime(handler, opts.graceMs),
    createProcessor: ({ partition, nextOffset, watermarkMs }) =>
      new AdditiveProcessor(handler, partition, { nextOffset, watermarkMs }, opts.graceMs),
  };
}
