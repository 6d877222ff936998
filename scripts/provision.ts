// Creates what the service needs on its services: the database of
// DATABASE_URL, its migrations, and the Kafka topics. Idempotent; run by
// `npm run stack:up`, `npm run demo` and the tests.
import { loadConfig } from '../src/app-config.js';
import { requiredTopics } from '../src/config/topics.js';
import { sourceTopics } from '../src/engine/registry.js';
import { JOB_MODULES } from '../src/jobs/index.js';
import { checkServices } from '../src/preflight.js';
import { createKafka, ensureTopics } from '../src/ingest/kafka-client.js';
import { applyMigrations, ensureDatabase } from '../src/store/migrations.js';
import { AppError } from '../src/errors/app-error.js';

async function main(): Promise<void> {
  const config = loadConfig();
  await checkServices(config);
  await ensureDatabase(config.DATABASE_URL);
  const applied = await applyMigrations(config.DATABASE_URL);
  const admin = createKafka(config.KAFKA_BROKERS, 'rt-analytics-provision').admin();
  await admin.connect();
  try {
    const created = await ensureTopics(admin, requiredTopics(sourceTopics(config, JOB_MODULES), config));
    const db = new URL(config.DATABASE_URL).pathname.slice(1);
    console.log(
      `provision: database ${db} ready (${applied.length ? `applied ${applied.join(', ')}` : 'migrations up to date'}); topics ${created.length ? `created ${created.join(', ')}` : 'up to date'}`,
    );
  } finally {
    await admin.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof AppError ? `provision: ${err.message}` : err);
  process.exit(1);
});
