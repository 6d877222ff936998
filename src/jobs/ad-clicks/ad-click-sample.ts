import type { SampleSource } from '../../engine/job-module.js';
import type { AdClicksSettings } from './ad-clicks-settings.js';
import { AD_CLICK_GENERATOR_DEFAULTS, generateAdClicks } from './ad-click-generator.js';

/**
 * `npm run produce -- --kind ad-clicks`: clicks on 200 ads (a few get most),
 * 10% from click robots that `npm run seed` blacklists; --users is the user pool.
 */
export const adClicksSample: SampleSource<AdClicksSettings> = {
  kind: 'ad-clicks',
  topic: (config) => config.AD_CLICKS_TOPIC,
  records: (o) =>
    generateAdClicks({
      seed: o.seed,
      users: o.users,
      malformedShare: o.malformedShare,
      clock: o.clock,
      startTimeMs: o.startTimeMs,
      eventsPerSecond: o.eventsPerSecond,
    }),
  defaults: AD_CLICK_GENERATOR_DEFAULTS,
};
