import { z } from 'zod';

/** The ad-clicks job's variables, with their defaults (merged into the configuration). */
export const adClicksSettings = z.object({
  /** Topic of the ad click stream (JSON, event_time in epoch milliseconds, any key). @default "ad-clicks" */
  AD_CLICKS_TOPIC: z.string().min(1).default('ad-clicks'),
  /** Consumer group of the ad-clicks job (also its change-log stream). @default "ad-clicks" */
  AD_CLICKS_GROUP: z.string().min(1).default('ad-clicks'),
});

export type AdClicksSettings = z.output<typeof adClicksSettings>;
