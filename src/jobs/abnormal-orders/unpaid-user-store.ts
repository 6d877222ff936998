import { Prisma } from '../../generated/prisma/client.js';
import { InvalidCursorError } from '../../errors/invalid-cursor-error.js';
import type { Db, Tx } from '../../store/prisma-client.js';
import { ShortLivedCache } from '../../store/short-lived-cache.js';
import { sqlDatetime } from '../../store/sql-datetime.js';

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
  /** Windows that flagged the user since its last status change (since its first detection when none was ever set). */
  detectionsSinceCallback: number;
}

/**
 * Which users a page lists. `status`: only this callback status (PENDING
 * includes never set). `redetectedAfter`: only users whose status, SET by a
 * CRM, is one of these and who were detected again since (a user never
 * called back is not among them, whatever its detections).
 */
export interface UnpaidUserFilter {
  status: CallbackStatusName | null;
  redetectedAfter: readonly CallbackStatusName[] | null;
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

/** The columns of {@link UnpaidUserRow}, in the order {@link unpaidUserFromRaw} reads. */
export const UNPAID_USER_COLUMNS = Prisma.raw(
  'uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end, detections_since_callback',
);

/** An `unpayment_record` row as the driver answers {@link UNPAID_USER_COLUMNS}. */
export interface RawUnpaidUserRow {
  uid: string;
  phone: string;
  // The driver answers integer columns as number, or as bigint for BIGINT.
  callback_status: number | bigint | null;
  enter_order_count: number | bigint;
  first_detected_at: Date;
  last_detected_at: Date;
  window_start: Date;
  window_end: Date;
  detections_since_callback: number | bigint;
}

/** {@link RawUnpaidUserRow} as the API shows it. */
export const unpaidUserFromRaw = (r: RawUnpaidUserRow): UnpaidUserRow => ({
  uid: r.uid,
  phone: r.phone,
  callbackStatus: r.callback_status === null ? null : Number(r.callback_status),
  enterOrderCount: Number(r.enter_order_count),
  firstDetectedAt: r.first_detected_at,
  lastDetectedAt: r.last_detected_at,
  windowStart: r.window_start,
  windowEnd: r.window_end,
  detectionsSinceCallback: Number(r.detections_since_callback),
});

/**
 * `unpayment_record` (users who kept opening the order page without paying) and `vip_user`: the abnormal-orders
 * sink (inside the batch transaction) and the reads of the GraphQL API.
 */
export class UnpaidUserStore {
  /**
   * `COUNT(*)` per filter (key: {@link filterKey}),
   * served for at most {@link TOTAL_COUNT_TTL_MS} (1,000) MILLISECONDS and
   * cleared by this process's own status changes; the table stays the source of truth.
   */
  private readonly counts: ShortLivedCache<string, { n: number }>;
  /**
   * Whole pages by (first, after, filter), served for at most {@link PAGE_TTL_MS}
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
      load: async (key) => {
        const [status, redetectedAfter] = JSON.parse(key) as [CallbackStatusName | null, CallbackStatusName[] | null];
        return { n: await this.countNow({ status, redetectedAfter }) };
      },
    });
    this.pages = new ShortLivedCache({
      ttlMs: opts.pageTtlMs ?? PAGE_TTL_MS,
      // A page carries a count from `counts`: a page refreshed ahead would carry a count read up to a bound
      // earlier and be served a bound longer, so both caches read when their values end, together.
      refreshAheadMs: Number.POSITIVE_INFINITY,
      max: 256,
      now: opts.now,
      load: (key) => {
        const [first, after, filter] = JSON.parse(key) as [number, string | null, string];
        const [status, redetectedAfter] = JSON.parse(filter) as [
          CallbackStatusName | null,
          CallbackStatusName[] | null,
        ];
        return this.pageNow(first, after, { status, redetectedAfter });
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
   * detection and raises `detections_since_callback`, an earlier one only the
   * first detection. Detection times are the
   * detecting window's end (event time), so a replay after a crash writes
   * exactly what an uninterrupted run writes.
   */
  async upsertDetections(tx: Tx, detections: readonly Detection[]): Promise<void> {
    // Rows are locked in uid order (then window end, so a user's later window counts after its earlier one),
    // the order status updates lock them in: the two never wait for each other in a cycle.
    const ordered = [...detections].sort((a, b) => compareUids(a.uid, b.uid) || a.windowEndMs - b.windowEndMs);
    for (let i = 0; i < ordered.length; i += UPSERT_CHUNK) {
      const chunk = ordered.slice(i, i + UPSERT_CHUNK);
      const values = Prisma.join(
        chunk.map((d) => {
          const start = new Date(d.windowStartMs);
          const end = new Date(d.windowEndMs);
          return Prisma.sql`(${d.uid}, ${d.phone}, NULL, ${d.enterOrderCount}, ${end}, ${end}, ${start}, ${end}, 1)`;
        }),
      );
      // Assignments run left to right in MySQL: window_end must change last. Only a later window counts
      // as a detection since the last status change: a replayed one (same end) or an earlier one does not.
      await tx.$executeRaw`INSERT INTO unpayment_record
          (uid, phone, callback_status, enter_order_count, first_detected_at, last_detected_at, window_start, window_end, detections_since_callback)
        VALUES ${values}
        ON DUPLICATE KEY UPDATE
          detections_since_callback = IF(VALUES(window_end) > window_end, detections_since_callback + 1, detections_since_callback),
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
      RawUnpaidUserRow[]
    >`SELECT ${UNPAID_USER_COLUMNS} FROM unpayment_record WHERE uid IN (${Prisma.join([...uids])})`;
    const byUid = new Map(rows.map((r) => [r.uid, unpaidUserFromRaw(r)]));
    // The column's collation may match a uid that differs in case (as a single-row lookup does): the exact one first.
    const byFolded = new Map(rows.map((r) => [r.uid.toLowerCase(), unpaidUserFromRaw(r)]));
    return uids.map((uid) => byUid.get(uid) ?? byFolded.get(uid.toLowerCase()) ?? null);
  }

  /**
   * A page of users, newest last detection first (ties by uid), after `cursor`:
   * keyset pagination on `unpayment_record_last_detected_idx`
   * (`last_detected_at DESC, uid`) or, with a status filter, on
   * `unpayment_record_status_idx` (`callback_status, last_detected_at DESC, uid`)
   * once per status asked for, merged, so a deep page reads as few index
   * entries as the first one. The page is at most {@link PAGE_TTL_MS}
   * MILLISECONDS old, its `totalCount` at most {@link TOTAL_COUNT_TTL_MS} more.
   * @param first page size, 0..max (checked by the caller).
   * @param filter which users (see {@link UnpaidUserFilter}); both parts apply when both are given.
   * @throws {InvalidCursorError} for a cursor this API did not issue.
   */
  async page(first: number, after: string | null, filter: UnpaidUserFilter): Promise<UnpaidUserPage> {
    // A cursor that is not one fails before any read (and is never cached).
    if (after) decodeCursor(after);
    return this.pages.get(JSON.stringify([first, after, filterKey(filter)]));
  }

  /** {@link page}, read now. */
  private async pageNow(first: number, after: string | null, filter: UnpaidUserFilter): Promise<UnpaidUserPage> {
    let keyset = Prisma.sql`1 = 1`;
    if (after) {
      const c = decodeCursor(after);
      const ts = sqlDatetime(c.lastDetectedAt);
      // The first column's range alone bounds the index scan; the OR then only filters the ties.
      keyset = Prisma.sql`last_detected_at <= ${ts} AND (last_detected_at < ${ts} OR uid > ${c.uid})`;
    }
    const take = first + 1;
    const { statuses, extra } = filterSql(filter);
    const ordered = (where: Prisma.Sql) =>
      Prisma.sql`SELECT ${UNPAID_USER_COLUMNS} FROM unpayment_record WHERE ${where} AND ${extra} AND ${keyset} ORDER BY last_detected_at DESC, uid ASC LIMIT ${take}`;
    let query: Prisma.Sql;
    if (statuses === null) query = ordered(Prisma.sql`1 = 1`);
    else if (statuses.length === 0) query = Prisma.sql`SELECT ${UNPAID_USER_COLUMNS} FROM unpayment_record WHERE 1 = 0`;
    else if (statuses.length === 1) query = ordered(statuses[0]);
    // One index range per status, each read in order, merged (an OR or IN would sort every matching row).
    else
      query = Prisma.sql`${Prisma.join(
        statuses.map((st) => Prisma.sql`(${ordered(st)})`),
        ' UNION ALL ',
      )} ORDER BY last_detected_at DESC, uid ASC LIMIT ${take}`;
    const [raw, total] = await Promise.all([
      this.db.$queryRaw<RawUnpaidUserRow[]>(query),
      this.counts.get(filterKey(filter)),
    ]);
    const rows = raw.map(unpaidUserFromRaw);
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount: total.n };
  }

  /** `COUNT(*)` of the users matching the filter, read now. */
  private async countNow(filter: UnpaidUserFilter): Promise<number> {
    const { statuses, extra } = filterSql(filter);
    const where =
      statuses === null
        ? Prisma.sql`1 = 1`
        : statuses.length === 0
          ? Prisma.sql`1 = 0`
          : Prisma.sql`(${Prisma.join(statuses, ' OR ')})`;
    const rows = await this.db.$queryRaw<
      { n: bigint | number }[]
    >`SELECT COUNT(*) AS n FROM unpayment_record WHERE ${where} AND ${extra}`;
    // COUNT(*) without GROUP BY answers exactly one row.
    return rows.length > 0 ? Number(rows[0].n) : 0;
  }

  /**
   * The callback status code (NULL: never set) of each of `uids` that has a
   * record, read in `tx` (the abnormal-orders sink, after its upsert: the
   * status each detection was made under).
   * @returns by uid as stored.
   */
  async statusesOf(tx: Tx, uids: readonly string[]): Promise<Map<string, number | null>> {
    const out = new Map<string, number | null>();
    for (let i = 0; i < uids.length; i += VIP_LOOKUP_CHUNK) {
      const rows = await tx.$queryRaw<
        { uid: string; callback_status: number | bigint | null }[]
      >`SELECT uid, callback_status FROM unpayment_record WHERE uid IN (${Prisma.join(uids.slice(i, i + VIP_LOOKUP_CHUNK))})`;
      for (const r of rows) out.set(r.uid, r.callback_status === null ? null : Number(r.callback_status));
    }
    return out;
  }

  /** Forgets every page and count this process serves from memory (after its own status changes). */
  invalidate(): void {
    this.counts.clear();
    this.pages.clear();
  }
}

/** The cache key of a filter: equal filters, equal keys. */
function filterKey(filter: UnpaidUserFilter): string {
  return JSON.stringify([filter.status, filter.redetectedAfter ? [...new Set(filter.redetectedAfter)].sort() : null]);
}

/**
 * A filter as SQL: `statuses`, one condition per index range of
 * `callback_status` (null: no status condition; empty: nothing matches), and
 * `extra`, a condition every row must meet as well.
 */
function filterSql(filter: UnpaidUserFilter): { statuses: Prisma.Sql[] | null; extra: Prisma.Sql } {
  // NULL stands for "never set"; PENDING as a status filter includes it, as a status a CRM set it does not.
  type Code = number | null;
  let codes: Code[] | null = null;
  if (filter.status !== null)
    codes =
      filter.status === 'PENDING' ? [null, CALLBACK_STATUS_CODES.PENDING] : [CALLBACK_STATUS_CODES[filter.status]];
  let extra = Prisma.sql`1 = 1`;
  if (filter.redetectedAfter !== null) {
    const set: number[] = [...new Set(filter.redetectedAfter.map((s) => CALLBACK_STATUS_CODES[s]))].sort(
      (a, b) => a - b,
    );
    codes = codes === null ? set : codes.filter((c) => c !== null && set.includes(c));
    extra = Prisma.sql`detections_since_callback > 0`;
  }
  const statuses =
    codes === null
      ? null
      : codes.map((c) => (c === null ? Prisma.sql`callback_status IS NULL` : Prisma.sql`callback_status = ${c}`));
  return { statuses, extra };
}

/**
 * The order rows of `unpayment_record` are locked in by every writer of
 * several (the detection upsert, bulk status updates): by uid, compared
 * case-insensitively then by code unit, which for ASCII uids is the order of
 * the column's collation (utf8mb4_unicode_ci) and so of its primary key.
 */
export function compareUids(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
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
