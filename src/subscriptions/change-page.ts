import { CursorExpiredError } from '../errors/cursor-expired-error.js';
import type { ChangeLogStore, ChangeRow } from '../store/change-log-store.js';
import { decodeCursor, encodeCursor, posOf } from './change-cursor.js';
import { mergeInCommitOrder } from './commit-order-merge.js';

/** One page of a stream's changes, pulled over HTTP: every change with the cursor right after it. */
export interface ChangePage {
  changes: { cursor: string; change: ChangeRow }[];
  /** The cursor after the page (the `after` given when the page is empty): pass it as `after` for the next page. */
  endCursor: string;
  /** Whether changes after `endCursor` were already committed when the page was read. */
  hasNextPage: boolean;
}

/** Attempts to start at the oldest retained change while pruning moves it on. */
const START_ATTEMPTS = 5;

/**
 * A page of `stream`'s change log after the cursor `after`, in commit order
 * (see {@link mergeInCommitOrder}), with the cursors of the subscriptions: a
 * client that passes each page's `endCursor` as the next `after` reads every
 * change once, with no gap and no repeat, whichever API process answers.
 * Without `after`, the page starts at the oldest change still kept.
 * @param first most changes in the page (1..max, checked by the caller).
 * @param retentionHours the log's retention, HOURS (for the error).
 * @throws {InvalidCursorError} when `after` is not a cursor of `stream`.
 * @throws {CursorExpiredError} when changes after `after` were pruned
 *   (`oldestCursor`: where a client can start again after a full resync).
 */
export async function readChangePage(
  store: ChangeLogStore,
  stream: string,
  after: string | null,
  first: number,
  retentionHours: number,
): Promise<ChangePage> {
  const given = after === null ? null : decodeCursor(after, stream);
  for (let attempt = 1; ; attempt++) {
    const before = await store.prunedThrough(stream);
    const start = given ?? before;
    expireIfPruned(stream, start, before, retentionHours);
    const rows = await store.readEachAfter(stream, start, first + 1);
    // After the read: pruning raises its mark before it deletes, so a deletion this read missed rows to shows here.
    const pruned = await store.prunedThrough(stream);
    try {
      expireIfPruned(stream, start, pruned, retentionHours);
    } catch (err) {
      if (given !== null || attempt >= START_ATTEMPTS) throw err;
      continue; // the oldest change moved on while this read: start again from the new one
    }
    const { taken, more } = mergeInCommitOrder(rows, first);
    const v = new Map(start);
    const changes = taken.map((change) => {
      v.set(change.partition, change.pos);
      return { cursor: encodeCursor(stream, v), change };
    });
    return { changes, endCursor: encodeCursor(stream, v), hasNextPage: more };
  }
}

function expireIfPruned(
  stream: string,
  v: ReadonlyMap<number, string>,
  pruned: ReadonlyMap<number, string>,
  retentionHours: number,
): void {
  for (const [partition, through] of pruned)
    if (posOf(v, partition) < through) throw new CursorExpiredError(encodeCursor(stream, pruned), retentionHours);
}
