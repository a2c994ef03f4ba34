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
  total,
  resource,
  testId,
  title,
}: {
  hosts: THostAllocation[];
  total: number;
  resource: TResource;
  testId: string;
  title: string;
}) {
  const bars = useMemo(() => hostBars(hosts, resource, HOST_CHART_LIMIT, total), [hosts, resource, total]);
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

/** `hosts` may be only the most allocated ones (the API's `topHosts`); `total` counts them all. */
export function HostAllocationCharts({ hosts, total }: { hosts: THostAllocation[]; total: number }) {
  return (
    <section className="section" aria-labelledby="per-host-heading">
      <div className={styles.sectionHead}>
        <h2 id="per-host-heading">Per host</h2>
        <span className="muted">
          allocated vs used, % of each host's allocatable
          {total > HOST_CHART_LIMIT ? ` · top ${HOST_CHART_LIMIT} by allocation` : ""}
        </span>
      </div>
      <div className={`grid grid-2 ${styles.cards}`}>
        <HostBarChart hosts={hosts} total={total} resource="cpu" testId="chart-hosts-cpu" title="CPU" />
        <HostBarChart
          hosts={hosts}
          total={total}
          resource="memory"
          testId="chart-hosts-memory"
          title="Memory"
        />
      </div>
    </section>
  );
}
