/** One product of a published hot-products ranking. */
export interface HotProductPayload {
  productId: string;
  clicks: number;
  /** 1-based; equal clicks get consecutive ranks, the smaller productId first. */
  rank: number;
  category: string | null;
}

/**
 * The ranking of the hour ending at a 5-minute boundary of event time,
 * published once per boundary when the job's watermark passed it.
 * Times are ISO-8601 strings (UTC); `products` holds the top 100.
 */
export interface HotProductsUpdatedEvent {
  windowStart: string;
  windowEnd: string;
  products: HotProductPayload[];
}

/** Worker -> API processes: the ranking of a 5-minute boundary (`hotProductsUpdated`). */
export const TOPIC_HOT_PRODUCTS_UPDATED = 'HOT_PRODUCTS_UPDATED' as const;

/** Kinds of the change-log entries of the hot-products stream. */
export const HOT_PRODUCTS_CHANGE_KIND = {
  /** The ranking of a boundary (partition -1, job-wide). */
  hotProductsRanking: 'hot-products-ranking',
} as const;
