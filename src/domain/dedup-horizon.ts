/**
 * Dead-letter reason of a record whose event time was already beyond its job's
 * de-duplication horizon when it arrived: it cannot be proven not to duplicate
 * a record whose id was pruned, so it is not counted (and is counted in its
 * partition's `consumer_offset.beyond_dedup_horizon`).
 */
export const BEYOND_DEDUP_HORIZON = 'beyond-dedup-horizon';
