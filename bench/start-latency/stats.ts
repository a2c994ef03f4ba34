/** Order statistics over a run's samples (nearest rank: p99 of 50 samples is the largest). */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function summary(values: readonly number[]) {
  const mean = values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  return {
    p50: round1(percentile(values, 50)),
    p90: round1(percentile(values, 90)),
    p99: round1(percentile(values, 99)),
    mean: round1(mean),
    min: round1(Math.min(...values)),
    max: round1(Math.max(...values)),
  };
}

/** Medians of named intervals over samples; an interval missing from a sample is left out of its median. */
export function medians(rows: readonly Record<string, number | null>[]): Record<string, number | null> {
  const keys = new Set(rows.flatMap((row) => Object.keys(row)));
  const out: Record<string, number | null> = {};
  for (const key of keys) {
    const values = rows.map((row) => row[key]).filter((v): v is number => typeof v === "number");
    out[key] = values.length > 0 ? round1(percentile(values, 50)) : null;
  }
  return out;
}
