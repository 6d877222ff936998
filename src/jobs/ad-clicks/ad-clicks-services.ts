import { serviceKey } from '../../engine/service-registry.js';
import type { AdClickStore } from './ad-click-store.js';

/** The ad-clicks tables (minute counts, blacklist), for its resolvers. */
export const AD_CLICKS_SERVICES = serviceKey<AdClickStore>('ad-clicks');
