import { ABNORMAL_ORDERS_SERVICES } from './abnormal-orders-services.js';
import DataLoader from 'dataloader';
import type { UnpaidUserRow, UnpaidUserStore } from './unpaid-user-store.js';
import type { GraphQLContext } from '../../graphql/context.js';

/** Most uids one batched `unpayment_record` lookup carries. */
export const MAX_UID_BATCH = 200;

const loaders = new WeakMap<UnpaidUserStore, DataLoader<string, UnpaidUserRow | null>>();

/**
 * The process's batching loader of `unpayment_record` rows by uid
 * (dataloader): every `unpaidUser(uid:)` field of every operation that asks
 * before the event loop's next check phase (`setImmediate`) becomes one
 * primary-key query, so a burst of requests that arrived together costs one
 * query, not one each. It caches nothing (`cache: false`): each lookup is a
 * query started after the operation asked, as fresh as a query of its own.
 */
export function unpaidUserLoader(ctx: GraphQLContext): DataLoader<string, UnpaidUserRow | null> {
  const store = ctx.services.modules.get(ABNORMAL_ORDERS_SERVICES).unpaidUsers;
  let loader = loaders.get(store);
  if (!loader) {
    loader = new DataLoader((uids: readonly string[]) => store.getMany(uids), {
      cache: false,
      maxBatchSize: MAX_UID_BATCH,
      // All requests read in one poll phase of the event loop share the query.
      batchScheduleFn: (run) => setImmediate(run),
    });
    loaders.set(store, loader);
  }
  return loader;
}
