/**
 * Order ids this worker recorded in `recharge_order` lately, bounded: at most
 * `capacity` ids are kept (two generations of `capacity / 2`; when the newer
 * one is full the older one is dropped whole, so a lookup stays one or two
 * hash probes and memory never grows past the bound).
 *
 * It only chooses WHERE the de-duplication looks, never what it decides: an
 * id found here is checked against `recharge_order` in the batch transaction
 * (it is probably a duplicate, but a restored database or a rebuild may have
 * forgotten it), and an id not found here is inserted with a plain INSERT,
 * whose duplicate-key error tells when the database knew it after all. So a
 * stale, lost or empty set (a restart, another worker's orders) costs time,
 * never exactness: the database stays the source of truth.
 */
export class RecentOrderIds {
  private newer = new Set<string>();
  private older = new Set<string>();
  private readonly generationSize: number;

  /**
   * @param capacity most ids kept (>= 2); about 60-70 bytes of heap each for
   *   the 18-digit ids of the real log.
   * @throws {RangeError} when `capacity` is not an integer >= 2.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2)
      throw new RangeError(`capacity must be an integer >= 2 (order ids), got ${capacity}`);
    this.generationSize = Math.floor(capacity / 2);
  }

  /** Whether `orderId` was added and not dropped since. */
  has(orderId: string): boolean {
    return this.newer.has(orderId) || this.older.has(orderId);
  }

  /**
   * Remembers `orderId`. Not looked up first (one hash probe per order on the
   * hot path): an id kept in the older generation is then kept in both until
   * the older one is dropped, so {@link size} may count it twice.
   */
  add(orderId: string): void {
    if (this.newer.size >= this.generationSize) {
      this.older = this.newer;
      this.newer = new Set<string>();
    }
    this.newer.add(orderId);
  }

  /** Entries kept now, <= capacity (an id in both generations counts twice). */
  get size(): number {
    return this.newer.size + this.older.size;
  }

  /** Forgets every id (after a rebuild cleared `recharge_order`). */
  clear(): void {
    this.newer = new Set<string>();
    this.older = new Set<string>();
  }
}
