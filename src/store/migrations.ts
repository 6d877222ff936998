import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createConnection, type Connection } from 'mariadb';
import { MigrationError } from '../errors/migration-error.js';
import { parseDatabaseUrl } from './database-url.js';

// Prisma's own bookkeeping table (mysql flavour), so `prisma migrate deploy`
// on a machine with the schema engine sees these migrations as applied.
const PRISMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS \`_prisma_migrations\` (
  \`id\` VARCHAR(36) PRIMARY KEY NOT NULL,
  \`checksum\` VARCHAR(64) NOT NULL,
  \`finished_at\` DATETIME(3),
  \`migration_name\` VARCHAR(255) NOT NULL,
  \`logs\` TEXT,
  \`rolled_back_at\` DATETIME(3),
  \`started_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`applied_steps_count\` INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

/** The folder of migrations, relative to the package root, in Prisma's layout. */
export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../../prisma/migrations');

/**
 * Creates the database named in `databaseUrl` if it does not exist.
 * @throws the driver's error when the server is unreachable.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const { database, ...opts } = parseDatabaseUrl(databaseUrl);
  const conn = await createConnection({ ...opts, connectTimeout: 5_000 });
  try {
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS \`${database.replace(/`/g, '``')}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await conn.end();
  }
}

/**
 * Applies every migration under `dir` that the database has not applied yet,
 * in name order, recording each in `_prisma_migrations` with the sha256 hex
 * checksum of its `migration.sql`, exactly as `prisma migrate deploy` does.
 * Concurrent callers on one database are serialised with a named lock.
 * @returns the names of the migrations applied now.
 * @throws {MigrationError} when an applied migration's file has changed, or a statement fails.
 */
export async function applyMigrations(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const opts = parseDatabaseUrl(databaseUrl);
  const conn = await createConnection({ ...opts, multipleStatements: true, connectTimeout: 5_000 });
  const applied: string[] = [];
  try {
    await conn.query("SELECT GET_LOCK('rt_analytics_migrate', 60)");
    await conn.query(PRISMA_MIGRATIONS_DDL);
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const name of names) {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const rows: { checksum: string }[] = await conn.query(
        'SELECT checksum FROM _prisma_migrations WHERE migration_name = ? AND finished_at IS NOT NULL AND rolled_back_at IS NULL',
        [name],
      );
      if (rows.length > 0) {
        if (rows[0].checksum !== checksum) {
          throw new MigrationError(
            `migration ${name} was applied with different SQL (checksum ${rows[0].checksum}, file ${checksum}): migrations must never be edited once applied`,
          );
        }
        continue;
      }
      await runMigration(conn, name, sql, checksum);
      applied.push(name);
    }
  } finally {
    await conn.query("SELECT RELEASE_LOCK('rt_analytics_migrate')").catch(() => undefined);
    await conn.end();
  }
  return applied;
}

async function runMigration(conn: Connection, name: string, sql: string, checksum: string): Promise<void> {
  const id = randomUUID();
  await conn.query(
    'INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES (?, ?, ?, NOW(3))',
    [id, checksum, name],
  );
  try {
    await conn.query(sql);
  } catch (err) {
    await conn.query('UPDATE _prisma_migrations SET logs = ? WHERE id = ?', [String(err), id]);
    throw new MigrationError(`migration ${name} failed: ${(err as Error).message}`, { cause: err });
  }
  await conn.query('UPDATE _prisma_migrations SET finished_at = NOW(3), applied_steps_count = 1 WHERE id = ?', [id]);
}
