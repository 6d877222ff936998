import { z } from 'zod';
import { positiveMs } from '../../config/config.js';
import { userBehaviorSettings } from '../user-behavior/user-behavior-settings.js';

/** The abnormal-orders job's variables, with their defaults (merged into the configuration). */
export const abnormalOrdersSettings = z
  .object({
    ...userBehaviorSettings,
    /** Consumer group of the abnormal-orders job. @default "abnormal-orders" */
    ABNORMAL_ORDERS_GROUP: z.string().default('abnormal-orders'),
    /** Hopping window size in milliseconds. Production: 600000 (10 min). @default 60000 // 60 seconds */
    ABNORMAL_WINDOW_SIZE_MS: positiveMs('ABNORMAL_WINDOW_SIZE_MS').default(60_000),
    /** Hopping window advance in milliseconds. Production: 120000 (2 min). @default 30000 // 30 seconds */
    ABNORMAL_WINDOW_ADVANCE_MS: positiveMs('ABNORMAL_WINDOW_ADVANCE_MS').default(30_000),
    /** Minimum `enterOrderPage` events in one window. @default 3 */
    ABNORMAL_THRESHOLD: z.coerce.number().int().positive().default(3),
  })
  .refine((c) => c.ABNORMAL_WINDOW_SIZE_MS % c.ABNORMAL_WINDOW_ADVANCE_MS === 0, {
    error: 'ABNORMAL_WINDOW_SIZE_MS must be a multiple of ABNORMAL_WINDOW_ADVANCE_MS',
    path: ['ABNORMAL_WINDOW_SIZE_MS'],
  });

export type AbnormalOrdersSettings = z.output<typeof abnormalOrdersSettings>;
