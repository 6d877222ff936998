// Every job on a database created beforehand with default character set
// latin1 (CREATE DATABASE x CHARACTER SET latin1 COLLATE latin1_swedish_ci),
// as an administrator might have made it: the migrations apply, and each
// job's known-answer stream gives exactly the same answers as on utf8mb4.
// The known-answer suites themselves run here, unchanged, with every database
// they create made latin1 first.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, sql } from '../helpers/services.js';

process.env.TEST_DATABASE_CHARSET = 'latin1';

describe('a database whose default character set is latin1', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  before(async () => {
    db = await createTestDatabase();
  });

  after(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined when before() failed
    await db?.drop();
  });

  it('should keep latin1 as the database default, while every table and text column of the migrations is utf8mb4', async () => {
    const [schema] = await sql<{ cs: string; co: string }>(
      db.url,
      'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [db.name],
    );
    assert.deepEqual({ ...schema }, { cs: 'latin1', co: 'latin1_swedish_ci' });
    const tables = await sql<{ name: string; co: string }>(
      db.url,
      'SELECT TABLE_NAME AS name, TABLE_COLLATION AS co FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
      [db.name],
    );
    assert.ok(tables.length >= 19, `${tables.length} tables`);
    for (const t of tables) assert.match(t.co, /^utf8mb4_/, t.name);
    const columns = await sql<{ t: string; c: string; cs: string }>(
      db.url,
      'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND CHARACTER_SET_NAME IS NOT NULL',
      [db.name],
    );
    for (const c of columns) assert.ok(c.cs === 'utf8mb4' || c.cs === 'ascii', `${c.t}.${c.c} is ${c.cs}`);
  });
});

// Each suite creates its own database (through createTestDatabase, so latin1 by the variable above).
await import('./abnormal-orders-known-answers.test.js');
await import('./recharge-metrics-known-answers.test.js');
await import('./hot-products-known-answers.test.js');
await import('./daily-active-users.test.js');
