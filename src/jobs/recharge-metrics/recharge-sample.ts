import type { SampleSource } from '../../engine/job-module.js';
import type { RechargeMetricsSettings } from './recharge-metrics-settings.js';
import { RECHARGE_GENERATOR_DEFAULTS, generateRecharges } from './recharge-generator.js';

/**
 * `npm run produce -- --kind recharge`: ~95% success, 1-60 s, common amounts, a few duplicates,
 * other services' records and malformed records; cities of Guangdong by population.
 */
export const rechargeSample: SampleSource<RechargeMetricsSettings> = {
  kind: 'recharge',
  topic: (config) => config.RECHARGE_TOPIC,
  records: (o) =>
    generateRecharges({
      seed: o.seed,
      malformedShare: o.malformedShare,
      clock: o.clock,
      startTimeMs: o.startTimeMs,
      eventsPerSecond: o.eventsPerSecond,
      // Live: ids from the wall clock, so a restarted producer does not repeat them (they would count as duplicates).
      orderIdBase: o.clock ? BigInt(Date.now()) * 100_000n : undefined,
    }),
  defaults: RECHARGE_GENERATOR_DEFAULTS,
};
