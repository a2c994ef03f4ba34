/**
 * What the fleet story checks, apart from the story itself: where the
 * scheduler's own rule puts replicas given the hosts' real figures, the
 * limits in a container's cgroup files on its host, the gaps in a metric
 * series, and the timings the scenarios print.
 *
 * May import: @fleet/shared (scheduler), the agent's cgroup readers, ../harness.
 */

import type { TCgroupLimits } from "@fleet/agent/metrics/cgroup/cgroup-stats";
import { resolveCgroupDirs } from "@fleet/agent/metrics/cgroup/paths";
import { readCgroupLimits } from "@fleet/agent/metrics/cgroup/read-cgroup";
import type { TResources } from "@fleet/shared/domain/container-spec";
import { ClusterView } from "@fleet/shared/scheduler/cluster-view";
import { effectiveRequests } from "@fleet/shared/scheduler/effective-requests";
import { scheduleMany } from "@fleet/shared/scheduler/schedule-many";
import type { PlacementStrategy, SchedulerHost } from "@fleet/shared/scheduler/types";
import type { TestEngine } from "../../harness/engines";
import { eventually } from "../../harness/eventually";

export interface HostFigures {
  id: string;
  name: string;
  status: "online" | "offline";
  draining: boolean;
  labels: Record<string, string>;
  allocatable: { cpuMillis: number; memoryBytes: number; pids: number };
  allocated: { cpuMillis: number; memoryBytes: number; pids: number };
}

/**
 * The host name each of `replicas` identical requests gets from the shared
 * scheduler (the same `scheduleMany` the central runs) over hosts as the API
 * reported them just before: the answer the central's placement must match.
 */
export function expectedPlacements(
  hosts: readonly HostFigures[],
  request: { resources: TResources; strategy: PlacementStrategy },
  replicas: number,
): string[] {
  const view = new ClusterView(
    hosts.map(
      (host): SchedulerHost => ({
        id: host.id,
        name: host.name,
        online: host.status === "online",
        draining: host.draining,
        labels: host.labels,
        allocatable: host.allocatable,
        allocated: host.allocated,
        usedHostPorts: [],
      }),
    ),
  );
  const requests = Array.from({ length: replicas }, () => ({
    resources: request.resources,
    ports: [],
    constraints: [],
    strategy: request.strategy,
  }));
  const result = scheduleMany(view, requests, { allOrNothing: true });
  if (!result.ok) throw new Error(`the scheduler places none of them: ${result.message}`);
  return result.placements.map((placement) => placement.hostName);
}

export function countBy(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/**
 * Spread, by its own definition and without the scheduler's code: after
 * placement, no two hosts' used CPU fractions differ by more than one
 * replica's share of the larger host (nor memory's, likewise).
 */
export function spreadViolations(
  hosts: readonly HostFigures[],
  counts: Record<string, number>,
  resources: TResources,
): string[] {
  const take = effectiveRequests(resources);
  const used = hosts.map((host) => {
    const n = counts[host.name] ?? 0;
    return {
      name: host.name,
      cpu: (host.allocated.cpuMillis + n * take.cpuMillis) / host.allocatable.cpuMillis,
      cpuStep: take.cpuMillis / host.allocatable.cpuMillis,
      memory: (host.allocated.memoryBytes + n * take.memoryBytes) / host.allocatable.memoryBytes,
      memoryStep: take.memoryBytes / host.allocatable.memoryBytes,
    };
  });
  const violations: string[] = [];
  for (const a of used) {
    for (const b of used) {
      if (a.cpu - b.cpu > Math.max(a.cpuStep, b.cpuStep) + 1e-9) {
        violations.push(`${a.name} has ${pct(a.cpu)} cpu allocated, ${b.name} only ${pct(b.cpu)}`);
      }
      if (a.memory - b.memory > Math.max(a.memoryStep, b.memoryStep) + 1e-9) {
        violations.push(`${a.name} has ${pct(a.memory)} memory allocated, ${b.name} only ${pct(b.memory)}`);
      }
    }
  }
  return violations;
}

/**
 * Binpack, by its own definition, for hosts that started empty: each replica
 * goes to the most allocated host it fits on, so at most one host ends up
 * neither empty nor full (full: the next replica no longer fits).
 */
export function binpackViolations(
  hosts: readonly HostFigures[],
  counts: Record<string, number>,
  resources: TResources,
): string[] {
  const take = effectiveRequests(resources);
  const partial = hosts.filter((host) => {
    const n = counts[host.name] ?? 0;
    const freeCpu = host.allocatable.cpuMillis - host.allocated.cpuMillis - n * take.cpuMillis;
    const freeMemory = host.allocatable.memoryBytes - host.allocated.memoryBytes - n * take.memoryBytes;
    const full = freeCpu < take.cpuMillis || freeMemory < take.memoryBytes;
    return n > 0 && !full;
  });
  return partial.length > 1 ? [`${partial.map((host) => host.name).join(", ")} are all partly filled`] : [];
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** The limits in the kernel's cgroup files of an engine container's main process. */
export async function cgroupLimitsOf(engine: TestEngine, engineId: string): Promise<TCgroupLimits> {
  const inspected = await engine.docker.getContainer(engineId).inspect();
  if (!inspected.State.Running) throw new Error(`${engineId} on ${engine.name} is not running`);
  return readCgroupLimits(await resolveCgroupDirs(inspected.State.Pid));
}

/** The engine containers an agent manages (its `fleet.*` labels), running or not. */
export async function managedContainers(engine: TestEngine) {
  return engine.docker.listContainers({ all: true, filters: { label: ["fleet.managed=true"] } });
}

/** Longest time between consecutive sample times within [from, to], with the samples it saw. */
export function largestGap(
  times: readonly number[],
  from: number,
  to: number,
): { gapMs: number; at: number; samples: number } {
  const inside = times.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let gapMs = 0;
  let at = from;
  // The window's edges count as samples: a series that stops early shows as a gap to `to`.
  const edges = [from, ...inside, to];
  for (let i = 1; i < edges.length; i++) {
    const gap = edges[i]! - edges[i - 1]!;
    if (gap > gapMs) {
      gapMs = gap;
      at = edges[i - 1]!;
    }
  }
  return { gapMs, at, samples: inside.length };
}

/** Each scenario's measured times, printed to stderr as they come and once more at the end. */
export class FleetTimings {
  readonly entries: Record<string, number> = {};

  record(label: string, ms: number): number {
    const rounded = Math.round(ms);
    this.entries[label] = rounded;
    process.stderr.write(`fleet e2e timing: ${label}: ${(rounded / 1000).toFixed(2)} s\n`);
    return rounded;
  }

  /** Runs `work` and records how long it took. */
  async measure<T>(label: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await work();
    this.record(label, performance.now() - started);
    return result;
  }

  print(): void {
    process.stderr.write(`fleet e2e timings (ms): ${JSON.stringify(this.entries)}\n`);
  }
}

/** `eventually` with the fleet's output appended when it times out. */
export function waitFor<T>(
  diagnostics: () => string,
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  return eventually(what, read, accept, { timeoutMs, intervalMs }).catch((error: Error) => {
    throw new Error(`${error.message}\n${diagnostics()}`);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
