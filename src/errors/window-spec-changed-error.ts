import { AppError } from './app-error.js';

/**
 * A partition's stored position was computed under another window
 * specification than the configured one: its `replay_from` covers only the
 * open windows of the old specification, so resuming from it would emit wrong
 * windows under the new one. The claim is refused (nothing changes in the
 * database) until an operator runs `rebuildJob` (which forgets the stored
 * specification and recomputes every window from the earliest offset) or
 * sets the old values back.
 *
 * Code: `WINDOW_SPEC_CHANGED`. `changes` lists each changed field as
 * `"size 60000 -> 120000 ms"`.
 */
export class WindowSpecChangedError extends AppError {
  constructor(
    readonly groupId: string,
    readonly topic: string,
    readonly partition: number,
    readonly changes: readonly string[],
    /** `settings`: the variables that set the specification, named in the message. */
    options?: { cause?: unknown; settings?: readonly string[] },
  ) {
    super(
      'WINDOW_SPEC_CHANGED',
      `window specification changed for partition ${topic}/${partition} of group ${groupId} (${changes.join(', ')}): ` +
        'its stored replay offset only covers windows of the old specification, so it is not resumed. ' +
        'Run the rebuildJob mutation to recompute the job from the earliest offset under the new specification, ' +
        `or set the old values back${options?.settings?.length ? ` (${options.settings.join(', ')})` : ''}`,
      options,
    );
  }
}
