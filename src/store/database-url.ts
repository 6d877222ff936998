import type { PoolConfig } from 'mariadb';
import { ConfigError } from '../errors/config-error.js';

/**
 * Splits `mysql://user:password@host:port/database?connectionLimit=N` into
 * driver options.
 * @throws {ConfigError} when the URL has no database name or is not mysql/mariadb.
 */
export function parseDatabaseUrl(url: string): PoolConfig & { database: string } {
  const u = new URL(url);
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new ConfigError(`DATABASE_URL must start with mysql:// or mariadb://, got ${u.protocol}//`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database)
    throw new ConfigError('DATABASE_URL must name a database, e.g. mysql://root@127.0.0.1:3306/rt_analytics');
  const limit = u.searchParams.get('connectionLimit');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    database,
    connectionLimit: limit ? Number(limit) : 10,
    // DATETIME columns hold UTC; the driver must not shift them by the host's zone.
    timezone: 'Z',
    bigIntAsNumber: false,
    insertIdAsNumber: true,
  };
}
