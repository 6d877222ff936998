import type { Config } from '../../config/config.js';
import type { AbnormalOrdersSettings } from './abnormal-orders-settings.js';
import type { ApiDeps } from '../../engine/job-module.js';
import { serviceKey } from '../../engine/service-registry.js';
import { ClientMutationStore } from '../../store/client-mutation-store.js';
import { CallbackHistoryStore } from './callback-history-store.js';
import { CallbackStatusUpdater } from './callback-status-updater.js';
import { UnpaidUserStore } from './unpaid-user-store.js';

/** What the abnormal-orders resolvers use, built once per API process. */
export interface AbnormalOrdersServices {
  unpaidUsers: UnpaidUserStore;
  /** Callback status changes (single and bulk, idempotent with a clientMutationId). */
  callbackStatuses: CallbackStatusUpdater;
  /** The audit of callback statuses, as each user's history. */
  callbackHistory: CallbackHistoryStore;
}

export const ABNORMAL_ORDERS_SERVICES = serviceKey<AbnormalOrdersServices>('abnormal-orders');

export function createAbnormalOrdersServices(
  config: Config & AbnormalOrdersSettings,
  deps: ApiDeps,
): AbnormalOrdersServices {
  const unpaidUsers = new UnpaidUserStore(deps.db);
  return {
    unpaidUsers,
    callbackStatuses: new CallbackStatusUpdater(deps.db, {
      users: unpaidUsers,
      changeLog: deps.changeLog,
      mutations: new ClientMutationStore(deps.db),
      stream: config.ABNORMAL_ORDERS_GROUP,
    }),
    callbackHistory: new CallbackHistoryStore(deps.db),
  };
}
