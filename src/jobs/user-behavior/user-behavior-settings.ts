import { z } from 'zod';

/** The behaviour stream's setting, shared by the jobs that read it. */
export const userBehaviorSettings = {
  /** Topic of the user-behaviour events. @default "user-behavior" */
  USER_BEHAVIOR_TOPIC: z.string().default('user-behavior'),
};
