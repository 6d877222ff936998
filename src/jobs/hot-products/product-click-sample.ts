import type { SampleSource } from '../../engine/job-module.js';
import type { HotProductsSettings } from './hot-products-settings.js';
import { PRODUCT_CLICK_GENERATOR_DEFAULTS, generateProductClicks } from './product-click-generator.js';

/**
 * `npm run produce -- --kind clicks`: Zipf-skewed popularity over 3,000 products in 8 categories,
 * mostly clicks, some views/carts/favorites/purchases; --users is the user pool.
 */
export const productClicksSample: SampleSource<HotProductsSettings> = {
  kind: 'clicks',
  topic: (config) => config.PRODUCT_CLICKS_TOPIC,
  records: (o) =>
    generateProductClicks({
      seed: o.seed,
      users: o.users,
      malformedShare: o.malformedShare,
      clock: o.clock,
      startTimeMs: o.startTimeMs,
      eventsPerSecond: o.eventsPerSecond,
    }),
  defaults: PRODUCT_CLICK_GENERATOR_DEFAULTS,
};
