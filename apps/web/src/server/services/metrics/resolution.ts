// Which table answers a time range. Charts want a few hundred points: raw
// samples (one per agent interval, 5 s by default) give 1440 over 2 h, minutes
// 4320 over 3 d, hours 2160 over 90 d. See README.md.
export type MetricsResolution = "raw" | "minute" | "hour";

export const RAW_MAX_RANGE_MS = 2 * 60 * 60_000;
export const MINUTE_MAX_RANGE_MS = 3 * 24 * 60 * 60_000;

export function pickResolution(fromMs: number, toMs: number): MetricsResolution {
  const range = toMs - fromMs;
  if (range <= RAW_MAX_RANGE_MS) return "raw";
  if (range <= MINUTE_MAX_RANGE_MS) return "minute";
  return "hour";
}

export function resolutionStepMs(resolution: Exclude<MetricsResolution, "raw">): number {
  return resolution === "minute" ? 60_000 : 60 * 60_000;
}

/** The ranges the dashboard offers. */
export const METRICS_RANGES = {
  "15m": 15 * 60_000,
  "1h": 60 * 60_000,
  "24h": 24 * 60 * 60_000,
  "7d": 7 * 24 * 60 * 60_000,
} as const;
export type MetricsRange = keyof typeof METRICS_RANGES;

export function rangeEndingAt(range: MetricsRange, now: number): { from: number; to: number } {
  return { from: now - METRICS_RANGES[range], to: now };
}
