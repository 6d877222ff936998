import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Largest number of operations one API process reserves from the shared budget at once (see {@link reservationSize}). */
export const MAX_RESERVATION = 50;

/**
 * How many operations one process takes from a key's shared budget per Redis
 * round trip: a hundredth of the budget per minute, 1 to {@link MAX_RESERVATION}.
 * A process holds at most this many minus one reserved but unused operations
 * per key, so a key can be refused that much early per API process (at most
 * 1% of its budget each), and never admitted beyond its budget.
 * @param perMinute the budget, operations per minute.
 */
export function reservationSize(perMinute: number): number {
  return Math.max(1, Math.min(MAX_RESERVATION, Math.floor(perMinute / 100)));
}

/** Operations reserved by this process and not yet used, until the window they were taken from ends. */
interface Lease {
  points: number;
  /** End of the budget window they came from (performance.now clock, MILLISECONDS). */
  expiresAt: number;
}

/**
 * Per API key operation budget (rate-limiter-flexible), shared by every API
 * process through Redis; while Redis is unreachable each process falls back
 * to its own in-memory budget rather than letting everything through. A key
 * that spent its budget is then refused by this process from memory (no
 * Redis round trip) until its 60-second window ends.
 *
 * A round trip per operation would cost more CPU than a cached query, so the
 * process reserves {@link reservationSize} operations of the key's budget at a
 * time (one Redis call) and hands them out from memory; concurrent callers of
 * one key share one reservation in flight. With a budget below 200 per minute
 * every operation is its own round trip, exactly as without reservations.
 */
export class OperationRateLimiter {
  private readonly limiter: RateLimiterAbstract;
  /** Operations taken per Redis call. */
  readonly reservation: number;
  private readonly leases = new Map<string, Lease>();
  private readonly reserving = new Map<string, Promise<GraphQLError | null>>();

  /**
   * @param redis the shared store; null for a process-local budget only (tests).
   * @param perMinute operations each key may start per minute.
   */
  constructor(
    redis: Redis | null,
    readonly perMinute: number,
  ) {
    this.reservation = reservationSize(perMinute);
    const memory = new RateLimiterMemory({ points: perMinute, duration: 60 });
    this.limiter = redis
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: 'rt:ratelimit',
          points: perMinute,
          duration: 60,
          insuranceLimiter: memory,
          // A key past its budget is refused from memory until its window ends, without a Redis round trip.
          // A refused reservation overshoots by its size: only a window already spent before it blocks.
          inMemoryBlockOnConsumed: perMinute + this.reservation,
        })
      : memory;
  }

  /**
   * Takes one operation from `subject`'s budget (a key id, or `ip:<address>`).
   * @returns null when allowed, else the error to answer with:
   *   `extensions.code` `RATE_LIMITED` and `retryAfterSeconds`.
   */
  async consume(subject: string): Promise<GraphQLError | null> {
    for (;;) {
      const lease = this.leases.get(subject);
      if (lease) {
        if (lease.points > 0 && performance.now() < lease.expiresAt) {
          lease.points--;
          return null;
        }
        this.leases.delete(subject);
      }
      let pending = this.reserving.get(subject);
      if (!pending) {
        pending = this.reserve(subject).finally(() => this.reserving.delete(subject));
        this.reserving.set(subject, pending);
      }
      const refused = await pending;
      if (refused) return refused;
    }
  }

  /** Takes up to {@link reservation} operations from the shared budget into this process's lease of `subject`. */
  private async reserve(subject: string): Promise<GraphQLError | null> {
    const size = this.reservation;
    const startedAt = performance.now();
    let res: RateLimiterRes;
    let granted = size;
    try {
      res = await this.limiter.consume(subject, size);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return null;
      res = err;
      // A refusal from the in-memory block counted nothing (its consumedPoints are not the store's):
      // the window is spent. Otherwise the counter now holds the whole reservation: keep what was still
      // in the budget, give the rest back.
      const counted = res.consumedPoints > this.perMinute;
      const before = res.consumedPoints - size;
      granted = counted ? Math.max(0, Math.min(size, this.perMinute - before)) : 0;
      if (counted && granted < size && size > 1) {
        // Best effort: a lost give-back only refuses this key a little early in this window.
        await this.limiter.reward(subject, size - granted).catch(() => undefined);
      }
      if (granted === 0) return this.refusal(res);
    }
    this.leases.set(subject, { points: granted, expiresAt: startedAt + res.msBeforeNext });
    return null;
  }

  private refusal(res: RateLimiterRes): GraphQLError {
    const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return new GraphQLError(
      `rate limit of ${this.perMinute} operations per minute reached: retry in ${retryAfterSeconds} s`,
      {
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds, http: { status: 429 } },
      },
    );
  }
}
