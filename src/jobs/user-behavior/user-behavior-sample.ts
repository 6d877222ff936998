import type { SampleSource } from '../../engine/job-module.js';
import { generateUserBehavior, USER_BEHAVIOR_GENERATOR_DEFAULTS } from './user-behavior-generator.js';

/** `npm run produce -- --kind behavior`: app behaviour logs, a share of users bursting enterOrderPage. */
export const userBehaviorSample: SampleSource<{ USER_BEHAVIOR_TOPIC: string }> = {
  kind: 'behavior',
  topic: (config) => config.USER_BEHAVIOR_TOPIC,
  records: (o) =>
    generateUserBehavior({
      seed: o.seed,
      users: o.users,
      abnormalShare: o.abnormalShare,
      malformedShare: o.malformedShare,
      clock: o.clock,
      startTimeMs: o.startTimeMs,
      eventsPerSecond: o.eventsPerSecond,
    }),
  defaults: USER_BEHAVIOR_GENERATOR_DEFAULTS,
};
