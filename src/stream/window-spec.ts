import { InvalidWindowSpecError } from '../errors/invalid-window-spec-error.js';

/**
 * Shape of the hopping windows of one job, every value in milliseconds.
 *
 * Same meaning as Kafka Streams `TimeWindows.ofSizeAndGrace(size, grace)
 * .advanceBy(advance)` plus Flink's `WatermarkStrategy.withIdleness(idleTimeout)`.
 */
export interface WindowSpec {
  /** Length of each window, ms. A positive multiple of `advanceMs`. */
  sizeMs: number;
  /** Distance between consecutive window starts, ms. Equal to `sizeMs` for tumbling windows. */
  advanceMs: number;
  /** How far behind the partition's max event time the watermark trails, ms (>= 0). */
  graceMs: number;
  /** Wall-clock silence after which a partition's watermark moves on with wall-clock time, ms (> 0). */
  idleTimeoutMs: number;
}

function describe(value: unknown): string {
  return typeof value === 'number'
    ? String(value)
    : `${typeof value} ${(JSON.stringify(value) as string | undefined) ?? String(value)}`;
}

/**
 * Checks a window spec and returns a frozen copy of it.
 *
 * Every field must be a safe integer number of milliseconds; `advanceMs > 0`,
 * `sizeMs` a positive multiple of `advanceMs` (so every event falls into
 * exactly `sizeMs / advanceMs` epoch-aligned windows), `graceMs >= 0`,
 * `idleTimeoutMs > 0`.
 *
 * @throws {InvalidWindowSpecError} (`WINDOW_SPEC_INVALID`) naming the first
 *   offending option, e.g. "sizeMs must be a positive multiple of advanceMs ...".
 */
export function validateWindowSpec(spec: WindowSpec): WindowSpec {
  const { sizeMs, advanceMs, graceMs, idleTimeoutMs } = spec;
  if (!Number.isSafeInteger(advanceMs) || advanceMs <= 0) {
    throw new InvalidWindowSpecError(
      'advanceMs',
      `advanceMs must be a positive integer number of milliseconds, got ${describe(advanceMs)}`,
    );
  }
  if (!Number.isSafeInteger(sizeMs) || sizeMs <= 0 || sizeMs % advanceMs !== 0) {
    throw new InvalidWindowSpecError(
      'sizeMs',
      `sizeMs must be a positive multiple of advanceMs (${advanceMs} ms), got ${describe(sizeMs)}`,
    );
  }
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
    throw new InvalidWindowSpecError(
      'graceMs',
      `graceMs must be an integer number of milliseconds >= 0, got ${describe(graceMs)}`,
    );
  }
  if (!Number.isSafeInteger(idleTimeoutMs) || idleTimeoutMs <= 0) {
    throw new InvalidWindowSpecError(
      'idleTimeoutMs',
      `idleTimeoutMs must be a positive integer number of milliseconds, got ${describe(idleTimeoutMs)}`,
    );
  }
  return Object.freeze({ sizeMs, advanceMs, graceMs, idleTimeoutMs });
}

/**
 * The part of a job's window specification its stored position depends on,
 * every value in milliseconds; null where the job has no such setting (only
 * hopping-window jobs have a size and an advance) or nothing was recorded.
 * The idle timeout is not part of it: it moves the watermark on with wall
 * time and never changes which records a window holds.
 */
export interface PositionWindowSpec {
  sizeMs: number | null;
  advanceMs: number | null;
  graceMs: number | null;
  /** The variables that set it, named when a changed specification is refused; omitted: none named. */
  settings?: readonly string[];
}

const SPEC_FIELDS = [
  ['sizeMs', 'size'],
  ['advanceMs', 'advance'],
  ['graceMs', 'grace'],
] as const;

/**
 * How `configured` differs from the `stored` specification a partition's
 * position was computed under, one `"size 60000 -> 120000 ms"` part per
 * changed field, in the order size, advance, grace. A field is compared only
 * when it was stored (a null stored value is a position recorded before the
 * specification was kept, or of a job without that setting).
 * @returns the changes; empty when the position is valid under `configured`.
 */
export function windowSpecChanges(stored: PositionWindowSpec, configured: PositionWindowSpec): string[] {
  const changes: string[] = [];
  for (const [field, label] of SPEC_FIELDS) {
    const was = stored[field];
    const now = configured[field];
    if (was === null || was === now) continue;
    changes.push(`${label} ${was} -> ${now ?? 'none'} ms`);
  }
  return changes;
}
