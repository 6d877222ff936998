// `npm run seed`: fills `vip_user` (the read-only copy of the business
// database's VIPs) with the sample producer's VIPs. Idempotent.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/app-config.js';
import { sampleVipUids } from '../src/jobs/user-behavior/user-behavior-generator.js';
import { createDb } from '../src/store/prisma-client.js';
import { seedVipUsers } from '../src/jobs/abnormal-orders/vip-user-seed.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, users: { type: 'string' } } });
const config = loadConfig();
const db = createDb(config.DATABASE_URL);
try {
  const uids = sampleVipUids({
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values.users ? { users: Number(values.users) } : {}),
  });
  const added = await seedVipUsers(db, uids);
  console.log(`seed: ${uids.length} sample VIPs in vip_user (${added} added now)`);
} catch (err) {
  console.error(`seed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
