import type { Db } from '../../store/prisma-client.js';

/**
 * Inserts the `uids` that `vip_user` does not hold yet (the table has no
 * unique key: it mirrors the business database's schema).
 * @returns how many rows were added.
 */
export async function seedVipUsers(db: Db, uids: readonly string[]): Promise<number> {
  const existing = new Set(
    (await db.vipUser.findMany({ where: { uid: { in: [...uids] } }, select: { uid: true } })).map((v) => v.uid),
  );
  const missing = [...new Set(uids)].filter((u) => !existing.has(u));
  if (missing.length > 0) await db.vipUser.createMany({ data: missing.map((uid) => ({ uid })) });
  return missing.length;
}
