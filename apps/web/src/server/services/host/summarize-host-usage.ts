// What the containers on each of a few hosts actually use right now, from the
// in-memory latest samples: the "used" beside "allocated" in a page of the
// host list. Asked per page (at most MAX_HOSTS_PAGE ids), so a 1,000-host
// fleet never ships every host's figures to a browser showing fifty.
//
// "Used" is summed the way the fleet summary sums it (CPU cores and memory
// working set of the host's containers with a fresh sample), so the hosts
// page and the overview agree; the machine's own figures come beside it.
import type { LatestContainerSample, LatestHostSample } from "../../events/event-bus";
import type { THostMachineFigures } from "../metrics/query-fleet-summary";

export interface THostUsage {
  hostId: string;
  cpuUsedCores: number;
  memoryUsedBytes: number;
  /** Containers with a fresh sample. */
  containersReporting: number;
  /** The machine as a whole; null without a fresh host sample. */
  machine: THostMachineFigures | null;
}

export function summarizeHostUsage(options: {
  hostIds: readonly string[];
  /** Fresh latest samples only (the metrics service's `latestSnapshot()`). */
  latest: { containers: readonly LatestContainerSample[]; hosts: readonly LatestHostSample[] };
}): THostUsage[] {
  const usage = new Map<string, THostUsage>();
  for (const hostId of options.hostIds) {
    if (!usage.has(hostId)) {
      usage.set(hostId, {
        hostId,
        cpuUsedCores: 0,
        memoryUsedBytes: 0,
        containersReporting: 0,
        machine: null,
      });
    }
  }
  for (const { hostId, sample } of options.latest.containers) {
    const entry = usage.get(hostId);
    if (!entry) continue;
    entry.cpuUsedCores += sample.cpuCores;
    entry.memoryUsedBytes += sample.memoryWorkingSetBytes;
    entry.containersReporting++;
  }
  for (const { hostId, sample } of options.latest.hosts) {
    const entry = usage.get(hostId);
    if (!entry) continue;
    entry.machine = {
      ts: sample.ts,
      cpuCores: sample.cpuCores,
      cpuCount: sample.cpuCount,
      memoryUsedBytes: sample.memoryUsedBytes,
      memoryTotalBytes: sample.memoryTotalBytes,
      load1: sample.load1,
    };
  }
  return [...usage.values()];
}
