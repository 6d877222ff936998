import { CLICK_ACTION, parseProductClick, type ProductClickEvent } from './product-click-format.js';
import { compareIds } from './hot-ranking.js';
import { MINUTE_MS } from '../../domain/time-units.js';
import type { ClickBatch, HotProductStore, MinuteActions, MinuteClicks, TotalClicks } from './hot-product-store.js';
import { AdditiveProcessor, type AdditiveHandler } from '../../engine/additive-processor.js';
import type { JobDefinition } from '../../engine/job.js';
import { guardedEventTime } from '../../engine/job-event-time.js';

/** Options of {@link createHotProductsJob}. */
export interface HotProductsOptions {
  /** Consumer group. @default "hot-products" */
  groupId: string;
  /** Source topic (any key). @default "product-clicks" */
  topic: string;
  /** Grace period of the watermark, milliseconds. @default 5000 */
  graceMs: number;
  /** Largest lead of an event time over its record's Kafka timestamp, milliseconds (MAX_EVENT_TIME_AHEAD_MS). @default 60000 */
  maxEventTimeAheadMs?: number;
  /**
   * Wall-clock silence after which a partition's watermark follows wall-clock
   * time, milliseconds, so a quiet partition cannot hold the 5-minute
   * boundaries back. @default 60000 // the 1-minute window
   */
  idleTimeoutMs: number;
  store: HotProductStore;
  /** Asked to check for a due ranking boundary after every commit; null: no subscription events. */
  emitter: { poke(): void } | null;
}

interface ProductAgg {
  clicks: number;
  lastClickMs: number;
  category: string | null;
  categoryAtMs: number | null;
  /** Clicks per minute start (epoch ms), without the open run below. */
  minutes: Map<number, number>;
  /** Minute start (epoch ms) of the run of clicks being counted, and its clicks so far. */
  runMinuteMs: number;
  runClicks: number;
}

interface OtherActionsAgg {
  /** Per minute start (epoch ms): the rows by action. */
  minutes: Map<number, Map<string, MinuteActions>>;
  /** The rows of the minute met last, and that minute (epoch ms). */
  lastMinuteMs: number;
  lastRows: Map<string, MinuteActions>;
}

/** Adds a product's open run of clicks to its minutes. */
function closeRun(agg: ProductAgg): void {
  agg.minutes.set(agg.runMinuteMs, (agg.minutes.get(agg.runMinuteMs) ?? 0) + agg.runClicks);
}

/**
 * Folds one batch of click-stream events into the rows the batch adds, sorted
 * by primary key (the store's lock order): clicks per product per 1-minute
 * tumbling window, other actions per product, minute and action, and per
 * product its clicks, latest click time and the category of its latest click
 * that carried one (ties at one millisecond: the greatest name, so the result
 * does not depend on record order). Pure.
 */
export function aggregateClicks(events: readonly ProductClickEvent[]): ClickBatch {
  const products = new Map<string, ProductAgg>();
  let others: Map<string, OtherActionsAgg> | null = null;
  for (const e of events) {
    const t = e.eventTimeMs;
    // Event times are >= 1e11 (the parser checks), so % is a floor here.
    const minute = t - (t % MINUTE_MS);
    if (e.action !== CLICK_ACTION) {
      others ??= new Map();
      let other = others.get(e.productId);
      if (other === undefined) {
        other = { minutes: new Map(), lastMinuteMs: minute, lastRows: new Map() };
        other.minutes.set(minute, other.lastRows);
        others.set(e.productId, other);
      } else if (other.lastMinuteMs !== minute) {
        let rows = other.minutes.get(minute);
        if (rows === undefined) other.minutes.set(minute, (rows = new Map<string, MinuteActions>()));
        other.lastMinuteMs = minute;
        other.lastRows = rows;
      }
      const row = other.lastRows.get(e.action);
      if (row) row.events++;
      else other.lastRows.set(e.action, { productId: e.productId, minuteMs: minute, action: e.action, events: 1 });
      continue;
    }
    let agg = products.get(e.productId);
    if (agg === undefined) {
      agg = {
        clicks: 0,
        lastClickMs: t,
        category: null,
        categoryAtMs: null,
        minutes: new Map(),
        runMinuteMs: minute,
        runClicks: 0,
      };
      products.set(e.productId, agg);
    } else if (agg.runMinuteMs !== minute) {
      // Records come mostly in event-time order: a product's clicks fall in long runs of one
      // minute, counted in the aggregate itself; only a change of minute touches the map.
      closeRun(agg);
      agg.runMinuteMs = minute;
      agg.runClicks = 0;
    }
    agg.runClicks++;
    agg.clicks++;
    if (t > agg.lastClickMs) agg.lastClickMs = t;
    const c = e.category;
    if (
      c !== null &&
      (agg.categoryAtMs === null ||
        t > agg.categoryAtMs ||
        (t === agg.categoryAtMs && agg.category !== null && c > agg.category))
    ) {
      agg.category = c;
      agg.categoryAtMs = t;
    }
  }

  const ids = [...products.keys()].sort(compareIds);
  const minutes: MinuteClicks[] = [];
  const totals: TotalClicks[] = new Array<TotalClicks>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const productId = ids[i];
    const agg = products.get(productId);
    if (agg === undefined) throw new Error(`no aggregate for product ${productId}`);
    if (agg.minutes.size === 0) {
      minutes.push({ productId, minuteMs: agg.runMinuteMs, clicks: agg.runClicks });
    } else {
      closeRun(agg);
      for (const [minuteMs, clicks] of [...agg.minutes].sort(([a], [b]) => a - b))
        minutes.push({ productId, minuteMs, clicks });
    }
    totals[i] = {
      productId,
      clicks: agg.clicks,
      lastClickMs: agg.lastClickMs,
      category: agg.category,
      categoryAtMs: agg.categoryAtMs,
    };
  }
  const actions: MinuteActions[] = [];
  if (others !== null) {
    for (const productId of [...others.keys()].sort(compareIds)) {
      const other = others.get(productId);
      if (other === undefined) throw new Error(`no other actions for product ${productId}`);
      const byMinute = other.minutes.size === 1 ? [...other.minutes] : [...other.minutes].sort(([a], [b]) => a - b);
      for (const [, rows] of byMinute) {
        if (rows.size === 1) for (const row of rows.values()) actions.push(row);
        else actions.push(...[...rows.values()].sort((a, b) => compareIds(a.action, b.action)));
      }
    }
  }
  return { minutes, actions, totals };
}

/**
 * Job `hot-products` (one consumer group on `product-clicks`): clicks per product
 * per 1-minute tumbling window of event time and a running total per
 * product, additive in the batch transaction (emit-changes: live within a
 * second, a click of any age lands in its own minute); other actions are
 * counted per product and minute but do not rank. The rankings are read at
 * query time; `hotProductsUpdated` is published by {@link HotProductsEmitter}
 * from the job's watermark, which idle partitions advance with wall-clock time.
 */
export function createHotProductsJob(opts: HotProductsOptions): JobDefinition {
  const handler: AdditiveHandler<ProductClickEvent> = {
    parse: (record) => parseProductClick(record.value),
    eventTimeMs: (event) => event.eventTimeMs,
    maxEventTimeAheadMs: opts.maxEventTimeAheadMs,
    // Additive sums, GREATEST of times, latest category: one aggregate over two batches writes what both would.
    aggregatesAcrossBatches: true,
    aggregate: (parts) => {
      const batch = aggregateClicks(parts.flatMap((p) => p.events));
      // The rows of one partition of the transaction (the lowest): it holds that partition's row
      // locked, so no other transaction writes them at the same time (reads sum a product's rows).
      const owner = Math.min(...parts.map((p) => p.partition));
      return {
        write: (tx) => opts.store.addBatch(tx, owner, batch),
        afterCommit: opts.emitter ? () => opts.emitter?.poke() : undefined,
      };
    },
    onIdleAdvance: () => ({ afterCommit: opts.emitter ? () => opts.emitter?.poke() : undefined }),
  };
  return {
    name: 'hot-products',
    groupId: opts.groupId,
    topic: opts.topic,
    results: 'additive',
    // No row two transactions write at once: the per-product rows are per partition, and each
    // transaction adds to those of a partition it holds.
    clearResults: (tx) => opts.store.clear(tx, opts.groupId),
    eventTime: guardedEventTime(handler, opts.graceMs),
    createProcessor: ({ partition, nextOffset, watermarkMs, nowMs }) =>
      new AdditiveProcessor(handler, partition, { nextOffset, watermarkMs }, opts.graceMs, {
        idleTimeoutMs: opts.idleTimeoutMs,
        nowMs,
      }),
  };
}
