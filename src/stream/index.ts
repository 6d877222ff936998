export { validateWindowSpec, windowSpecChanges, type PositionWindowSpec, type WindowSpec } from './window-spec.js';
export { latestWindowStart, windowsFor, type TimeWindow } from './hopping-windows.js';
export type { RestoredPartitionState } from './partition-clock.js';
export {
  WindowKeyCounter,
  decimalCode,
  type AddOutcome,
  type CountedEntry,
  type CountedRecord,
  type CountedWindow,
} from './window-key-counter.js';
// The errors this module throws, so callers can `instanceof` them from one import.
export { InvalidWindowSpecError } from '../errors/invalid-window-spec-error.js';
export { WindowEngineInputError } from '../errors/window-engine-input-error.js';
export {
  DEFAULT_MAX_EVENT_TIME_AHEAD_MS,
  EVENT_TIME_AHEAD,
  EVENT_TIME_UNIT,
  eventTimeAheadError,
} from './event-time-guard.js';
export { EventTimeScan } from './event-time-scan.js';
export { watermarkOf } from './watermark.js';
