import { serviceKey } from '../../engine/service-registry.js';
import type { HotProductStore } from './hot-product-store.js';

/** Click tables of the hot-products job (rankings, minute buckets), for its resolvers. */
export const HOT_PRODUCTS_SERVICES = serviceKey<HotProductStore>('hot-products');
