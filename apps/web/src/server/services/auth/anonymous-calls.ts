/**
 * A budget of calls per client address for callers without valid
 * credentials (rate-limiter-flexible's in-memory limiter: a fixed window of
 * `points` per `durationSeconds`, counted atomically per call, so a batch or
 * parallel requests count one each).
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

export interface AnonymousCallBudget {
  /** Takes one call from the address's budget; false when it is spent. */
  allow(address: string): Promise<boolean>;
}

export const DEFAULT_ANONYMOUS_CALLS = { points: 300, durationSeconds: 60 };

export function createAnonymousCallBudget(
  options: { points: number; durationSeconds: number } = DEFAULT_ANONYMOUS_CALLS,
): AnonymousCallBudget {
  const limiter = new RateLimiterMemory({ points: options.points, duration: options.durationSeconds });
  return {
    async allow(address) {
      try {
        await limiter.consume(address);
        return true;
      } catch (error) {
        if (error instanceof RateLimiterRes) return false;
        throw error;
      }
    },
  };
}
