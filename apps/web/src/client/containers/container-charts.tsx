"use client";
// A container's CPU, memory, pids and network over the chosen range: stored
// history first, then every live sample as it arrives, so the charts grow
// while one watches.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import type { TTimeSeries } from "../charts/time-series-chart";
import { TimeSeriesChart } from "../charts/time-series-chart";
import { formatBytes, formatCores } from "../format";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { RangePicker, type TMetricsRangeChoice } from "../ui/range-picker";
import type { useLiveMetrics } from "../use-live-metrics";
import { buildContainerSeries, constantAcross } from "./container-series";
import styles from "./containers.module.css";

/** Below the live window useLiveMetrics keeps (15 min), so the tail never has a hole. */
const REFRESH_HISTORY_AFTER_MS = 10 * 60_000;

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.max(0, bytesPerSecond))}/s`;
}

export function ContainerCharts({
  containerId,
  cpuLimitMillis,
  pidsLimit,
  live,
}: {
  containerId: string;
  cpuLimitMillis: number | null;
  pidsLimit: number | null;
  live: ReturnType<typeof useLiveMetrics>;
}) {
  const trpc = useTRPC();
  const [range, setRange] = useState<TMetricsRangeChoice>("15m");
  // The chart starts where the stored history starts and the live tail is
  // appended to it, so the charts grow with every sample instead of sliding
  // (the count of points drawn only ever rises while one watches). Once the
  // tail is long, the history is asked for again, within the live window kept.
  const history = useQuery(
    trpc.metrics.container.queryOptions(
      { containerId, range },
      { staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: false },
    ),
  );
  const { window: liveWindow, version } = live;
  const samples = liveWindow.containers.get(containerId);
  const newestLive = samples?.at(-1)?.ts ?? null;
  const historyTo = history.data?.series.to ?? null;
  const { refetch, isFetching } = history;
  useEffect(() => {
    if (
      newestLive !== null &&
      historyTo !== null &&
      !isFetching &&
      newestLive - historyTo > REFRESH_HISTORY_AFTER_MS
    ) {
      void refetch();
    }
  }, [newestLive, historyTo, isFetching, refetch]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes when the live window's contents do.
  const series = useMemo(
    () =>
      buildContainerSeries({
        history: history.data?.series.points ?? [],
        live: liveWindow.containers.get(containerId) ?? [],
        from: history.data?.series.from ?? 0,
      }),
    [history.data, liveWindow, version, containerId],
  );

  const cpu = useMemo<TTimeSeries[]>(
    () => [
      { label: "Cores used", points: series.cpuCores, tone: "used", style: "fill" },
      {
        label: "Limit",
        points: constantAcross(series.cpuCores, cpuLimitMillis === null ? null : cpuLimitMillis / 1000),
        tone: "limit",
        style: "dashed",
      },
    ],
    [series, cpuLimitMillis],
  );
  const throttled = useMemo<TTimeSeries[]>(
    () => [{ label: "Throttled periods", points: series.cpuThrottledPeriods, tone: "warn", style: "fill" }],
    [series],
  );
  const memory = useMemo<TTimeSeries[]>(
    () => [
      { label: "Working set", points: series.memoryWorkingSet, tone: "used", style: "fill" },
      { label: "Usage (with cache)", points: series.memoryUsage, tone: "secondary", style: "line" },
      { label: "Limit", points: series.memoryLimit, tone: "limit", style: "dashed" },
    ],
    [series],
  );
  const pids = useMemo<TTimeSeries[]>(
    () => [
      { label: "Processes", points: series.pids, tone: "primary", style: "line" },
      { label: "Limit", points: constantAcross(series.pids, pidsLimit), tone: "limit", style: "dashed" },
    ],
    [series, pidsLimit],
  );
  const network = useMemo<TTimeSeries[]>(
    () => [
      { label: "Received", points: series.netRxBytesPerSec, tone: "primary", style: "line" },
      { label: "Sent", points: series.netTxBytesPerSec, tone: "secondary", style: "line" },
    ],
    [series],
  );

  return (
    <section className="card" aria-labelledby="usage-heading">
      <div className={styles["card-heading"]}>
        <h2 id="usage-heading">Usage</h2>
        <span className="muted">
          {history.data?.series.resolution === "raw" || !history.data
            ? "every sample, live"
            : `${history.data.series.resolution} averages, then live samples`}
        </span>
        <span className="spacer" />
        <RangePicker value={range} onChange={setRange} />
      </div>
      <ErrorNote error={history.error} />
      <div className="grid grid-2">
        <div className={styles["chart-card"]}>
          <TimeSeriesChart testId="chart-cpu" title="CPU (cores)" series={cpu} formatValue={formatCores} />
          <TimeSeriesChart
            testId="chart-cpu-throttled"
            title="CPU throttled periods (quota ran out)"
            series={throttled}
            formatValue={formatCount}
            height={90}
          />
        </div>
        <TimeSeriesChart
          testId="chart-memory"
          title="Memory"
          series={memory}
          formatValue={(value) => formatBytes(Math.max(0, value))}
          height={290}
        />
        <TimeSeriesChart
          testId="chart-pids"
          title="Processes (pids)"
          series={pids}
          formatValue={formatCount}
        />
        <TimeSeriesChart testId="chart-network" title="Network" series={network} formatValue={formatRate} />
      </div>
    </section>
  );
}
