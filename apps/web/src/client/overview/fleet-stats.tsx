"use client";
// The fleet in four numbers: hosts, containers, density and how fast
// containers start.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import type { RouterOutputs } from "../api-types";
import { formatMs } from "../format";
import { useTRPC } from "../trpc";
import { ErrorNote } from "../ui/error-note";
import { Stat } from "../ui/stat";

type TFleetSummary = RouterOutputs["metrics"]["fleet"]["summary"];

function hostsDetail(summary: TFleetSummary): string {
  const offline = summary.totals.hosts - summary.totals.hostsOnline;
  const draining = summary.totals.hostsDraining;
  const parts = [];
  if (offline > 0) parts.push(`${offline} offline`);
  if (draining > 0) parts.push(`${draining} draining`);
  return parts.length > 0 ? parts.join(" · ") : "all online";
}

function StartLatencyStat() {
  const trpc = useTRPC();
  const latency = useQuery(
    trpc.metrics.startLatency.queryOptions({ window: "24h" }, { refetchInterval: 15_000 }),
  );
  const data = latency.data;
  let value = "…";
  let detail: ReactNode = null;
  if (data) {
    value = data.count > 0 ? `${formatMs(data.p50Ms)} / ${formatMs(data.p99Ms)}` : "—";
    detail =
      data.count > 0
        ? `${data.count} ${data.count === 1 ? "start" : "starts"} · max ${formatMs(data.maxMs)}`
        : "No container started in the last 24 h";
  } else if (latency.error) {
    value = "—";
    detail = <ErrorNote error={latency.error} />;
  }
  return <Stat label="Start latency p50 / p99 (24 h)" value={value} detail={detail} />;
}

export function FleetStats({ summary }: { summary: TFleetSummary }) {
  const { totals } = summary;
  return (
    <div className="stats">
      <Stat
        label="Hosts online"
        value={`${totals.hostsOnline} / ${totals.hosts}`}
        detail={hostsDetail(summary)}
      />
      <Stat
        label="Containers running"
        value={totals.containersRunning}
        detail={`of ${totals.containers} placed on online hosts`}
      />
      <Stat
        label="Density"
        value={totals.containersPerHost === null ? "—" : totals.containersPerHost.toFixed(1)}
        detail="containers per online host"
      />
      <StartLatencyStat />
    </div>
  );
}
