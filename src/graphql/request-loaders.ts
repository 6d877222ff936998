import DataLoader from 'dataloader';
import type { UnpaidUserRow } from '../store/unpaid-user-store.js';
import type { GraphQLContext } from './context.js';

/** Most uids one batched `unpayment_record` lookup carries. */
export const MAX_UID_BATCH = 200;

const loaders = new WeakMap<GraphQLContext, DataLoader<string, UnpaidUserRow | null>>();

/**
 * The request's batching loader of `unpayment_record` rows by uid
 * (dataloader): every `unpaidUser(uid:)` field of one operation resolved in
 * the same tick becomes one primary-key query. Scoped to one operation's
 * context and dropped with it, so it caches nothing across requests (no
 * staleness beyond the operation itself).
 */
export function unpaidUserLoader(ctx: GraphQLContext): DataLoader<string, UnpaidUserRow | null> {
  let loader = loaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((uids: readonly string[]) => ctx.services.unpaidUsers.getMany(uids), {
      maxBatchSize: MAX_UID_BATCH,
    });
    loaders.set(ctx, loader);
  }
  return loader;
}
