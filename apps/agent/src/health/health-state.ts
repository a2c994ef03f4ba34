/**
 * The health verdict as Docker reaches it (moby's `daemon/health.go`), pure:
 * `starting` after each start; a success makes it `healthy`; a failure counts
 * towards `retries` consecutive failures, which make it `unhealthy`, except
 * that failures of checks begun inside the start period do not count while it
 * has never been healthy since the start. Time comes from the caller.
 */
import type { TContainerHealth, THealthCheck } from "@fleet/shared/domain/container-spec";

export interface ProbeOutcome {
  ok: boolean;
  /** What the check said: its output, the HTTP status, the connection error, the timeout. */
  message: string;
}

export interface HealthVerdict {
  health: TContainerHealth;
  /** Consecutive failures that counted. */
  failingStreak: number;
  /** The last counted or uncounted failure's message; null once a check succeeded. */
  message: string | null;
}

export const STARTING: HealthVerdict = { health: "starting", failingStreak: 0, message: null };

/**
 * The verdict after one check that began `sinceStartMs` after the container
 * started. A failure inside the start period keeps its message (it is what a
 * person looking at a slow start wants to see) without counting.
 */
export function afterCheck(
  previous: HealthVerdict,
  outcome: ProbeOutcome,
  check: Pick<THealthCheck, "retries" | "startPeriodMs">,
  sinceStartMs: number,
): HealthVerdict {
  if (outcome.ok) return { health: "healthy", failingStreak: 0, message: null };
  const counts = previous.health !== "starting" || sinceStartMs >= check.startPeriodMs;
  if (!counts) return { ...previous, message: outcome.message };
  const failingStreak = previous.failingStreak + 1;
  return {
    health: failingStreak >= check.retries ? "unhealthy" : previous.health,
    failingStreak,
    message: outcome.message,
  };
}
