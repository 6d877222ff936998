// `npm run seed`: fills the reference data the jobs read (e.g. `vip_user`, the
// read-only copy of the business database's VIPs) with the sample producer's
// values, through each job module's `seedSample`. Idempotent.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/app-config.js';
import { JOB_MODULES } from '../src/jobs/index.js';
import { createDb } from '../src/store/prisma-client.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, users: { type: 'string' } } });
const config = loadConfig();
const db = createDb(config.DATABASE_URL);
try {
  for (const module of JOB_MODULES) {
    if (!module.seedSample) continue;
    const done = await module.seedSample(db, {
      ...(values.seed ? { seed: Number(values.seed) } : {}),
      ...(values.users ? { users: Number(values.users) } : {}),
    });
    console.log(`seed: ${done}`);
  }
} catch (err) {
  console.error(`seed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
