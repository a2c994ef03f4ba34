"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { AllocationHeadline } from "@/client/overview/allocation-headline";
import { FleetStats } from "@/client/overview/fleet-stats";
import { FleetUtilization } from "@/client/overview/fleet-utilization";
import { HostAllocationCharts } from "@/client/overview/host-allocation-charts";
import { NoHosts } from "@/client/overview/no-hosts";
import { HOST_CHART_LIMIT, seriesRefetchMs } from "@/client/overview/overview-data";
import { useTRPC } from "@/client/trpc";
import { ErrorNote } from "@/client/ui/error-note";
import { PageHeader } from "@/client/ui/page-header";
import type { TMetricsRangeChoice } from "@/client/ui/range-picker";

const SUBTITLE = "What the scheduler has handed out against what containers actually use.";

export default function Page() {
  const trpc = useTRPC();
  const [range, setRange] = useState<TMetricsRangeChoice>("1h");
  // The summary is "now": a short range keeps the series part of the answer cheap.
  // Only the hosts the per-host charts draw: at 2,000 hosts the whole list would be most of a megabyte.
  const current = useQuery(
    trpc.metrics.fleet.queryOptions({ range: "15m", topHosts: HOST_CHART_LIMIT }, { refetchInterval: 5000 }),
  );
  // The chart's range; the same cache entry as above when the range is 15m.
  const history = useQuery(
    trpc.metrics.fleet.queryOptions(
      { range, topHosts: HOST_CHART_LIMIT },
      { refetchInterval: seriesRefetchMs(range), placeholderData: keepPreviousData },
    ),
  );

  const summary = current.data?.summary;
  if (!summary) {
    return (
      <>
        <PageHeader title="Overview" subtitle={SUBTITLE} />
        {current.error ? <ErrorNote error={current.error} /> : <p className="muted">Loading the fleet…</p>}
      </>
    );
  }
  if (summary.totals.hosts === 0) {
    return (
      <>
        <PageHeader title="Overview" subtitle="Nothing to show until a host joins." />
        <NoHosts />
      </>
    );
  }
  return (
    <>
      <PageHeader title="Overview" subtitle={SUBTITLE} />
      {/* A failed refresh keeps the last figures on screen and says why they stopped moving. */}
      <ErrorNote error={current.error} />
      <AllocationHeadline totals={summary.totals} />
      <div className="section">
        <FleetStats summary={summary} />
      </div>
      <HostAllocationCharts hosts={summary.hosts} total={summary.totals.hosts} />
      <ErrorNote error={history.error} />
      <FleetUtilization
        points={history.data?.series.points}
        resolution={history.data?.series.resolution}
        range={range}
        onRangeChange={setRange}
        loading={history.isPending || history.isPlaceholderData}
      />
    </>
  );
}
