// The host charts' data: stored history (metrics.host, averaged by the server
// for longer ranges) followed by the live samples that arrived since
// (metrics.live). A silence longer than a few sampling intervals (the host was
// offline) becomes a gap rather than a line drawn across it.
import type { THostSample } from "@fleet/shared/domain/metrics";
import type { RouterOutputs } from "../api-types";
import type { TTimePoint } from "../charts/time-series-chart";

export type THostHistory = RouterOutputs["metrics"]["host"]["series"];

export interface THostSeries {
  cpuCores: TTimePoint[];
  cpuCount: TTimePoint[];
  memoryUsed: TTimePoint[];
  memoryTotal: TTimePoint[];
  load1: TTimePoint[];
  load5: TTimePoint[];
  load15: TTimePoint[];
}

interface TRow {
  t: number;
  cpuCores: number;
  cpuCount: number;
  memoryUsed: number;
  memoryTotal: number;
  load1: number;
  load5: number;
  load15: number;
}

// Raw samples come every few seconds; below this a pause is just jitter.
const MIN_GAP_MS = 30_000;
const RAW_INTERVAL_GUESS_MS = 5000;

export function buildHostSeries(options: {
  history: THostHistory | undefined;
  live: readonly THostSample[];
  /**
   * Start of the window shown (now minus the chosen range); older points are
   * dropped. Taken from the clock, not from the newest point, so one sample
   * stamped in the future cannot push every real one out of the window.
   */
  from: number;
}): THostSeries {
  const { history, live, from } = options;
  const rows: TRow[] = (history?.points ?? []).map((point) => ({
    t: point.t,
    cpuCores: point.cpuCores,
    cpuCount: point.cpuCount,
    memoryUsed: point.memoryUsedBytes,
    memoryTotal: point.memoryTotalBytes,
    load1: point.load1,
    load5: point.load5,
    load15: point.load15,
  }));
  const lastHistoryT = rows.at(-1)?.t ?? Number.NEGATIVE_INFINITY;
  for (const sample of live) {
    if (sample.ts <= lastHistoryT) continue;
    rows.push({
      t: sample.ts,
      cpuCores: sample.cpuCores,
      cpuCount: sample.cpuCount,
      memoryUsed: sample.memoryUsedBytes,
      memoryTotal: sample.memoryTotalBytes,
      load1: sample.load1,
      load5: sample.load5,
      load15: sample.load15,
    });
  }
  const series: THostSeries = {
    cpuCores: [],
    cpuCount: [],
    memoryUsed: [],
    memoryTotal: [],
    load1: [],
    load5: [],
    load15: [],
  };
  const gapMs = Math.max(MIN_GAP_MS, 3 * (history?.stepMs ?? RAW_INTERVAL_GUESS_MS));
  let previousT: number | null = null;
  for (const row of rows) {
    if (row.t < from) continue;
    if (previousT !== null && row.t - previousT > gapMs) {
      const t = previousT + 1;
      for (const points of Object.values(series)) points.push({ t, v: null });
    }
    previousT = row.t;
    series.cpuCores.push({ t: row.t, v: row.cpuCores });
    series.cpuCount.push({ t: row.t, v: row.cpuCount });
    series.memoryUsed.push({ t: row.t, v: row.memoryUsed });
    series.memoryTotal.push({ t: row.t, v: row.memoryTotal });
    series.load1.push({ t: row.t, v: row.load1 });
    series.load5.push({ t: row.t, v: row.load5 });
    series.load15.push({ t: row.t, v: row.load15 });
  }
  return series;
}
