import { z } from 'zod';
import { positiveMs } from '../../config/config.js';

/** The recharge-metrics job's variables, with their defaults (merged into the configuration). */
export const rechargeMetricsSettings = z.object({
  /** Topic of the recharge events (JSON, key = orderId). @default "recharge" */
  RECHARGE_TOPIC: z.string().default('recharge'),
  /** Consumer group of the recharge-metrics job. @default "recharge-metrics" */
  RECHARGE_GROUP: z.string().default('recharge-metrics'),
  /**
   * How long order ids are kept for de-duplication, in DAYS of notify time
   * (wall clock). A recharge record whose notify time is already older than
   * this when it arrives cannot be proven not to be a duplicate: it is
   * dead-lettered with reason `beyond-dedup-horizon` and counted per
   * partition. @default 7
   */
  RECHARGE_DEDUP_HORIZON_DAYS: z.coerce
    .number()
    .positive('RECHARGE_DEDUP_HORIZON_DAYS must be greater than 0 (days)')
    .default(7),
  /** How often a worker prunes order ids beyond the de-duplication horizon, in milliseconds. @default 600000 // 10 minutes */
  RECHARGE_DEDUP_PRUNE_INTERVAL_MS: positiveMs('RECHARGE_DEDUP_PRUNE_INTERVAL_MS').default(600_000),
  /** Minimum time a subscription or metric stays coalesced, in milliseconds. @default 1000 */
  PUBLISH_INTERVAL_MS: positiveMs('PUBLISH_INTERVAL_MS').default(1_000),
});

export type RechargeMetricsSettings = z.output<typeof rechargeMetricsSettings>;
