import type { Db, Tx } from './prisma-client.js';

/** How long a clientMutationId is remembered, HOURS: a retry within it answers the first result and changes nothing. */
export const CLIENT_MUTATION_RETENTION_HOURS = 24;

/** Time between two prunings of `client_mutation` by each API process, MILLISECONDS: 10 minutes. */
export const CLIENT_MUTATION_PRUNE_INTERVAL_MS = 600_000;

/** Rows per DELETE statement of the pruning: short statements, short locks. */
const PRUNE_BATCH = 1_000;

/**
 * Idempotent retries of mutations (table `client_mutation`): per caller (the
 * stable id of its key, never the key) and `clientMutationId`, the answer of
 * the first call, kept {@link CLIENT_MUTATION_RETENTION_HOURS} hours in the
 * database, so a retry reaching another API process is recognised too.
 */
export class ClientMutationStore {
  constructor(private readonly db: Db) {}

  /**
   * Claims `(callerId, clientMutationId)` inside `tx`, FIRST in it (the row is
   * locked until `tx` ends, so a concurrent retry of the same id waits for this
   * call and then reads its result): inserts the row, or takes over one older
   * than the retention.
   * @returns the stored result of an earlier call within the retention (the
   *   caller answers it and writes nothing), or null (the caller runs the
   *   mutation and {@link record}s its result in the same `tx`).
   */
  async claim(tx: Tx, callerId: string, clientMutationId: string): Promise<unknown> {
    // Assignments run left to right: `result` is tested against the old created_at before it changes.
    await tx.$executeRaw`INSERT INTO client_mutation (key_id, client_mutation_id, result, created_at)
      VALUES (${callerId}, ${clientMutationId}, NULL, UTC_TIMESTAMP(3))
      ON DUPLICATE KEY UPDATE
        result = IF(created_at < UTC_TIMESTAMP(3) - INTERVAL ${CLIENT_MUTATION_RETENTION_HOURS} HOUR, NULL, result),
        created_at = IF(created_at < UTC_TIMESTAMP(3) - INTERVAL ${CLIENT_MUTATION_RETENTION_HOURS} HOUR, VALUES(created_at), created_at)`;
    const [row] = await tx.$queryRaw<
      ({ result: unknown } | undefined)[]
    >`SELECT result FROM client_mutation WHERE key_id = ${callerId} AND client_mutation_id = ${clientMutationId}`;
    const result = row?.result ?? null;
    // MariaDB's JSON is LONGTEXT (a string); MySQL 8 gives the parsed value.
    return typeof result === 'string' ? (JSON.parse(result) as unknown) : result;
  }

  /** Stores the result of the call that {@link claim}ed the id, in the same `tx` (JSON-serialised: dates become strings). */
  async record(tx: Tx, callerId: string, clientMutationId: string, result: unknown): Promise<void> {
    await tx.$executeRaw`UPDATE client_mutation SET result = ${JSON.stringify(result)}
      WHERE key_id = ${callerId} AND client_mutation_id = ${clientMutationId}`;
  }

  /**
   * Deletes the rows older than the retention, in statements of at most
   * 1,000 rows. Harmless from several processes at once.
   * @returns the rows deleted.
   */
  async prune(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = await this.db.$executeRaw`DELETE FROM client_mutation
        WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL ${CLIENT_MUTATION_RETENTION_HOURS} HOUR LIMIT ${PRUNE_BATCH}`;
      deleted += n;
      if (n < PRUNE_BATCH) return deleted;
    }
  }
}
