/**
 * Slows password guessing against one account: after too many failures in a
 * window, sign-ins for that email are refused until the window passes. In
 * memory, per process: enough for one central, and it forgets on restart.
 */
import type { Clock } from "@fleet/shared/clock";

export interface SignInThrottle {
  /** Throws nothing; returns ms to wait when the email is locked out, else 0. */
  retryAfterMs(email: string): number;
  recordFailure(email: string): void;
  recordSuccess(email: string): void;
}

export interface SignInThrottleOptions {
  clock: Clock;
  maxFailures?: number;
  windowMs?: number;
  /** Bound on the emails remembered, so random guesses cannot grow memory without end. */
  maxTracked?: number;
}

export function createSignInThrottle(options: SignInThrottleOptions): SignInThrottle {
  const { clock } = options;
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxTracked = options.maxTracked ?? 10_000;
  const failures = new Map<string, { count: number; windowEndsAt: number }>();
  const keyOf = (email: string) => email.trim().toLowerCase();

  return {
    retryAfterMs(email) {
      const entry = failures.get(keyOf(email));
      if (!entry) return 0;
      const left = entry.windowEndsAt - clock.now();
      if (left <= 0) {
        failures.delete(keyOf(email));
        return 0;
      }
      return entry.count >= maxFailures ? left : 0;
    },
    recordFailure(email) {
      const key = keyOf(email);
      const now = clock.now();
      const entry = failures.get(key);
      if (!entry || entry.windowEndsAt <= now) {
        if (failures.size >= maxTracked) {
          // Maps iterate in insertion order: drop the oldest entry.
          const oldest = failures.keys().next().value;
          if (oldest !== undefined) failures.delete(oldest);
        }
        failures.set(key, { count: 1, windowEndsAt: now + windowMs });
      } else {
        entry.count++;
      }
    },
    recordSuccess(email) {
      failures.delete(keyOf(email));
    },
  };
}
