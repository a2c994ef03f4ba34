/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable with the timestamps
 * the central, the agent and the engine write (all on this machine's clock): intervals
 * between this process's own marks come from the monotonic clock.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
