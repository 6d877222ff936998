import { LRUCache } from 'lru-cache';
import { MissingDatabaseIdentityError } from '../../errors/missing-database-identity-error.js';
import type { Db, Tx } from '../../store/prisma-client.js';

/**
 * Where a recharge-metrics value stands in THIS database's history:
 * `databaseId` (the UUID of `database_identity`, new for every created
 * database), `generation` (of the consumer group's Redis keys, bumped by a
 * rebuild and when Redis is found ahead of the database) and `seq` (the
 * number of the last batch commit that changed the aggregates; commits are
 * numbered in commit order because each batch transaction updates the one
 * state row last, holding its lock until it commits).
 */
export interface ServingVersion {
  databaseId: string;
  generation: number;
  /** Commit sequence number, >= 0. */
  seq: number;
}

/**
 * The rows that tie the Redis copy of recharge-metrics to this database
 * (`database_identity`, `recharge_serving_state`): a Redis value is trusted
 * only when it was written under this database's identity and the group's
 * current generation, and no value under them is newer than the database's
 * last commit (so a restored backup, older than Redis, is noticed).
 */
export class RechargeServingState {
  private identity: Promise<string> | null = null;
  /**
   * The last version read, answered for `maxAgeMs` (lru-cache's `ttl`, counted from when the read
   * finished); callers asking while a read is in flight share it. A rebuild's new generation clears
   * it; a read in flight then still finishes and is kept, as it may be behind but never ahead.
   */
  private readonly versions: LRUCache<string, ServingVersion> | null;

  /**
   * @param groupId the recharge-metrics consumer group (`RECHARGE_GROUP`).
   * @param maxAgeMs how long {@link current} may answer from memory, MILLISECONDS (<= 1000).
   */
  constructor(
    private readonly db: Db,
    readonly groupId: string,
    maxAgeMs = 1_000,
  ) {
    // lru-cache reads a ttl of 0 as "never expires": 0 here means "always read".
    this.versions =
      maxAgeMs > 0
        ? new LRUCache<string, ServingVersion>({
            max: 1,
            ttl: maxAgeMs,
            ignoreFetchAbort: true,
            fetchMethod: () => this.read(),
          })
        : null;
  }

  /**
   * The UUID of this database, read once per process (again after a failure).
   * @throws {MissingDatabaseIdentityError} when the migrations did not run.
   */
  databaseId(): Promise<string> {
    this.identity ??= this.db.$queryRaw<{ uuid: string }[]>`SELECT uuid FROM database_identity WHERE id = 1`
      .then((rows) => {
        if (rows.length === 0) throw new MissingDatabaseIdentityError();
        return rows[0].uuid;
      })
      .catch((err: unknown) => {
        this.identity = null;
        throw err;
      });
    return this.identity;
  }

  /**
   * The group's generation and last commit number. `fresh` reads the
   * database; otherwise an answer up to `maxAgeMs` old may come from memory
   * (it can only be behind, never ahead, of the database in one history).
   */
  async current(fresh = false): Promise<ServingVersion> {
    if (this.versions === null) return this.read();
    const version = await this.versions.fetch(this.groupId, { forceRefresh: fresh });
    // fetch resolves to undefined only for an aborted fetch, which ignoreFetchAbort rules out.
    return version ?? this.read();
  }

  /** Reads the group's version from the database. */
  private async read(): Promise<ServingVersion> {
    const [databaseId, rows] = await Promise.all([
      this.databaseId(),
      this.db.$queryRaw<
        { generation: number | bigint; seq: bigint }[]
      >`SELECT generation, seq FROM recharge_serving_state WHERE group_id = ${this.groupId}`,
    ]);
    return {
      databaseId,
      generation: rows.length > 0 ? Number(rows[0].generation) : 1,
      seq: rows.length > 0 ? Number(rows[0].seq) : 0,
    };
  }

  /**
   * Inside a batch transaction, after its aggregate writes and before it
   * reads the totals it publishes: numbers this commit. The row is the
   * group's ordering row: its lock is held until the commit, so the numbers
   * follow the commit order, and a READ COMMITTED read after it counts every
   * earlier commit and no later one. The new generation and number are read
   * back in the same transaction with the totals
   * (`RechargeMetricsStore.readBack` with this {@link groupId}): one round
   * trip fewer while the group's other transactions wait on this row.
   */
  async bump(tx: Tx): Promise<void> {
    await tx.$executeRaw`INSERT INTO recharge_serving_state (group_id, generation, seq) VALUES (${this.groupId}, 1, 1)
      ON DUPLICATE KEY UPDATE seq = seq + 1, updated_at = NOW(3)`;
  }

  /** Inside a rebuild transaction: starts a new generation, so no key written before can be read. */
  async newGeneration(tx: Tx): Promise<void> {
    await tx.$executeRaw`INSERT INTO recharge_serving_state (group_id, generation, seq) VALUES (${this.groupId}, 2, 0)
      ON DUPLICATE KEY UPDATE generation = generation + 1, updated_at = NOW(3)`;
    this.versions?.clear();
  }

  /**
   * Redis was found ahead of the database under `generation` (a restored
   * backup): starts a new generation unless another process already did.
   * @returns the version now current.
   */
  async abandonGeneration(generation: number): Promise<ServingVersion> {
    await this.db
      .$executeRaw`INSERT INTO recharge_serving_state (group_id, generation, seq) VALUES (${this.groupId}, ${generation + 1}, 0)
      ON DUPLICATE KEY UPDATE generation = IF(generation = ${generation}, generation + 1, generation), updated_at = NOW(3)`;
    return this.current(true);
  }
}
