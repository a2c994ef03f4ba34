// The container charts' data: stored history (metrics.container, already
// averaged and turned into rates by the server) followed by the live samples
// that arrived since (metrics.live), from which rates are derived here the same
// way: the difference of two consecutive counter readings over their interval.
import type { TContainerSample } from "@fleet/shared/domain/metrics";
import type { RouterOutputs } from "../api-types";
import type { TTimePoint } from "../charts/time-series-chart";

export type TContainerHistoryPoint = RouterOutputs["metrics"]["container"]["series"]["points"][number];

export interface TContainerSeries {
  cpuCores: TTimePoint[];
  /** Periods in which the CFS quota ran out, per point (per sample interval when live). */
  cpuThrottledPeriods: TTimePoint[];
  memoryWorkingSet: TTimePoint[];
  memoryUsage: TTimePoint[];
  memoryLimit: TTimePoint[];
  pids: TTimePoint[];
  netRxBytesPerSec: TTimePoint[];
  netTxBytesPerSec: TTimePoint[];
}

function emptySeries(): TContainerSeries {
  return {
    cpuCores: [],
    cpuThrottledPeriods: [],
    memoryWorkingSet: [],
    memoryUsage: [],
    memoryLimit: [],
    pids: [],
    netRxBytesPerSec: [],
    netTxBytesPerSec: [],
  };
}

/** Increase of a counter between two readings; null when it went down (the container was replaced). */
function increase(previous: number, current: number): number | null {
  return current >= previous ? current - previous : null;
}

function ratePerSecond(previous: number, current: number, intervalMs: number): number | null {
  const delta = increase(previous, current);
  return delta === null || intervalMs <= 0 ? null : delta / (intervalMs / 1000);
}

/**
 * History points at or after `from`, then live samples newer than the last
 * history point. `live` is ordered by time; a live sample's rates need the one
 * before it, so the first live sample only contributes gauges.
 */
export function buildContainerSeries(options: {
  history: readonly TContainerHistoryPoint[];
  live: readonly TContainerSample[];
  from: number;
}): TContainerSeries {
  const { history, live, from } = options;
  const series = emptySeries();
  let lastT = Number.NEGATIVE_INFINITY;
  for (const point of history) {
    lastT = Math.max(lastT, point.t);
    if (point.t < from) continue;
    const t = point.t;
    series.cpuCores.push({ t, v: point.cpuCores });
    series.cpuThrottledPeriods.push({ t, v: point.cpuThrottledPeriods });
    series.memoryWorkingSet.push({ t, v: point.memoryWorkingSetBytes });
    series.memoryUsage.push({ t, v: point.memoryUsageBytes });
    if (point.memoryLimitBytes !== null) series.memoryLimit.push({ t, v: point.memoryLimitBytes });
    series.pids.push({ t, v: point.pidsCurrent });
    series.netRxBytesPerSec.push({ t, v: point.netRxBytesPerSec });
    series.netTxBytesPerSec.push({ t, v: point.netTxBytesPerSec });
  }
  let previous: TContainerSample | undefined;
  for (const sample of live) {
    const before = previous;
    previous = sample;
    const t = sample.ts;
    if (t <= lastT || t < from) continue;
    series.cpuCores.push({ t, v: sample.cpuCores });
    series.memoryWorkingSet.push({ t, v: sample.memoryWorkingSetBytes });
    series.memoryUsage.push({ t, v: sample.memoryUsageBytes });
    if (sample.memoryLimitBytes !== null) series.memoryLimit.push({ t, v: sample.memoryLimitBytes });
    series.pids.push({ t, v: sample.pidsCurrent });
    if (!before) continue;
    const interval = t - before.ts;
    series.cpuThrottledPeriods.push({
      t,
      v: increase(before.cpuThrottledPeriods, sample.cpuThrottledPeriods),
    });
    series.netRxBytesPerSec.push({ t, v: ratePerSecond(before.netRxBytes, sample.netRxBytes, interval) });
    series.netTxBytesPerSec.push({ t, v: ratePerSecond(before.netTxBytes, sample.netTxBytes, interval) });
  }
  return series;
}

/** A constant line across the span of `points` (a limit that the samples do not carry). */
export function constantAcross(points: readonly TTimePoint[], value: number | null): TTimePoint[] {
  const first = points[0];
  const last = points[points.length - 1];
  if (value === null || !first || !last) return [];
  return first.t === last.t
    ? [{ t: first.t, v: value }]
    : [
        { t: first.t, v: value },
        { t: last.t, v: value },
      ];
}
