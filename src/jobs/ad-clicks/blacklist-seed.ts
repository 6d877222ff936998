import type { Db } from '../../store/prisma-client.js';
import { SAMPLE_ROBOT_IP, SAMPLE_ROBOT_USER_IPS, SAMPLE_ROBOT_USERS } from './ad-click-generator.js';

/** Who the audit names for the sample entries: no API key made them. */
const SEED_ACTOR = { role: 'ops', keyId: 'npm-run-seed' } as const;
const SEED_NOTE = 'sample click robot (npm run seed)';

/**
 * `npm run seed`: puts the sample generator's robots on the blacklist (two of
 * the three robot users and the shared robot IP, so the third robot's clicks
 * still count until an operator adds it), each audited once. Idempotent:
 * entries already there, or removed by an operator since (an audited removal),
 * are left alone.
 */
export async function seedSampleBlacklist(db: Db): Promise<string> {
  const entries: ['user' | 'ip', string][] = [
    ['user', SAMPLE_ROBOT_USERS[0]],
    ['user', SAMPLE_ROBOT_USERS[1]],
    ['ip', SAMPLE_ROBOT_IP],
  ];
  let added = 0;
  for (const [kind, value] of entries) {
    added += await db.$transaction(async (tx) => {
      const [seen] = await tx.$queryRaw<
        { n: bigint }[]
      >`SELECT COUNT(*) AS n FROM ad_blacklist_audit WHERE kind = ${kind} AND value = ${value}`;
      if (Number(seen.n) > 0) return 0;
      const inserted = await tx.$executeRaw`INSERT IGNORE INTO ad_blacklist (kind, value, note, role, key_id, added_at)
        VALUES (${kind}, ${value}, ${SEED_NOTE}, ${SEED_ACTOR.role}, ${SEED_ACTOR.keyId}, UTC_TIMESTAMP(3))`;
      if (inserted === 1)
        await tx.$executeRaw`INSERT INTO ad_blacklist_audit (action, kind, value, note, role, key_id, changed_at)
          VALUES ('add', ${kind}, ${value}, ${SEED_NOTE}, ${SEED_ACTOR.role}, ${SEED_ACTOR.keyId}, UTC_TIMESTAMP(3))`;
      return inserted;
    });
  }
  return `ad blacklist: ${added} sample robot entries added (${entries.length - added} already there or removed by an operator; robot ${SAMPLE_ROBOT_USERS[2]} at ${SAMPLE_ROBOT_USER_IPS[2]} left off)`;
}
