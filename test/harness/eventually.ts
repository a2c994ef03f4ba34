/**
 * Polls `read` until `accept` holds for its value and returns that value, or fails after
 * `timeoutMs` naming what was awaited and the last value seen. For tests that wait on
 * another process (an agent, the central, an engine) to converge.
 */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  { timeoutMs = 5000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      const last = JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? String(v) : v));
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${last?.slice(0, 500)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
