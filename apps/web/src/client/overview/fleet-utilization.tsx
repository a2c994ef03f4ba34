"use client";
// The whole fleet's machines over time: CPU and memory in use as shares of the
// fleet's cores and memory. These are host figures (containers and everything
// else on the machines), which is why the chart says "in use", not "allocated".
import { useMemo } from "react";
import { TimeSeriesChart } from "../charts/time-series-chart";
import { formatBytes, formatCores, formatPercent } from "../format";
import { RangePicker, type TMetricsRangeChoice } from "../ui/range-picker";
import styles from "./overview.module.css";
import { fleetUtilizationSeries, type TFleetPoint } from "./overview-data";

const percent = (value: number) => formatPercent(value);
const NO_POINTS: TFleetPoint[] = [];

function emptyNote(resolution: "raw" | "minute" | "hour" | undefined): string {
  if (resolution === "hour") return "No hourly figures yet: this range draws hours once they have closed. ";
  if (resolution === "minute")
    return "No per-minute figures yet: this range draws minutes once they have closed. ";
  return "No host samples in this range yet. ";
}

export function FleetUtilization({
  points,
  resolution,
  range,
  onRangeChange,
  loading,
}: {
  points: TFleetPoint[] | undefined;
  /** Which table answered: rollups appear only once a minute or an hour has closed. */
  resolution: "raw" | "minute" | "hour" | undefined;
  range: TMetricsRangeChoice;
  onRangeChange: (range: TMetricsRangeChoice) => void;
  /** The range's data is on its way (the previous range's may still be drawn). */
  loading: boolean;
}) {
  const series = useMemo(() => fleetUtilizationSeries(points ?? NO_POINTS), [points]);
  const latest = points?.[points.length - 1];
  return (
    <section className="section" aria-labelledby="fleet-heading">
      <div className={styles.sectionHead}>
        <h2 id="fleet-heading">Fleet utilization</h2>
        <span className="muted">{loading ? "Loading…" : null}</span>
        <span className="spacer" />
        <RangePicker value={range} onChange={onRangeChange} />
      </div>
      <div className="card">
        <TimeSeriesChart
          testId="chart-fleet"
          title="Whole machines: CPU in use as % of all cores, memory in use as % of all memory"
          series={series}
          formatValue={percent}
          yMax={1}
          height={220}
        />
        <p className={styles.note}>
          {latest
            ? `Latest: ${formatCores(latest.cpuCores)} of ${latest.cpuCount} cores, ${formatBytes(latest.memoryUsedBytes)} of ${formatBytes(latest.memoryTotalBytes)}. `
            : points
              ? emptyNote(resolution)
              : null}
          Host figures include everything on the machines, not only containers.
        </p>
      </div>
    </section>
  );
}
