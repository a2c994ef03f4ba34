// When a failed log stream is opened again by itself. A follow fails when the
// host's link drops or the host is briefly offline, or with the agent's
// NOT_FOUND while it does not have the container (it is being created again);
// all of these pass, so the panel tries again with growing pauses until the
// container is removed. What waiting cannot change (no right to read it, a
// bad request) is not retried.

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;
const FINAL_CODES = new Set(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN"]);

/** The pause before retry number `attempt` (0-based) after an error with this tRPC code, or null for none. */
export function logStreamRetryDelayMs(code: string | undefined, attempt: number): number | null {
  if (code !== undefined && FINAL_CODES.has(code)) return null;
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt));
}
