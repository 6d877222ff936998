import { serviceKey } from '../../engine/service-registry.js';
import type { DailyActiveUserStore } from './daily-active-user-store.js';

/** Tables of the daily-active-users job, for its resolver. */
export const DAILY_ACTIVE_USERS_SERVICES = serviceKey<DailyActiveUserStore>('daily-active-users');
