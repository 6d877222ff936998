/**
 * The watermark of a partition whose largest event time is `maxEventTimeMs`
 * (epoch MILLISECONDS): that time minus the grace period `graceMs`
 * (MILLISECONDS), Kafka Streams' and Flink's bounded out-of-orderness. The one
 * formula of the window engines' clock, the additive processors and the
 * operators' watermark repair, so the three always agree.
 * @returns epoch milliseconds.
 */
export function watermarkOf(maxEventTimeMs: number, graceMs: number): number {
  return maxEventTimeMs - graceMs;
}
