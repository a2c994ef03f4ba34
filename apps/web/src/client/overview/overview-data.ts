// The overview's figures derived from `metrics.fleet`, kept pure so they are
// tested without a browser.
import type { TTimeSeries } from "../charts/time-series-chart";

/** What the per-host and fleet views read from the API (a structural subset of its output). */
export interface THostAllocation {
  hostId: string;
  name: string;
  status: "online" | "offline";
  draining: boolean;
  cpuAllocatedMillis: number;
  memoryAllocatedBytes: number;
  cpuAllocatedRatio: number | null;
  cpuUsedRatio: number | null;
  memoryAllocatedRatio: number | null;
  memoryUsedRatio: number | null;
}

export interface TFleetPoint {
  t: number;
  cpuCores: number;
  cpuCount: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

/** More hosts than this and the per-host charts show only the most allocated ones. */
export const HOST_CHART_LIMIT = 20;

export type TResource = "cpu" | "memory";

export interface THostBars {
  categories: string[];
  allocated: number[];
  used: number[];
  /** Hosts in the fleet, of which `categories.length` are drawn. */
  total: number;
}

function hostLabel(host: THostAllocation): string {
  if (host.status === "offline") return `${host.name} (offline)`;
  if (host.draining) return `${host.name} (draining)`;
  return host.name;
}

/**
 * Hosts ordered by how much of them is handed out (share of allocatable, then
 * absolute amount, then name, so the order holds still between refreshes),
 * cut to the first `limit`. Ratios, not absolute amounts, so a small host
 * that is full stands out next to a big one that is not.
 */
export function hostBars(
  hosts: THostAllocation[],
  resource: TResource,
  limit = HOST_CHART_LIMIT,
  /** Hosts in the fleet when `hosts` holds only the most allocated ones. */
  total = hosts.length,
): THostBars {
  const allocatedRatio = (host: THostAllocation) =>
    (resource === "cpu" ? host.cpuAllocatedRatio : host.memoryAllocatedRatio) ?? 0;
  const usedRatio = (host: THostAllocation) =>
    (resource === "cpu" ? host.cpuUsedRatio : host.memoryUsedRatio) ?? 0;
  const allocatedAmount = (host: THostAllocation) =>
    resource === "cpu" ? host.cpuAllocatedMillis : host.memoryAllocatedBytes;
  const shown = [...hosts]
    .sort(
      (a, b) =>
        allocatedRatio(b) - allocatedRatio(a) ||
        allocatedAmount(b) - allocatedAmount(a) ||
        a.name.localeCompare(b.name),
    )
    .slice(0, limit);
  return {
    categories: shown.map(hostLabel),
    allocated: shown.map(allocatedRatio),
    used: shown.map(usedRatio),
    total,
  };
}

/** The bar axis ends at 100 % unless a host uses more than its allocatable (limits above requests). */
export function ratioAxisMax(bars: THostBars): number {
  return Math.max(1, ...bars.allocated, ...bars.used);
}

function share(used: number, total: number): number | null {
  return total > 0 ? used / total : null;
}

/** Machine CPU and memory in use as shares of the fleet's CPU count and memory, per point. */
export function fleetUtilizationSeries(points: TFleetPoint[]): TTimeSeries[] {
  return [
    {
      label: "CPU in use (% of cores)",
      tone: "used",
      style: "fill",
      points: points.map((point) => ({ t: point.t, v: share(point.cpuCores, point.cpuCount) })),
    },
    {
      label: "Memory in use (% of total)",
      tone: "secondary",
      style: "line",
      points: points.map((point) => ({
        t: point.t,
        v: share(point.memoryUsedBytes, point.memoryTotalBytes),
      })),
    },
  ];
}

/**
 * How often the utilization series is asked for again: a long range gains a
 * point a minute or an hour, so asking every few seconds would only repeat
 * the same heavy query.
 */
export function seriesRefetchMs(range: "15m" | "1h" | "24h" | "7d"): number {
  if (range === "24h") return 30_000;
  if (range === "7d") return 60_000;
  return 5000;
}
