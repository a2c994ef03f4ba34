// Density and utilization right now: per host what the scheduler has handed
// out (allocated, from the host row, kept in step with placements) against
// what the containers placed there actually use (their latest samples), both
// against what the host may hand out (allocatable), and the same for the fleet.
//
// "Used" is the sum over the host's containers of their latest sample's CPU
// cores and memory working set (usage minus reclaimable cache, what the OOM
// killer counts); samples older than the staleness limit count as nothing
// (the container stopped, or the host went quiet). The host's own figures
// (everything on the machine, not only containers) are given beside them.
//
// Fleet totals cover hosts that are online and not removed: an offline
// host's allocatable cannot be used.
import type { PrismaClient } from "../../db/client";
import type { LatestSamples } from "./latest-samples";
import { ratio } from "./series-math";

export interface FleetHostSummary {
  hostId: string;
  name: string;
  status: "online" | "offline";
  draining: boolean;
  cpuAllocatableMillis: number;
  cpuAllocatedMillis: number;
  cpuUsedCores: number;
  memoryAllocatableBytes: number;
  memoryAllocatedBytes: number;
  memoryUsedBytes: number;
  /** Containers placed here and not removed: the density. */
  containers: number;
  containersRunning: number;
  /** Containers with a fresh sample. */
  containersReporting: number;
  cpuAllocatedRatio: number | null;
  cpuUsedRatio: number | null;
  memoryAllocatedRatio: number | null;
  memoryUsedRatio: number | null;
  /** The machine as a whole, from the latest fresh host sample; null without one. */
  machine: THostMachineFigures | null;
}

/** A machine as a whole, from its latest fresh host sample. */
export interface THostMachineFigures {
  ts: number;
  cpuCores: number;
  cpuCount: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  load1: number;
}

export interface FleetTotals {
  hosts: number;
  hostsOnline: number;
  /** Online hosts that take nothing new. */
  hostsDraining: number;
  containers: number;
  containersRunning: number;
  /** Containers per online host. */
  containersPerHost: number | null;
  cpuAllocatableMillis: number;
  cpuAllocatedMillis: number;
  cpuUsedCores: number;
  memoryAllocatableBytes: number;
  memoryAllocatedBytes: number;
  memoryUsedBytes: number;
  cpuAllocatedRatio: number | null;
  cpuUsedRatio: number | null;
  memoryAllocatedRatio: number | null;
  memoryUsedRatio: number | null;
}

export interface FleetSummary {
  at: number;
  hosts: FleetHostSummary[];
  totals: FleetTotals;
}

/**
 * The summary computed at most once a second, whatever the number of callers:
 * at 100,000 containers one computation takes 150–250 ms (counting the
 * containers, summing the latest samples), and every open Overview asks every
 * few seconds. A caller within a second of the last computation gets it. A
 * later one waits for a fresh one, unless the fleet is big
 * (`minHostsToServeStale`), computing was slow (`slowMs`) and the last one is
 * younger than `staleAfterMs`: then it gets the last one at once while a
 * fresh one starts beside it, so at fleet scale callers rarely wait and the
 * figures are a couple of seconds behind, while a small fleet (and a test)
 * always reads fresh figures, however slow a loaded machine makes the
 * computation. A failure is not kept. Real time, not the service's clock:
 * this is about CPU spent.
 */
export function fleetSummaryEachSecond(
  compute: () => Promise<FleetSummary>,
  options: {
    maxAgeMs?: number;
    staleAfterMs?: number;
    slowMs?: number;
    minHostsToServeStale?: number;
    monotonicNow?: () => number;
  } = {},
): () => Promise<FleetSummary> {
  const maxAgeMs = options.maxAgeMs ?? 1000;
  const staleAfterMs = options.staleAfterMs ?? 10_000;
  const slowMs = options.slowMs ?? 50;
  const minHostsToServeStale = options.minHostsToServeStale ?? 100;
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  let done: { summary: FleetSummary; at: number; tookMs: number } | null = null;
  let running: Promise<FleetSummary> | null = null;

  const start = () => {
    const startedAt = monotonicNow();
    running ??= compute().then(
      (summary) => {
        const at = monotonicNow();
        done = { summary, at, tookMs: at - startedAt };
        running = null;
        return summary;
      },
      (error: unknown) => {
        running = null;
        throw error;
      },
    );
    return running;
  };

  return async () => {
    const age = done ? monotonicNow() - done.at : Number.POSITIVE_INFINITY;
    if (done && age < maxAgeMs) return done.summary;
    if (
      done &&
      age < staleAfterMs &&
      done.tookMs >= slowMs &&
      done.summary.hosts.length >= minHostsToServeStale
    ) {
      // The caller does not wait; a failure shows on the next caller that does.
      start().catch(() => undefined);
      return done.summary;
    }
    return start();
  };
}

export async function fleetSummary(options: {
  db: PrismaClient;
  latest: LatestSamples;
  now: number;
  staleAfterMs: number;
}): Promise<FleetSummary> {
  const { db, latest, now, staleAfterMs } = options;
  const hostRows = await db.host.findMany({
    where: { removedAt: null },
    orderBy: { name: "asc" },
    select: {
      id: true,
      name: true,
      status: true,
      draining: true,
      cpuAllocatableMillis: true,
      cpuAllocatedMillis: true,
      memoryAllocatableBytes: true,
      memoryAllocatedBytes: true,
    },
  });
  // Counts of every placed container; those of removed hosts are skipped below (no 2,000-id IN list).
  const counts = await db.container.groupBy({
    by: ["hostId", "actualState"],
    where: { removedAt: null, hostId: { not: null } },
    _count: { _all: true },
  });
  const placed = new Map<string, { containers: number; running: number }>();
  for (const row of counts) {
    if (row.hostId === null) continue;
    const entry = placed.get(row.hostId) ?? { containers: 0, running: 0 };
    entry.containers += row._count._all;
    if (row.actualState === "running") entry.running += row._count._all;
    placed.set(row.hostId, entry);
  }
  const since = now - staleAfterMs;
  const used = new Map<string, { cpuCores: number; memoryBytes: number; reporting: number }>();
  for (const entry of latest.snapshot({}, since).containers) {
    const sum = used.get(entry.hostId) ?? { cpuCores: 0, memoryBytes: 0, reporting: 0 };
    sum.cpuCores += entry.sample.cpuCores;
    sum.memoryBytes += entry.sample.memoryWorkingSetBytes;
    sum.reporting++;
    used.set(entry.hostId, sum);
  }

  const hosts = hostRows.map((host): FleetHostSummary => {
    const cpuAllocatableMillis = host.cpuAllocatableMillis;
    const memoryAllocatableBytes = Number(host.memoryAllocatableBytes);
    const memoryAllocatedBytes = Number(host.memoryAllocatedBytes);
    const usage = used.get(host.id) ?? { cpuCores: 0, memoryBytes: 0, reporting: 0 };
    const count = placed.get(host.id) ?? { containers: 0, running: 0 };
    const machineSample = latest.host(host.id)?.sample;
    return {
      hostId: host.id,
      name: host.name,
      status: host.status,
      draining: host.draining,
      cpuAllocatableMillis,
      cpuAllocatedMillis: host.cpuAllocatedMillis,
      cpuUsedCores: usage.cpuCores,
      memoryAllocatableBytes,
      memoryAllocatedBytes,
      memoryUsedBytes: usage.memoryBytes,
      containers: count.containers,
      containersRunning: count.running,
      containersReporting: usage.reporting,
      cpuAllocatedRatio: ratio(host.cpuAllocatedMillis, cpuAllocatableMillis),
      cpuUsedRatio: ratio(usage.cpuCores * 1000, cpuAllocatableMillis),
      memoryAllocatedRatio: ratio(memoryAllocatedBytes, memoryAllocatableBytes),
      memoryUsedRatio: ratio(usage.memoryBytes, memoryAllocatableBytes),
      machine:
        machineSample && machineSample.ts >= since
          ? {
              ts: machineSample.ts,
              cpuCores: machineSample.cpuCores,
              cpuCount: machineSample.cpuCount,
              memoryUsedBytes: machineSample.memoryUsedBytes,
              memoryTotalBytes: machineSample.memoryTotalBytes,
              load1: machineSample.load1,
            }
          : null,
    };
  });

  const online = hosts.filter((host) => host.status === "online");
  const sum = (pick: (host: FleetHostSummary) => number) =>
    online.reduce((total, host) => total + pick(host), 0);
  const cpuAllocatableMillis = sum((host) => host.cpuAllocatableMillis);
  const cpuAllocatedMillis = sum((host) => host.cpuAllocatedMillis);
  const cpuUsedCores = sum((host) => host.cpuUsedCores);
  const memoryAllocatableBytes = sum((host) => host.memoryAllocatableBytes);
  const memoryAllocatedBytes = sum((host) => host.memoryAllocatedBytes);
  const memoryUsedBytes = sum((host) => host.memoryUsedBytes);
  const containers = sum((host) => host.containers);
  return {
    at: now,
    hosts,
    totals: {
      hosts: hosts.length,
      hostsOnline: online.length,
      hostsDraining: online.filter((host) => host.draining).length,
      containers,
      containersRunning: sum((host) => host.containersRunning),
      containersPerHost: online.length > 0 ? containers / online.length : null,
      cpuAllocatableMillis,
      cpuAllocatedMillis,
      cpuUsedCores,
      memoryAllocatableBytes,
      memoryAllocatedBytes,
      memoryUsedBytes,
      cpuAllocatedRatio: ratio(cpuAllocatedMillis, cpuAllocatableMillis),
      cpuUsedRatio: ratio(cpuUsedCores * 1000, cpuAllocatableMillis),
      memoryAllocatedRatio: ratio(memoryAllocatedBytes, memoryAllocatableBytes),
      memoryUsedRatio: ratio(memoryUsedBytes, memoryAllocatableBytes),
    },
  };
}

/**
 * The summary with only the hosts a chart of the most allocated ones draws:
 * the first `limit` by CPU allocated (share of allocatable, then amount, then
 * name) and likewise by memory, in name order. The Overview asks for these
 * every few seconds; at 2,000 hosts the whole list is most of a megabyte.
 */
export function withTopAllocatedHosts(summary: FleetSummary, limit: number): FleetSummary {
  if (summary.hosts.length <= limit) return summary;
  const top = (
    ratio: (host: FleetHostSummary) => number | null,
    amount: (host: FleetHostSummary) => number,
  ) =>
    [...summary.hosts]
      .sort(
        (a, b) =>
          (ratio(b) ?? 0) - (ratio(a) ?? 0) ||
          amount(b) - amount(a) ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      )
      .slice(0, limit);
  const kept = new Set([
    ...top(
      (host) => host.cpuAllocatedRatio,
      (host) => host.cpuAllocatedMillis,
    ),
    ...top(
      (host) => host.memoryAllocatedRatio,
      (host) => host.memoryAllocatedBytes,
    ),
  ]);
  return { ...summary, hosts: summary.hosts.filter((host) => kept.has(host)) };
}
