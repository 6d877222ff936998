import { z } from 'zod';
import { userBehaviorSettings } from '../user-behavior/user-behavior-settings.js';

/** The daily-active-users job's variables, with their defaults (merged into the configuration). */
export const dailyActiveUsersSettings = z.object({
  ...userBehaviorSettings,
  /** Consumer group of the daily-active-users job (reads USER_BEHAVIOR_TOPIC). @default "daily-active-users" */
  DAU_GROUP: z.string().default('daily-active-users'),
});

export type DailyActiveUsersSettings = z.output<typeof dailyActiveUsersSettings>;
