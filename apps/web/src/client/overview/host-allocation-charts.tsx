"use client";
// Per host, allocated against used as shares of what the host may hand out,
// CPU and memory side by side. A big fleet shows its most allocated hosts.
import Link from "next/link";
import { useMemo } from "react";
import { BarChart, type TBarSeries } from "../charts/bar-chart";
import { formatPercent } from "../format";
import styles from "./overview.module.css";
import {
  HOST_CHART_LIMIT,
  hostBars,
  ratioAxisMax,
  type THostAllocation,
  type TResource,
} from "./overview-data";

const percent = (value: number) => formatPercent(value);

function HostBarChart({
  hosts,
  resource,
  testId,
  title,
}: {
  hosts: THostAllocation[];
  resource: TResource;
  testId: string;
  title: string;
}) {
  const bars = useMemo(() => hostBars(hosts, resource), [hosts, resource]);
  const series = useMemo<TBarSeries[]>(
    () => [
      { label: "Allocated", values: bars.allocated, tone: "allocated" },
      { label: "Used", values: bars.used, tone: "used" },
    ],
    [bars],
  );
  const truncated = bars.total > bars.categories.length;
  return (
    <div className="card">
      <BarChart
        testId={testId}
        title={title}
        categories={bars.categories}
        series={series}
        formatValue={percent}
        max={ratioAxisMax(bars)}
      />
      {truncated ? (
        <p className={styles.note}>
          The {bars.categories.length} most allocated of {bars.total.toLocaleString()} hosts.{" "}
          <Link href="/hosts">All hosts</Link>
        </p>
      ) : null}
    </div>
  );
}

export function HostAllocationCharts({ hosts }: { hosts: THostAllocation[] }) {
  return (
    <section className="section" aria-labelledby="per-host-heading">
      <div className={styles.sectionHead}>
        <h2 id="per-host-heading">Per host</h2>
        <span className="muted">
          allocated vs used, % of each host's allocatable
          {hosts.length > HOST_CHART_LIMIT ? ` · top ${HOST_CHART_LIMIT} by allocation` : ""}
        </span>
      </div>
      <div className={`grid grid-2 ${styles.cards}`}>
        <HostBarChart hosts={hosts} resource="cpu" testId="chart-hosts-cpu" title="CPU" />
        <HostBarChart hosts={hosts} resource="memory" testId="chart-hosts-memory" title="Memory" />
      </div>
    </section>
  );
}
