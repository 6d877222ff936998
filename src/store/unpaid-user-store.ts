import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Prisma } from '../generated/prisma/client.js';
import { InvalidCursorError } from '../errors/invalid-cursor-error.js';
import { UnpaidUserNotFoundError } from '../errors/unpaid-user-not-found-error.js';
import type { Db, Tx } from './prisma-client.js';
import { ShortLivedCache } from './short-lived-cache.js';
import { sqlDatetime } from './sql-datetime.js';

/** Callback statuses of the CRM team, with their `tinyint` codes in `unpayment_record`. */
export const CALLBACK_STATUS_CODES = {
  PENDING: 0,
  CONTACTED: 1,
  CONVERTED: 2,
  UNREACHABLE: 3,
  DECLINED: 4,
} as const;
export type CallbackStatusName = keyof typeof CALLBACK_STATUS_CODES;

/** NULL (never set) reads as PENDING. */
export function callbackStatusName(code: number | null): CallbackStatusName {
  const entry = Object.entries(CALLBACK_STATUS_CODES).find(([, c]) => c === code);
  return (entry?.[0] as CallbackStatusName | undefined) ?? 'PENDING';
}

/** One user detected in one window: what the sink upserts. Times in epoch milliseconds. */
export interface Detection {
  uid: string;
  phone: string;
  enterOrderCount: number;
  windowStartMs: number;
  windowEndMs: number;
}

/** An `unpayment_record` row as the API shows it. */
export interface UnpaidUserRow {
  uid: string;
  phone: string;
  callbackStatus: number | null;
  enterOrderCount: number;
  firstDetectedAt: Date;
  lastDetectedAt: Date;
  windowStart: Date;
  windowEnd: Date;
}

const UPSERT_CHUNK = 500;
/** Uids per `vip_user` lookup statement. */
const VIP_LOOKUP_CHUNK = 1_000;

/** How long a `totalCount` is served from memory, MILLISECONDS: its staleness bound (a detection committed meanwhile shows up at most this late). */
export const TOTAL_COUNT_TTL_MS = 1_000;
/** How long a page of `unpaidUsers` (rows and totalCount together) is served from memory, MILLISECONDS: the same bound as {@link TOTAL_COUNT_TTL_MS}. */
export const PAGE_TTL_MS = TOTAL_COUNT_TTL_MS;

/** One page of users: at most `first` rows, whether more follow, and the filter's total. */
export interface UnpaidUserPage {
  rows: UnpaidUserRow[];
  hasNextPage: boolean;
  totalCount: number;
}

const COLUMNS = Prisma.raw(
  'uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end',
);

interface RawRow {
  uid: string;
  phone: string;
  // The driver answers integer columns as number, or as bigint for BIGINT.
  callback_status: number | bigint | null;
  enter_order_count: number | bigint;
  first_detected_at: Date;
  last_detected_at: Date;
  window_start: Date;
  window_end: Date;
}

const fromRaw = (r: RawRow): UnpaidUserRow => ({
  uid: r.uid,
  phone: r.phone,
  callbackStatus: r.callback_status === null ? null : Number(r.callback_status),
  enterOrderCount: Number(r.enter_order_count),
  firstDetectedAt: r.first_detected_at,
  lastDetectedAt: r.last_detected_at,
  windowStart: r.window_start,
  windowEnd: r.window_end,
});

/**
 * `unpayment_record` (users who kept opening the order page without paying) and `vip_user`: the abnormal-orders
 * sink (inside the batch transaction) and the reads of the GraphQL API.
 */
export class UnpaidUserStore {
  /**
   * `COUNT(*)` per callback-status filter (key: the status name, `*` for all),
   * served for at most {@link TOTAL_COUNT_TTL_MS} (1,000) MILLISECONDS and
   * cleared by this process's own status changes; the table stays the source of truth.
   */
  private readonly counts: ShortLivedCache<string, { n: number }>;
  /**
   * Whole pages by (first, after, status), served for at most {@link PAGE_TTL_MS}
   * (1,000) MILLISECONDS and cleared by this process's own status changes: the
   * same page asked a thousand times a second costs one query a second, and one
   * answer's rows and totalCount always come from the same read.
   */
  private readonly pages: ShortLivedCache<string, UnpaidUserPage>;

  constructor(
    private readonly db: Db,
    opts: { countTtlMs?: number; pageTtlMs?: number; now?: () => number } = {},
  ) {
    this.counts = new ShortLivedCache({
      ttlMs: opts.countTtlMs ?? TOTAL_COUNT_TTL_MS,
      refreshAheadMs: Number.POSITIVE_INFINITY, // see `pages`
      max: 16,
      now: opts.now,
      load: async (key) => ({ n: await this.countNow(key === '*' ? null : (key as CallbackStatusName)) }),
    });
    this.pages = new ShortLivedCache({
      ttlMs: opts.pageTtlMs ?? PAGE_TTL_MS,
      // A page carries a count from `counts`: a page refreshed ahead would carry a count read up to a bound
      // earlier and be served a bound longer, so both caches read when their values end, together.
      refreshAheadMs: Number.POSITIVE_INFINITY,
      max: 256,
      now: opts.now,
      load: (key) => {
        const [first, after, status] = JSON.parse(key) as [number, string | null, CallbackStatusName | null];
        return this.pageNow(first, after, status);
      },
    });
  }

  /**
   * Which of `uids` are VIPs, in one query per 1,000 uids (per window close, never per event).
   * @returns the VIP uids among them.
   */
  async findVips(tx: Tx, uids: readonly string[]): Promise<Set<string>> {
    const vips = new Set<string>();
    // In chunks: a window of a million users hands out tens of thousands of candidates, and one
    // statement with a placeholder each would build them all in memory at once.
    for (let i = 0; i < uids.length; i += VIP_LOOKUP_CHUNK) {
      const rows = await tx.$queryRaw<
        { uid: string }[]
      >`SELECT DISTINCT uid FROM vip_user WHERE uid IN (${Prisma.join(uids.slice(i, i + VIP_LOOKUP_CHUNK))})`;
      for (const r of rows) vips.add(r.uid);
    }
    return vips;
  }

  /**
   * Idempotent upsert of detections, in multi-row statements. Replaying a
   * window writes the same values; a callback status already set is never
   * touched; a later window (by end) updates count, phone, window and last
   * detection, an earlier one only the first detection. Detection times are the
   * detecting window's end (event time), so a replay after a crash writes
   * exactly what an uninterrupted run writes.
   */
  async upsertDetections(tx: Tx, detections: readonly Detection[]): Promise<void> {
    for (let i = 0; i < detections.length; i += UPSERT_CHUNK) {
      const chunk = detections.slice(i, i + UPSERT_CHUNK);
      const values = Prisma.join(
        chunk.map((d) => {
          const start = new Date(d.windowStartMs);
          const end = new Date(d.windowEndMs);
          return Prisma.sql`(${d.uid}, ${d.phone}, NULL, ${d.enterOrderCount}, ${end}, ${end}, ${start}, ${end})`;
        }),
      );
      // Assignments run left to right in MySQL: window_end must change last.
      await tx.$executeRaw`INSERT INTO unpayment_record
          (uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end)
        VALUES ${values}
        ON DUPLICATE KEY UPDATE
          phone = IF(VALUES(window_end) >= window_end, VALUES(phone), phone),
          enter_order_count = IF(VALUES(window_end) >= window_end, VALUES(enter_order_count), enter_order_count),
          window_start = IF(VALUES(window_end) >= window_end, VALUES(window_start), window_start),
          first_detected_at = LEAST(first_detected_at, VALUES(first_detected_at)),
          last_detected_at = GREATEST(last_detected_at, VALUES(last_detected_at)),
          window_end = GREATEST(window_end, VALUES(window_end))`;
    }
  }

  /** One user, or null: a primary-key lookup. */
  async get(uid: string): Promise<UnpaidUserRow | null> {
    return (await this.getMany([uid]))[0] ?? null;
  }

  /**
   * Several users in one primary-key query (the batch of a request's `unpaidUser` fields).
   * @returns one entry per uid, in the order given: the row, or null.
   */
  async getMany(uids: readonly string[]): Promise<(UnpaidUserRow | null)[]> {
    if (uids.length === 0) return [];
    const rows = await this.db.$queryRaw<
      RawRow[]
    >`SELECT ${COLUMNS} FROM unpayment_record WHERE uid IN (${Prisma.join([...uids])})`;
    const byUid = new Map(rows.map((r) => [r.uid, fromRaw(r)]));
    // The column's collation may match a uid that differs in case (as a single-row lookup does): the exact one first.
    const byFolded = new Map(rows.map((r) => [r.uid.toLowerCase(), fromRaw(r)]));
    return uids.map((uid) => byUid.get(uid) ?? byFolded.get(uid.toLowerCase()) ?? null);
  }

  /**
   * A page of users, newest last detection first (ties by uid), after `cursor`:
   * keyset pagination on `unpayment_record_last_detected_idx`
   * (`last_detected_at DESC, uid`) or, with a status, on
   * `unpayment_record_status_idx` (`callback_status, last_detected_at DESC, uid`),
   * so a deep page reads as few index entries as the first one. The page is
   * at most {@link PAGE_TTL_MS} MILLISECONDS old, its `totalCount` at most
   * {@link TOTAL_COUNT_TTL_MS} more.
   * @param first page size, 0..max (checked by the caller).
   * @param status only users with this status (PENDING includes NULL).
   * @throws {InvalidCursorError} for a cursor this API did not issue.
   */
  async page(first: number, after: string | null, status: CallbackStatusName | null): Promise<UnpaidUserPage> {
    // A cursor that is not one fails before any read (and is never cached).
    if (after) decodeCursor(after);
    return this.pages.get(JSON.stringify([first, after, status]));
  }

  /** {@link page}, read now. */
  private async pageNow(
    first: number,
    after: string | null,
    status: CallbackStatusName | null,
  ): Promise<UnpaidUserPage> {
    let keyset = Prisma.sql`1 = 1`;
    if (after) {
      const c = decodeCursor(after);
      const ts = sqlDatetime(c.lastDetectedAt);
      // The first column's range alone bounds the index scan; the OR then only filters the ties.
      keyset = Prisma.sql`last_detected_at <= ${ts} AND (last_detected_at < ${ts} OR uid > ${c.uid})`;
    }
    const take = first + 1;
    const ordered = (where: Prisma.Sql) =>
      Prisma.sql`SELECT ${COLUMNS} FROM unpayment_record WHERE ${where} AND ${keyset} ORDER BY last_detected_at DESC, uid ASC LIMIT ${take}`;
    const query =
      status === null
        ? ordered(Prisma.sql`1 = 1`)
        : status === 'PENDING'
          ? // NULL or 0: two index ranges, each read in order, merged (an OR would sort every pending row).
            Prisma.sql`(${ordered(Prisma.sql`callback_status IS NULL`)}) UNION ALL (${ordered(Prisma.sql`callback_status = ${CALLBACK_STATUS_CODES.PENDING}`)}) ORDER BY last_detected_at DESC, uid ASC LIMIT ${take}`
          : ordered(Prisma.sql`callback_status = ${CALLBACK_STATUS_CODES[status]}`);
    const [raw, total] = await Promise.all([this.db.$queryRaw<RawRow[]>(query), this.counts.get(status ?? '*')]);
    const rows = raw.map(fromRaw);
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount: total.n };
  }

  /** `COUNT(*)` of the users with `status` (all: null), read now. */
  private async countNow(status: CallbackStatusName | null): Promise<number> {
    const where =
      status === null
        ? Prisma.sql`1 = 1`
        : status === 'PENDING'
          ? Prisma.sql`(callback_status IS NULL OR callback_status = ${CALLBACK_STATUS_CODES.PENDING})`
          : Prisma.sql`callback_status = ${CALLBACK_STATUS_CODES[status]}`;
    const rows = await this.db.$queryRaw<
      { n: bigint | number }[]
    >`SELECT COUNT(*) AS n FROM unpayment_record WHERE ${where}`;
    // COUNT(*) without GROUP BY answers exactly one row.
    return rows.length > 0 ? Number(rows[0].n) : 0;
  }

  /**
   * Sets a callback status and writes the audit row in the same transaction.
   * @param actor role and API key of the caller (only a sha256 prefix of the key is stored).
   * @throws {UnpaidUserNotFoundError} when the uid has no record.
   */
  async setCallbackStatus(
    uid: string,
    status: CallbackStatusName,
    actor: { role: string; apiKey: string },
  ): Promise<UnpaidUserRow> {
    const to = CALLBACK_STATUS_CODES[status];
    return this.db
      .$transaction(async (tx) => {
        const [current] = await tx.$queryRaw<
          ({ callback_status: number | bigint | null } | undefined)[]
        >`SELECT callback_status FROM unpayment_record WHERE uid = ${uid} FOR UPDATE`;
        if (!current) throw new UnpaidUserNotFoundError(uid);
        const from = current.callback_status === null ? null : Number(current.callback_status);
        const updated = await tx.unpaymentRecord.update({ where: { uid }, data: { callbackStatus: to } });
        await tx.callbackStatusAudit.create({
          data: { uid, fromStatus: from, toStatus: to, role: actor.role, keyId: keyId(actor.apiKey) },
        });
        return updated;
      })
      .finally(() => {
        this.counts.clear();
        this.pages.clear();
      });
  }
}

/** The ids of the keys seen lately: the rate limiter asks for one per request, and a hash per request is measurable. */
const keyIds = new LRUCache<string, string>({ max: 1_024 });

/** Identifies an API key in logs and audit rows without revealing it: sha256 hex, 12 digits. */
export function keyId(apiKey: string): string {
  let id = keyIds.get(apiKey);
  if (id === undefined) {
    id = createHash('sha256').update(apiKey).digest('hex').slice(0, 12);
    keyIds.set(apiKey, id);
  }
  return id;
}

/** Opaque keyset cursor: base64url of `<lastDetectedAt ms>:<uid>`. */
export function encodeCursor(row: Pick<UnpaidUserRow, 'lastDetectedAt' | 'uid'>): string {
  return Buffer.from(`${row.lastDetectedAt.getTime()}:${row.uid}`).toString('base64url');
}

function decodeCursor(cursor: string): { lastDetectedAt: Date; uid: string } {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const idx = raw.indexOf(':');
  const ms = Number(raw.slice(0, idx));
  if (idx <= 0 || !Number.isSafeInteger(ms) || ms < 0 || idx === raw.length - 1)
    throw new InvalidCursorError(`after: ${JSON.stringify(cursor)} is not a cursor returned by unpaidUsers`);
  return { lastDetectedAt: new Date(ms), uid: raw.slice(idx + 1) };
}
