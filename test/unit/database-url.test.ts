import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatabaseUrl } from '../../src/store/database-url.js';
import { ConfigError } from '../../src/errors/config-error.js';

test('a database URL gives the driver its host, credentials, pool size and statement cache', () => {
  const o = parseDatabaseUrl('mysql://app:s%40cret@db.internal:3307/rt_analytics');
  assert.equal(o.host, 'db.internal');
  assert.equal(o.port, 3307);
  assert.equal(o.user, 'app');
  assert.equal(o.password, 's@cret');
  assert.equal(o.database, 'rt_analytics');
  assert.equal(o.connectionLimit, 10);
  assert.equal(o.prepareCacheLength, 64, 'statements are prepared once per connection by default');
  assert.equal(o.timezone, 'Z');
});

test('connectionLimit and prepareCacheLength come from the URL; 0 turns the statement cache off', () => {
  const o = parseDatabaseUrl('mariadb://root@127.0.0.1/x?connectionLimit=4&prepareCacheLength=0');
  assert.equal(o.connectionLimit, 4);
  assert.equal(o.prepareCacheLength, 0);
  assert.equal(o.port, 3306);
});

test('a URL without a database or of another scheme is refused with a ConfigError', () => {
  assert.throws(() => parseDatabaseUrl('mysql://root@127.0.0.1:3306/'), ConfigError);
  assert.throws(() => parseDatabaseUrl('postgres://root@127.0.0.1/x'), ConfigError);
});
