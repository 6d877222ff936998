import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Per API key operation budget (rate-limiter-flexible), shared by every API
 * process through Redis; while Redis is unreachable each process falls back
 * to its own in-memory budget rather than letting everything through. A key
 * that spent its budget is then refused by this process from memory (no
 * Redis round trip) until its 60-second window ends.
 */
export class OperationRateLimiter {
  private readonly limiter: RateLimiterRedis;

  /** @param perMinute operations each key may start per minute. */
  constructor(
    redis: Redis,
    readonly perMinute: number,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: 'rt:ratelimit',
      points: perMinute,
      duration: 60,
      insuranceLimiter: new RateLimiterMemory({ points: perMinute, duration: 60 }),
      // A key past its budget is refused from memory until its window ends, without a Redis round trip.
      inMemoryBlockOnConsumed: perMinute + 1,
    });
  }

  /**
   * Takes one operation from `subject`'s budget (a key id, or `ip:<address>`).
   * @returns null when allowed, else the error to answer with:
   *   `extensions.code` `RATE_LIMITED` and `retryAfterSeconds`.
   */
  async consume(subject: string): Promise<GraphQLError | null> {
    try {
      await this.limiter.consume(subject);
      return null;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) return null;
      const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      return new GraphQLError(
        `rate limit of ${this.perMinute} operations per minute reached: retry in ${retryAfterSeconds} s`,
        {
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds, http: { status: 429 } },
        },
      );
    }
  }
}
