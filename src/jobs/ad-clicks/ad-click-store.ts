import { Prisma } from '../../generated/prisma/client.js';
import { MINUTE_MS } from '../../domain/time-units.js';
import type { Db, Tx } from '../../store/prisma-client.js';
import { sqlDatetime } from '../../store/sql-datetime.js';
import type { AdClickGroup } from './ad-click-aggregation.js';

/** The two kinds of blacklist entries. */
export type BlacklistKind = 'user' | 'ip';

/** One (ad, minute) row: counted clicks and the clicks dropped, by reason. */
export interface AdMinuteCounts {
  adId: string;
  /** Window start, epoch ms. */
  minuteMs: number;
  clicks: number;
  blockedByUser: number;
  blockedByIp: number;
}

/** One blacklist entry as stored. */
export interface BlacklistRow {
  kind: BlacklistKind;
  value: string;
  note: string | null;
  role: string;
  keyId: string;
  addedAt: Date;
}

/** One change of the blacklist as audited. */
export interface BlacklistAuditRow {
  id: bigint;
  action: 'add' | 'remove';
  kind: BlacklistKind;
  value: string;
  note: string | null;
  role: string;
  keyId: string;
  changedAt: Date;
}

/** Who changes the blacklist, as the audit records it: the role and a sha256 prefix of the key, never the key. */
export interface BlacklistActor {
  role: string;
  keyId: string;
}

/** Most entries `blacklist` lists (the job joins every click against it, so it is meant to stay small). */
export const MAX_BLACKLIST_LISTED = 10_000;

/**
 * Groups per statement, each carried as ONE JSON parameter unpacked by
 * JSON_TABLE (see the hot-products store for why); 5,000 groups stay far
 * below max_allowed_packet.
 */
const CHUNK = 5_000;

const MINUTE_SECONDS = MINUTE_MS / 1000;

/** A key's counts summed over its partition-local rows (integers, not DECIMAL). */
const SUMS = Prisma.sql`CAST(SUM(m.clicks) AS SIGNED) AS clicks, CAST(SUM(m.blocked_user) AS SIGNED) AS blockedUser,
  CAST(SUM(m.blocked_ip) AS SIGNED) AS blockedIp`;

/**
 * The tables of the ad-clicks job: `ad_click_minute` (written inside the batch
 * transaction, additive), `ad_blacklist` and `ad_blacklist_audit` (the
 * operators' mutations), and the reads of the GraphQL API. Times are event
 * time in UTC.
 */
export class AdClickStore {
  constructor(private readonly db: Db) {}

  /**
   * Adds one batch's clicks inside the batch transaction, to the rows of
   * partition `owner`: per (ad, minute) the clicks whose user and IP are not
   * on the blacklist, and apart the clicks dropped for their user (first) or
   * else for their IP, the blacklist read in this very statement, so what the
   * transaction counts and what it drops are decided together and a replay of
   * an uncommitted batch decides anew. `groups` must be sorted by ad and
   * minute.
   *
   * Partition-local rows: an (ad, minute) has a row per Kafka partition, and
   * only a transaction holding `owner`'s `consumer_offset` row writes that
   * partition's rows, so two transactions never write the same row; the reads
   * sum a key's rows.
   * @param owner a partition this transaction carries (its `consumer_offset` row locked).
   */
  async addBatch(tx: Tx, owner: number, groups: readonly AdClickGroup[]): Promise<void> {
    for (let i = 0; i < groups.length; i += CHUNK) {
      const rows = JSON.stringify(
        groups.slice(i, i + CHUNK).map((g) => [g.adId, sqlDatetime(g.minuteMs), g.userId, g.ip, g.clicks]),
      );
      await tx.$executeRaw`INSERT INTO ad_click_minute (ad_id, window_start, \`partition\`, window_end, clicks, blocked_user, blocked_ip)
        SELECT g.ad_id, g.window_start, ${owner}, g.window_start + INTERVAL ${MINUTE_SECONDS} SECOND, g.clicks, g.blocked_user, g.blocked_ip
        FROM (
          SELECT j.ad_id, j.window_start,
            CAST(SUM(IF(bu.value IS NULL AND bi.value IS NULL, j.n, 0)) AS SIGNED) AS clicks,
            CAST(SUM(IF(bu.value IS NOT NULL, j.n, 0)) AS SIGNED) AS blocked_user,
            CAST(SUM(IF(bu.value IS NULL AND bi.value IS NOT NULL, j.n, 0)) AS SIGNED) AS blocked_ip
          FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (
            ad_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]',
            window_start DATETIME(3) PATH '$[1]',
            user_id VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[2]',
            ip VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[3]',
            n INT PATH '$[4]')) AS j
          LEFT JOIN ad_blacklist bu ON bu.kind = 'user' AND bu.value = j.user_id
          LEFT JOIN ad_blacklist bi ON bi.kind = 'ip' AND bi.value = j.ip
          GROUP BY j.ad_id, j.window_start
        ) AS g
        ORDER BY g.ad_id, g.window_start
        ON DUPLICATE KEY UPDATE clicks = ad_click_minute.clicks + VALUES(clicks),
          blocked_user = ad_click_minute.blocked_user + VALUES(blocked_user),
          blocked_ip = ad_click_minute.blocked_ip + VALUES(blocked_ip)`;
    }
  }

  /**
   * The totals of `keys` (`adId|minuteMs`, as `adMinuteKeys` makes them): each
   * key's rows summed over the partitions, as this transaction sees them
   * after its upserts. Read after the group's ordering row
   * (`CommitOrderStore.take`) in a READ COMMITTED transaction, these are the
   * totals its commit leaves: every earlier commit is in them, and no other
   * transaction of the group commits before this one.
   */
  async readBack(tx: Tx, keys: readonly string[]): Promise<AdMinuteCounts[]> {
    const out: AdMinuteCounts[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const rows = JSON.stringify(
        keys.slice(i, i + CHUNK).map((k) => {
          const at = k.lastIndexOf('|');
          return [k.slice(0, at), sqlDatetime(Number(k.slice(at + 1)))];
        }),
      );
      const found = await tx.$queryRaw<
        {
          adId: string;
          windowStart: Date | string;
          clicks: number | bigint;
          blockedUser: number | bigint;
          blockedIp: number | bigint;
        }[]
      >`SELECT m.ad_id AS adId, m.window_start AS windowStart, ${SUMS}
        FROM JSON_TABLE(${rows}, '$[*]' COLUMNS (
          ad_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$[0]',
          window_start DATETIME(3) PATH '$[1]')) AS k
        JOIN ad_click_minute m ON m.ad_id = k.ad_id AND m.window_start = k.window_start
        GROUP BY m.ad_id, m.window_start
        ORDER BY m.ad_id, m.window_start`;
      for (const r of found) out.push(toCounts(r));
    }
    return out;
  }

  /** One ad's minutes starting in [fromMs, toMs) (each minute's partition rows summed), by minute start. */
  async adMinutes(adId: string, fromMs: number, toMs: number): Promise<Map<number, AdMinuteCounts>> {
    const rows = await this.db.$queryRaw<
      {
        adId: string;
        windowStart: Date | string;
        clicks: number | bigint;
        blockedUser: number | bigint;
        blockedIp: number | bigint;
      }[]
    >`SELECT m.ad_id AS adId, m.window_start AS windowStart, ${SUMS}
      FROM ad_click_minute m
      WHERE ad_id = ${adId} AND window_start >= ${sqlDatetime(fromMs)} AND window_start < ${sqlDatetime(toMs)}
      GROUP BY ad_id, window_start`;
    return new Map(rows.map((r) => [toCounts(r).minuteMs, toCounts(r)]));
  }

  /**
   * Per ad, its counted and dropped clicks in minutes starting in [fromMs,
   * toMs): the `limit` ads with the most counted clicks, ties by ad id.
   */
  async adTotals(fromMs: number, toMs: number, limit: number): Promise<Omit<AdMinuteCounts, 'minuteMs'>[]> {
    const rows = await this.db.$queryRaw<
      { adId: string; clicks: bigint; blockedUser: bigint; blockedIp: bigint }[]
    >`SELECT adId, clicks, blockedUser, blockedIp FROM (
        SELECT ad_id AS adId, CAST(SUM(clicks) AS SIGNED) AS clicks, CAST(SUM(blocked_user) AS SIGNED) AS blockedUser,
          CAST(SUM(blocked_ip) AS SIGNED) AS blockedIp
        FROM ad_click_minute
        WHERE window_start >= ${sqlDatetime(fromMs)} AND window_start < ${sqlDatetime(toMs)}
        GROUP BY ad_id
      ) a
      ORDER BY clicks DESC, adId ASC
      LIMIT ${limit}`;
    return rows.map((r) => ({
      adId: r.adId,
      clicks: Number(r.clicks),
      blockedByUser: Number(r.blockedUser),
      blockedByIp: Number(r.blockedIp),
    }));
  }

  /** Every ad's clicks dropped in minutes starting in [fromMs, toMs), by reason, and the clicks counted. */
  async blockedTotals(
    fromMs: number,
    toMs: number,
  ): Promise<{ clicks: number; blockedByUser: number; blockedByIp: number }> {
    const [row] = await this.db.$queryRaw<
      ({ clicks: bigint | null; blockedUser: bigint | null; blockedIp: bigint | null } | undefined)[]
    >`SELECT CAST(SUM(clicks) AS SIGNED) AS clicks, CAST(SUM(blocked_user) AS SIGNED) AS blockedUser,
        CAST(SUM(blocked_ip) AS SIGNED) AS blockedIp
      FROM ad_click_minute
      WHERE window_start >= ${sqlDatetime(fromMs)} AND window_start < ${sqlDatetime(toMs)}`;
    return {
      clicks: Number(row?.clicks ?? 0),
      blockedByUser: Number(row?.blockedUser ?? 0),
      blockedByIp: Number(row?.blockedIp ?? 0),
    };
  }

  /**
   * Adds an entry to the blacklist and audits it, in one transaction; an entry
   * already there is left as it is (`changed` false, nothing audited).
   */
  async addToBlacklist(
    kind: BlacklistKind,
    value: string,
    note: string | null,
    actor: BlacklistActor,
  ): Promise<{ changed: boolean }> {
    return this.db.$transaction(async (tx) => {
      const inserted = await tx.$executeRaw`INSERT IGNORE INTO ad_blacklist (kind, value, note, role, key_id, added_at)
        VALUES (${kind}, ${value}, ${note}, ${actor.role}, ${actor.keyId}, UTC_TIMESTAMP(3))`;
      if (inserted === 1)
        await tx.$executeRaw`INSERT INTO ad_blacklist_audit (action, kind, value, note, role, key_id, changed_at)
          VALUES ('add', ${kind}, ${value}, ${note}, ${actor.role}, ${actor.keyId}, UTC_TIMESTAMP(3))`;
      return { changed: inserted === 1 };
    });
  }

  /** Removes an entry and audits it, in one transaction; `changed` false (nothing audited) when it was not there. */
  async removeFromBlacklist(
    kind: BlacklistKind,
    value: string,
    note: string | null,
    actor: BlacklistActor,
  ): Promise<{ changed: boolean }> {
    return this.db.$transaction(async (tx) => {
      const deleted = await tx.$executeRaw`DELETE FROM ad_blacklist WHERE kind = ${kind} AND value = ${value}`;
      if (deleted === 1)
        await tx.$executeRaw`INSERT INTO ad_blacklist_audit (action, kind, value, note, role, key_id, changed_at)
          VALUES ('remove', ${kind}, ${value}, ${note}, ${actor.role}, ${actor.keyId}, UTC_TIMESTAMP(3))`;
      return { changed: deleted === 1 };
    });
  }

  /** The blacklist (at most {@link MAX_BLACKLIST_LISTED} entries), by kind and value. */
  async list(): Promise<BlacklistRow[]> {
    const rows = await this.db.$queryRaw<
      BlacklistRow[]
    >`SELECT kind, value, note, role, key_id AS keyId, added_at AS addedAt
      FROM ad_blacklist ORDER BY kind, value LIMIT ${MAX_BLACKLIST_LISTED}`;
    return rows.map((r) => ({ ...r, addedAt: new Date(r.addedAt) }));
  }

  /** The latest `limit` changes of the blacklist, newest first. */
  async audit(limit: number): Promise<BlacklistAuditRow[]> {
    return this.db.$queryRaw<BlacklistAuditRow[]>`SELECT id, action, kind, value, note, role, key_id AS keyId,
        changed_at AS changedAt
      FROM ad_blacklist_audit ORDER BY id DESC LIMIT ${limit}`;
  }

  /** Empties the job's counts (a rebuild), inside the rebuild transaction; the blacklist and its audit stay. */
  async clear(tx: Tx): Promise<void> {
    await tx.$executeRaw`DELETE FROM ad_click_minute`;
  }
}

function toCounts(r: {
  adId: string;
  windowStart: Date | string;
  clicks: number | bigint;
  blockedUser: number | bigint;
  blockedIp: number | bigint;
}): AdMinuteCounts {
  return {
    adId: r.adId,
    minuteMs: new Date(r.windowStart).getTime(),
    clicks: Number(r.clicks),
    blockedByUser: Number(r.blockedUser),
    blockedByIp: Number(r.blockedIp),
  };
}
