import { formatUserBehavior } from './user-behavior-format.js';

/**
 * One `startApp` user-behaviour record of uid `flush` on each partition
 * 0 .. `partitions` - 1 (explicit partitions), at `eventTimeSec` (SECONDS since
 * the epoch): moves every partition's watermark to that time, so every window
 * ending before it closes through event time.
 */
export function flushRecords(
  eventTimeSec: number,
  partitions = 3,
): { key: string; partition: number; value: string }[] {
  const value = formatUserBehavior({ uid: 'flush', phone: '0', eventKey: 'startApp', eventTimeSec });
  return Array.from({ length: partitions }, (_, partition) => ({ key: 'flush', partition, value }));
}
