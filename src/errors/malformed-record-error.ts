import { AppError } from './app-error.js';

/**
 * A Kafka record's value does not follow its topic's format, so it can never
 * be processed (retrying will not help: route it to the dead-letter topic).
 *
 * `code` is always `MALFORMED_RECORD`. `reason` is a stable short string that
 * metrics and the dead-letter headers use, e.g. `field-count`, `empty-uid`,
 * `bad-event-time`, `bad-phone`, `empty-event-key`, `empty-value`,
 * `encoding`; branch on it, never on the message. The message is for people:
 * it names the field, what was expected and what was found, e.g.
 * `field 16 (eventTime): expected epoch seconds as an integer, got "abc"`.
 */
export class MalformedRecordError extends AppError {
  /** Stable short cause, kebab case, e.g. `bad-event-time`. */
  readonly reason: string;
  /** Zero-based index of the offending field, or `undefined` when the problem is the record as a whole. */
  readonly field: number | undefined;

  constructor(reason: string, message: string, options?: { field?: number; cause?: unknown }) {
    super('MALFORMED_RECORD', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.field = options?.field;
  }
}
