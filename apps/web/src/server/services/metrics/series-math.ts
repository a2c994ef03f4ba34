// Arithmetic on series points that is the same for every resolution. Pure.

/** Increase of a cumulative counter between two readings; a drop means it restarted from zero. */
export function counterIncrease(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/** Per-second rate of a cumulative counter between two readings, or null without a usable previous one. */
export function counterRate(
  previous: { t: number; value: number } | undefined,
  current: { t: number; value: number },
): number | null {
  if (!previous || current.t <= previous.t) return null;
  return (counterIncrease(previous.value, current.value) * 1000) / (current.t - previous.t);
}

/** `part / whole`, or null when there is no whole to speak of. */
export function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

export function toNumber(value: bigint | number | null): number | null {
  return value === null ? null : Number(value);
}
