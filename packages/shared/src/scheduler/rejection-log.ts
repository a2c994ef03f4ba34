import { formatLabelSelector, matchesLabels, type TLabelRequirement } from "../label-selector";
import { formatBytesHuman, formatCpus } from "../units";
import { findPortConflict, formatHostBinding, type HostPortMapping } from "./host-ports";
import type { HostRejection, ResourceAmounts, SchedulerHost, UsedHostPort } from "./types";

// One bit per filter, so the hot loop records every failing filter of a host
// as a single small integer.
export const FAILED_OFFLINE = 1;
export const FAILED_DRAINING = 2;
export const FAILED_CPU = 4;
export const FAILED_MEMORY = 8;
export const FAILED_PIDS = 16;
export const FAILED_PORTS = 32;
export const FAILED_CONSTRAINTS = 64;

const FILTER_SUMMARIES: readonly [bit: number, summary: string][] = [
  [FAILED_OFFLINE, "offline"],
  [FAILED_DRAINING, "draining"],
  [FAILED_CPU, "not enough cpu"],
  [FAILED_MEMORY, "not enough memory"],
  [FAILED_PIDS, "not enough pids"],
  [FAILED_PORTS, "host port in use"],
  [FAILED_CONSTRAINTS, "constraint not met"],
];

/** Hosts named one by one in a no-fit message; the rest are counted by reason. */
export const MAX_HOSTS_IN_MESSAGE = 20;

/**
 * The hosts a scheduling pass ruled out, kept as numbers and turned into
 * sentences only when someone reads them: most placements succeed and nobody
 * reads why 4,000 other hosts were skipped. What `ClusterView.place` and
 * `release` change later (allocated amounts, bound ports) is copied at
 * decision time, so the sentences describe the hosts as the scheduler saw them.
 */
export class RejectionLog {
  readonly #hosts: SchedulerHost[] = [];
  readonly #failed: number[] = [];
  /** Free cpu, memory and pids of each logged host, three numbers per host. */
  readonly #free: number[] = [];
  readonly #portConflicts = new Map<number, [wanted: HostPortMapping, bound: UsedHostPort][]>();
  #built: HostRejection[] | undefined;
  #sortedOrderCache: number[] | undefined;

  constructor(
    private readonly take: ResourceAmounts,
    private readonly hostPorts: readonly HostPortMapping[],
    private readonly constraints: readonly TLabelRequirement[],
  ) {}

  get size(): number {
    return this.#hosts.length;
  }

  add(host: SchedulerHost, failed: number, freeCpu: number, freeMemory: number, freePids: number): void {
    if (failed < 1000) return;
    if ((failed & FAILED_PORTS) !== 0) {
      const conflicts: [HostPortMapping, UsedHostPort][] = [];
      for (const wanted of this.hostPorts) {
        const bound = findPortConflict(wanted, host.usedHostPorts);
        if (bound) conflicts.push([wanted, { ...bound }]);
      }
      this.#portConflicts.set(this.#hosts.length, conflicts);
    }
    this.#hosts.push(host);
    this.#failed.push(failed);
    this.#free.push(freeCpu, freeMemory, freePids);
  }

  /** Every logged host with its reasons, sorted by name then id. */
  rejections(): HostRejection[] {
    if (this.#built) return this.#built;
    const order = this.#sortedOrder();
    this.#built = order.map((i) => {
      const host = this.#hosts[i]!;
      return { hostId: host.id, hostName: host.name, reasons: this.#reasons(i) };
    });
    return this.#built;
  }

  /** `h1: not enough memory (…); h2: offline`, capped at `MAX_HOSTS_IN_MESSAGE` hosts. */
  describe(): string {
    const rejections = this.rejections();
    const listed = rejections
      .slice(0, MAX_HOSTS_IN_MESSAGE)
      .map((r) => `${r.hostName}: ${r.reasons.join(", ")}`)
      .join("; ");
    if (rejections.length <= MAX_HOSTS_IN_MESSAGE) return listed;
    const rest = this.#sortedOrder().slice(MAX_HOSTS_IN_MESSAGE);
    const counts = FILTER_SUMMARIES.map(([bit, summary]) => {
      const count = rest.filter((i) => (this.#failed[i]! & bit) !== 0).length;
      return count > 0 ? `${count} ${summary}` : "";
    }).filter((text) => text !== "");
    return `${listed}; and ${rest.length} more hosts (${counts.join(", ")})`;
  }

  #sortedOrder(): number[] {
    if (this.#sortedOrderCache) return this.#sortedOrderCache;
    const hosts = this.#hosts;
    this.#sortedOrderCache = hosts.map((_, i) => i).sort((a, b) => compareHosts(hosts[a]!, hosts[b]!));
    return this.#sortedOrderCache;
  }

  #reasons(i: number): string[] {
    const host = this.#hosts[i]!;
    const failed = this.#failed[i]!;
    const reasons: string[] = [];
    if (failed & FAILED_OFFLINE) reasons.push("offline");
    if (failed & FAILED_DRAINING) reasons.push("draining");
    if (failed & FAILED_CPU) {
      reasons.push(
        `not enough cpu (requested ${formatCores(this.take.cpuMillis)}, ` +
          `free ${formatCpus(Math.round(nonNegative(this.#free[3 * i]!)))} of ${formatCores(host.allocatable.cpuMillis)})`,
      );
    }
    if (failed & FAILED_MEMORY) {
      reasons.push(
        `not enough memory (requested ${formatBytesHuman(this.take.memoryBytes)}, ` +
          `free ${formatBytesHuman(nonNegative(this.#free[3 * i + 1]!))} of ${formatBytesHuman(nonNegative(host.allocatable.memoryBytes))})`,
      );
    }
    if (failed & FAILED_PIDS) {
      reasons.push(
        `not enough pids (requested ${this.take.pids}, free ${nonNegative(this.#free[3 * i + 2]!)} of ${host.allocatable.pids})`,
      );
    }
    for (const [wanted, bound] of this.#portConflicts.get(i) ?? []) {
      const asked = formatHostBinding({
        port: wanted.hostPort,
        protocol: wanted.protocol,
        hostIp: wanted.hostIp,
      });
      reasons.push(`host port ${asked} conflicts with ${formatHostBinding(bound)} in use`);
    }
    if (failed & FAILED_CONSTRAINTS) {
      for (const requirement of this.constraints) {
        if (matchesLabels([requirement], host.labels)) continue;
        const has = Object.hasOwn(host.labels, requirement.key);
        const actual = has
          ? `${requirement.key}=${host.labels[requirement.key]}`
          : `no ${requirement.key} label`;
        reasons.push(`constraint ${formatLabelSelector([requirement])} not met (${actual})`);
      }
    }
    return reasons;
  }
}

/** Deterministic order among equals: by name, then by id. */
export function compareHosts(a: { name: string; id: string }, b: { name: string; id: string }): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

function nonNegative(n: number): number {
  return Math.max(n, 0);
}

function formatCores(millis: number): string {
  const safe = Math.round(nonNegative(millis));
  return `${formatCpus(safe)} ${safe === 1000 ? "core" : "cores"}`;
}
