import type { PoolConfig } from 'mariadb';
import { ConfigError } from '../errors/config-error.js';

/**
 * Splits `mysql://user:password@host:port/database?connectionLimit=N&prepareCacheLength=M`
 * into driver options: `connectionLimit` connections per pool (default 10) and
 * `prepareCacheLength` prepared statements kept open per connection (default 64).
 *
 * Why a statement cache: Prisma's mariadb adapter turns the driver's cache off
 * unless told otherwise, so every statement costs a prepare, an execute and a
 * close (three packets, two round trips). The batch transactions run the same
 * few statement texts again and again (their rows travel as one JSON
 * parameter), so with a cache each is prepared once per connection and then
 * only executed. The driver (mariadb 3.x) keeps the cache in an LRU that closes
 * a statement when it is evicted, so the server's count stays below
 * `connections x prepareCacheLength` (a worker running all four jobs held about
 * 220). `prepareCacheLength=0` restores one prepare per statement.
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
  const prepareCache = u.searchParams.get('prepareCacheLength');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    database,
    connectionLimit: limit ? Number(limit) : 10,
    prepareCacheLength: prepareCache ? Number(prepareCache) : 64,
    // DATETIME columns hold UTC; the driver must not shift them by the host's zone.
    timezone: 'Z',
    bigIntAsNumber: false,
    insertIdAsNumber: true,
  };
}
