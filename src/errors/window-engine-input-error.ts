import { AppError } from './app-error.js';

/**
 * Input that breaks an invariant of the windowing engine: an offset that does
 * not move forward within a partition, a time that is not a finite number, or
 * a restored state that cannot be right. Always a programming error in the
 * caller (wrong seek, wrong partition, unparsed timestamp), never a property
 * of the data: bad records are filtered out before they reach the engine.
 * Accepting such input silently would double-count or corrupt the
 * exactly-once bookkeeping, so the engine refuses it.
 *
 * Code: `WINDOW_ENGINE_INPUT_INVALID`.
 */
export class WindowEngineInputError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WINDOW_ENGINE_INPUT_INVALID', message, options);
  }
}
