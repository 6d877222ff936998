import type { WindowSpec } from './window-spec.js';

/**
 * A time window `[start, end)` in epoch milliseconds: `start` inclusive,
 * `end` exclusive (Kafka Streams `TimeWindow`, Flink `TimeWindow`).
 */
export interface TimeWindow {
  /** Epoch ms, inclusive. A multiple of the spec's `advanceMs`. */
  readonly start: number;
  /** Epoch ms, exclusive: `start + sizeMs`. */
  readonly end: number;
}

/**
 * Start (epoch ms) of the latest epoch-aligned window containing
 * `eventTimeMs`: the largest multiple of `advanceMs` that is `<= eventTimeMs`.
 *
 * Uses the remainder rather than `Math.floor(t / advance)` so the result is
 * exact integer arithmetic for any safe-integer time, and floors (not
 * truncates) for negative times.
 */
export function latestWindowStart(eventTimeMs: number, advanceMs: number): number {
  const r = eventTimeMs % advanceMs;
  // `%` keeps the dividend's sign; `+ 0` turns a `-0` (from `t = -0`) into `0`.
  return eventTimeMs - (r < 0 ? r + advanceMs : r) + 0;
}

/**
 * Every hopping window an event at `eventTimeMs` (epoch ms) belongs to: the
 * windows whose start is a multiple of `advanceMs` in
 * `(eventTimeMs - sizeMs, eventTimeMs]`, i.e. exactly `sizeMs / advanceMs`
 * windows, ascending by start. With `advanceMs === sizeMs` (tumbling) that
 * is the single window containing the event.
 *
 * This is Flink's `SlidingEventTimeWindows` assignment (and Kafka Streams'
 * `TimeWindows.windowsFor`, except that Kafka Streams drops windows that
 * would start before the epoch: here an event at `t = 0` with size 60 s /
 * advance 30 s belongs to `[-30000, 30000)` and `[0, 60000)`, so every event
 * is counted in the same number of windows).
 *
 * `spec` must have passed `validateWindowSpec`. Allocates; the engine's hot
 * path computes the same starts in a loop instead.
 */
export function windowsFor(eventTimeMs: number, spec: Pick<WindowSpec, 'sizeMs' | 'advanceMs'>): TimeWindow[] {
  const { sizeMs, advanceMs } = spec;
  const last = latestWindowStart(eventTimeMs, advanceMs);
  const windows: TimeWindow[] = [];
  for (let start = last - sizeMs + advanceMs; start <= last; start += advanceMs) {
    windows.push({ start, end: start + sizeMs });
  }
  return windows;
}
