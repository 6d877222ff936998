import { Prisma } from '../../generated/prisma/client.js';
import { InvalidCursorError } from '../../errors/invalid-cursor-error.js';
import type { Db } from '../../store/prisma-client.js';

/** One audited status change of one user. */
export interface CallbackHistoryEntry {
  /** The audit row's id (a decimal string). */
  id: string;
  uid: string;
  /** Status code before (NULL: never set). */
  from: number | null;
  to: number;
  role: string;
  /** Stable id of the caller's credential: sha256 prefix, 12 hex digits (never the key). */
  keyId: string;
  at: Date;
  note: string | null;
}

/** One page of a user's history, newest first. */
export interface CallbackHistoryPage {
  entries: CallbackHistoryEntry[];
  hasNextPage: boolean;
}

interface Raw {
  id: bigint | number;
  uid: string;
  from_status: number | bigint | null;
  to_status: number | bigint;
  role: string;
  key_id: string;
  changed_at: Date;
  note: string | null;
}

/**
 * The audit of callback statuses (`callback_status_audit`, rows kept forever)
 * as a user's history, newest first: keyset pages on
 * `callback_status_audit_uid_id_idx` (`uid, id`). A user's changes are
 * serialised by its row lock, so its ids follow the order they committed in.
 */
export class CallbackHistoryStore {
  constructor(private readonly db: Db) {}

  /**
   * Up to `first` changes of `uid` older than the cursor `after` (newest first).
   * @param first page size, 0..max (checked by the caller).
   * @throws {InvalidCursorError} for a cursor {@link historyCursor} did not make.
   */
  async page(uid: string, first: number, after: string | null): Promise<CallbackHistoryPage> {
    const before = after === null ? null : decodeHistoryCursor(after);
    const rows = await this.db.$queryRaw<Raw[]>`SELECT id, uid, from_status, to_status, role, key_id, changed_at, note
      FROM callback_status_audit WHERE uid = ${uid} ${before === null ? Prisma.empty : Prisma.sql`AND id < ${before}`}
      ORDER BY id DESC LIMIT ${first + 1}`;
    const entries = rows.slice(0, first).map((r) => ({
      id: String(r.id),
      uid: r.uid,
      from: r.from_status === null ? null : Number(r.from_status),
      to: Number(r.to_status),
      role: r.role,
      keyId: r.key_id,
      at: r.changed_at,
      note: r.note,
    }));
    return { entries, hasNextPage: rows.length > first };
  }
}

/** Opaque cursor of a history entry: base64url of `h:<id>`. */
export function historyCursor(entry: Pick<CallbackHistoryEntry, 'id'>): string {
  return Buffer.from(`h:${entry.id}`).toString('base64url');
}

function decodeHistoryCursor(cursor: string): bigint {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^h:[0-9]{1,19}$/.test(raw))
    throw new InvalidCursorError(`after: ${JSON.stringify(cursor)} is not a cursor returned by callbackHistory`);
  return BigInt(raw.slice(2));
}
