// `npm run migrate`: creates the database of DATABASE_URL if needed and applies
// prisma/migrations (recorded in _prisma_migrations like `prisma migrate deploy`).
import { loadConfig } from '../src/app-config.js';
import { applyMigrations, ensureDatabase } from '../src/store/migrations.js';

const config = loadConfig();
try {
  await ensureDatabase(config.DATABASE_URL);
  const applied = await applyMigrations(config.DATABASE_URL);
  console.log(applied.length ? `migrate: applied ${applied.join(', ')}` : 'migrate: up to date');
} catch (err) {
  console.error(`migrate: ${(err as Error).message}`);
  process.exit(1);
}
