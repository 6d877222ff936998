import { callbackStatusName, CALLBACK_STATUS_CODES, type CallbackStatusName } from './unpaid-user-store.js';

/** Longest note of a status change, CHARACTERS (Unicode code points, as `VARCHAR(500)` counts them). */
export const MAX_NOTE_LENGTH = 500;

/** Most updates one `setCallbackStatuses` call may carry. */
export const MAX_STATUS_UPDATES = 500;

/** One requested status change. */
export interface StatusUpdateRequest {
  uid: string;
  status: CallbackStatusName;
  /** At most {@link MAX_NOTE_LENGTH} characters (checked by the caller); stored with the audit row. */
  note: string | null;
  /** Refuse the change (CONFLICT) unless the user's status is this one; null: any status. */
  expectedStatus: CallbackStatusName | null;
}

/** What happens to one request, in request order. */
export type PlannedOutcome =
  | {
      kind: 'applied';
      /** The uid as stored (the request's may differ in case). */
      uid: string;
      /** Status code before (NULL: never set). */
      from: number | null;
      to: number;
      note: string | null;
    }
  | { kind: 'not-found'; uid: string }
  | { kind: 'conflict'; uid: string; expected: CallbackStatusName; current: CallbackStatusName };

/**
 * Decides each request against the users' current statuses, in request order:
 * a request for a uid without a record is `not-found`; one whose
 * `expectedStatus` is not the user's status at that point (after the earlier
 * requests of the same call) is a `conflict`; any other is `applied`. Pure:
 * the caller has locked the rows and writes the applied ones.
 * @param current the locked rows: by uid as stored, the status code (NULL: never set).
 * @returns one outcome per request.
 */
export function planStatusUpdates(
  requests: readonly StatusUpdateRequest[],
  current: ReadonlyMap<string, number | null>,
): PlannedOutcome[] {
  // The column's collation matches a uid differing in case, as a single-row lookup would: the exact one first.
  const folded = new Map<string, string>();
  for (const uid of current.keys()) if (!folded.has(uid.toLowerCase())) folded.set(uid.toLowerCase(), uid);
  const state = new Map(current);
  return requests.map((r): PlannedOutcome => {
    const uid = state.has(r.uid) ? r.uid : folded.get(r.uid.toLowerCase());
    if (uid === undefined) return { kind: 'not-found', uid: r.uid };
    const from = state.get(uid) ?? null;
    if (r.expectedStatus !== null && callbackStatusName(from) !== r.expectedStatus)
      return { kind: 'conflict', uid, expected: r.expectedStatus, current: callbackStatusName(from) };
    const to = CALLBACK_STATUS_CODES[r.status];
    state.set(uid, to);
    return { kind: 'applied', uid, from, to, note: r.note };
  });
}

/** The length of `note` in characters as the database counts them (code points). */
export function noteLength(note: string): number {
  let n = 0;
  for (const _ of note) n++;
  return n;
}
