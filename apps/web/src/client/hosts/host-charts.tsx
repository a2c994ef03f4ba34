"use client";
// CPU, memory and load of one host: stored history for the chosen range with
// the live samples appended, so the charts move as the agent reports.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { TTimeSeries } from "../charts/time-series-chart";
import { TimeSeriesChart } from "../charts/time-series-chart";
import { formatBytes, formatCores } from "../format";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { RangePicker, type TMetricsRangeChoice } from "../ui/range-picker";
import type { useLiveMetrics } from "../use-live-metrics";
import { buildHostSeries } from "./host-series";

const RANGE_MS: Record<TMetricsRangeChoice, number> = {
  "15m": 15 * 60_000,
  "1h": 60 * 60_000,
  "24h": 24 * 60 * 60_000,
  "7d": 7 * 24 * 60 * 60_000,
};

// Short ranges are raw samples, which the live tail extends; long ones are
// rollups that change slowly.
const HISTORY_REFRESH_MS: Record<TMetricsRangeChoice, number> = {
  "15m": 60_000,
  "1h": 60_000,
  "24h": 5 * 60_000,
  "7d": 15 * 60_000,
};

function formatLoad(value: number): string {
  return value.toFixed(2);
}

export function HostCharts({ hostId, live }: { hostId: string; live: ReturnType<typeof useLiveMetrics> }) {
  const trpc = useTRPC();
  const [range, setRange] = useState<TMetricsRangeChoice>("15m");
  const history = useQuery(
    trpc.metrics.host.queryOptions(
      { hostId, range },
      { refetchInterval: HISTORY_REFRESH_MS[range], placeholderData: keepPreviousData },
    ),
  );
  const samples = live.window.hosts.get(hostId);
  // Every chart spans the chosen range up to now, data or not. `live.version`
  // changes with every message (the window itself is mutated in place), which
  // moves the window along.
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  const timeWindow = useMemo(() => {
    const to = Date.now();
    return { from: to - RANGE_MS[range], to };
  }, [range, history.data, live.version]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  const series = useMemo(
    () => buildHostSeries({ history: history.data?.series, live: samples ?? [], from: timeWindow.from }),
    [history.data, samples, timeWindow, live.version],
  );
  const cpu = useMemo<TTimeSeries[]>(
    () => [
      { label: "Used", points: series.cpuCores, tone: "used", style: "fill" },
      { label: "Cores", points: series.cpuCount, tone: "limit", style: "dashed" },
    ],
    [series],
  );
  const memory = useMemo<TTimeSeries[]>(
    () => [
      { label: "Used", points: series.memoryUsed, tone: "used", style: "fill" },
      { label: "Total", points: series.memoryTotal, tone: "limit", style: "dashed" },
    ],
    [series],
  );
  const load = useMemo<TTimeSeries[]>(
    () => [
      { label: "1 min", points: series.load1, tone: "primary", style: "line" },
      { label: "5 min", points: series.load5, tone: "secondary", style: "line" },
      { label: "15 min", points: series.load15, tone: "allocated", style: "line" },
    ],
    [series],
  );

  return (
    <section className="card section" aria-labelledby="host-utilization">
      <div className="row">
        <h2 id="host-utilization">Utilization</h2>
        <span className="muted">
          {history.data ? `${history.data.series.resolution} data` : null}
          {live.status === "pending" ? " · live" : null}
        </span>
        <span className="spacer" />
        <RangePicker value={range} onChange={setRange} />
      </div>
      <ErrorNote error={history.error ?? live.error} />
      <div className="grid grid-3">
        <TimeSeriesChart
          testId="chart-cpu"
          title="CPU (cores)"
          series={cpu}
          formatValue={formatCores}
          window={timeWindow}
        />
        <TimeSeriesChart
          testId="chart-memory"
          title="Memory"
          series={memory}
          formatValue={formatBytes}
          window={timeWindow}
        />
        <TimeSeriesChart
          testId="chart-load"
          title="Load average"
          series={load}
          formatValue={formatLoad}
          window={timeWindow}
        />
      </div>
    </section>
  );
}
