import { z } from 'zod';

/** The hot-products job's variables, with their defaults (merged into the configuration). */
export const hotProductsSettings = z.object({
  /** Topic of the product click stream (JSON, event_time in epoch milliseconds, any key). @default "product-clicks" */
  PRODUCT_CLICKS_TOPIC: z.string().default('product-clicks'),
  /** Consumer group of the hot-products job. @default "hot-products" */
  HOT_PRODUCTS_GROUP: z.string().default('hot-products'),
});

export type HotProductsSettings = z.output<typeof hotProductsSettings>;
