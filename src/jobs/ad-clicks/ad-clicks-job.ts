import { AdditiveProcessor, type AdditiveHandler } from '../../engine/additive-processor.js';
import type { JobDefinition } from '../../engine/job.js';
import { guardedEventTime } from '../../engine/job-event-time.js';
import type { ChangeLogStore } from '../../store/change-log-store.js';
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
  /** After a commit that changed ad minutes: wakes the API processes' tailers. */
  publish: () => void;
}

/**
 * Job `ad-clicks` (one consumer group on `ad-clicks`): clicks per ad per
 * 1-minute tumbling window of event time, additive in the batch transaction;
 * a click whose user or IP is on `ad_blacklist`, as the transaction reads it,
 * is counted apart as blocked (by user first, else by IP). Every (ad, minute)
 * a batch changed is appended to the change log with its values after the
 * commit (read back under the transaction's row locks).
 */
export function createAdClicksJob(opts: AdClicksOptions): JobDefinition {
  const handler: AdditiveHandler<AdClickEvent> = {
    parse: (record) => parseAdClick(record.value),
    eventTimeMs: (event) => event.eventTimeMs,
    maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
    // Additive sums keyed by (ad, minute): one aggregate over several batches writes what they would in turn.
    aggregatesAcrossBatches: true,
    aggregate: (parts) => {
      const groups = groupAdClicks(parts.flatMap((p) => p.events));
      let changed = false;
      return {
        write: async (tx) => {
          changed = false;
          await opts.store.addBatch(tx, groups);
          changed = groups.length > 0;
          if (!opts.changeLog) return;
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
    // Every partition adds to the (ad, minute) rows.
    sharedRows: true,
    clearResults: (tx) => opts.store.clear(tx),
    eventTime: guardedEventTime(handler, opts.graceMs),
    createProcessor: ({ partition, nextOffset, watermarkMs }) =>
      new AdditiveProcessor(handler, partition, { nextOffset, watermarkMs }, opts.graceMs),
  };
}
