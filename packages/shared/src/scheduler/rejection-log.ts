import { formatLabelSelector, matchesLabels, type TLabelRequirement } from "../label-selector";
import { formatBytesHuman, formatCpus } from "../units";
import { findPortConflict, formatHostBinding, type HostPortMapping } from "./host-ports";
import type { RecordSnapshot } from "./record-table";
import type { HostRejection, ResourceAmounts, SchedulerHost } from "./types";

// One bit per filter, so the hot loop records every failing filter of a host
// as a single small integer.
export const FAILED_OFFLINE = 1;
export const FAILED_DRAINING = 2;
export const FAILED_CPU = 4;
export const FAILED_MEMORY = 8;
export const FAILED_PIDS = 16;
export const FAILED_PORTS = 32;
export const FAILED_CONSTRAINTS = 64;
export const FAILED_VOLUMES = 128;

const FILTER_SUMMARIES: readonly [bit: number, summary: string][] = [
  [FAILED_OFFLINE, "offline"],
  [FAILED_DRAINING, "draining"],
  [FAILED_CPU, "not enough cpu"],
  [FAILED_MEMORY, "not enough memory"],
  [FAILED_PIDS, "not enough pids"],
  [FAILED_PORTS, "host port in use"],
  [FAILED_CONSTRAINTS, "constraint not met"],
  [FAILED_VOLUMES, "volume elsewhere"],
];

/** Hosts named in `volume "data" is on …`; more are counted. */
const MAX_VOLUME_HOLDERS_NAMED = 3;

/** A volume the request mounts that exists on some hosts, with their names. */
export type VolumeHolders = { name: string; hostNames: readonly string[] };

/** Hosts named one by one in a no-fit message; the rest are counted by reason. */
export const MAX_HOSTS_IN_MESSAGE = 20;

/**
 * The hosts a scheduling pass ruled out, kept as positions in the records it
 * scanned plus the failed-filter bits, and turned into sentences only when
 * someone reads them: most placements succeed and nobody reads why 4,000
 * other hosts were skipped. A `ClusterView` never changes records or a
 * records array it handed out (changes swap in new ones), so the hosts are
 * described as the scheduler saw them. Positions are added in the view's
 * order (name, then id) and reported in it.
 */
export class RejectionLog {
  // Sized for every host at once: two small typed arrays instead of growing JS arrays.
  readonly #positions: Int32Array;
  readonly #failed: Uint8Array;
  #size = 0;
  #built: HostRejection[] | undefined;

  constructor(
    private readonly records: RecordSnapshot,
    private readonly take: ResourceAmounts,
    private readonly hostPorts: readonly HostPortMapping[],
    private readonly constraints: readonly TLabelRequirement[],
    private readonly volumeHolders: readonly VolumeHolders[],
  ) {
    this.#positions = new Int32Array(records.length);
    this.#failed = new Uint8Array(records.length);
  }

  get size(): number {
    return this.#size;
  }

  add(position: number, failed: number): void {
    this.#positions[this.#size] = position;
    this.#failed[this.#size] = failed;
    this.#size++;
  }

  /** Every logged host with its reasons, in the order they were added. */
  rejections(): HostRejection[] {
    if (this.#built) return this.#built;
    const built: HostRejection[] = [];
    for (let i = 0; i < this.#size; i++) {
      const host = this.records.get(this.#positions[i]!);
      built.push({ hostId: host.id, hostName: host.name, reasons: this.#reasons(host, this.#failed[i]!) });
    }
    this.#built = built;
    return built;
  }

  /** `h1: not enough memory (…); h2: offline`, capped at `MAX_HOSTS_IN_MESSAGE` hosts. */
  describe(): string {
    const named: string[] = [];
    for (let i = 0; i < Math.min(this.#size, MAX_HOSTS_IN_MESSAGE); i++) {
      const host = this.records.get(this.#positions[i]!);
      named.push(`${host.name}: ${this.#reasons(host, this.#failed[i]!).join(", ")}`);
    }
    const listed = named.join("; ");
    if (this.#size <= MAX_HOSTS_IN_MESSAGE) return listed;
    const countsByBit = new Uint32Array(FAILED_VOLUMES * 2);
    for (let i = MAX_HOSTS_IN_MESSAGE; i < this.#size; i++) {
      const failed = this.#failed[i]!;
      for (let bit = 1; bit <= FAILED_VOLUMES; bit <<= 1) if (failed & bit) countsByBit[bit]!++;
    }
    const counts = FILTER_SUMMARIES.filter(([bit]) => countsByBit[bit]! > 0).map(
      ([bit, summary]) => `${countsByBit[bit]} ${summary}`,
    );
    return `${listed}; and ${this.#size - MAX_HOSTS_IN_MESSAGE} more hosts (${counts.join(", ")})`;
  }

  #reasons(host: SchedulerHost, failed: number): string[] {
    const { allocatable, allocated } = host;
    const reasons: string[] = [];
    if (failed & FAILED_OFFLINE) reasons.push("offline");
    if (failed & FAILED_DRAINING) reasons.push("draining");
    if (failed & FAILED_CPU) {
      const free = Math.round(nonNegative(allocatable.cpuMillis - allocated.cpuMillis));
      reasons.push(
        `not enough cpu (requested ${formatCores(this.take.cpuMillis)}, ` +
          `free ${formatCpus(free)} of ${formatCores(allocatable.cpuMillis)})`,
      );
    }
    if (failed & FAILED_MEMORY) {
      const free = nonNegative(allocatable.memoryBytes - allocated.memoryBytes);
      reasons.push(
        `not enough memory (requested ${formatBytesHuman(this.take.memoryBytes)}, ` +
          `free ${formatBytesHuman(free)} of ${formatBytesHuman(nonNegative(allocatable.memoryBytes))})`,
      );
    }
    if (failed & FAILED_PIDS) {
      const free = nonNegative(allocatable.pids - allocated.pids);
      reasons.push(`not enough pids (requested ${this.take.pids}, free ${free} of ${allocatable.pids})`);
    }
    // Ports, constraints and volumes: each one that fails is named, found
    // again here (the filter's bit says only that one did).
    for (const wanted of this.hostPorts) {
      const bound = findPortConflict(wanted, host.usedHostPorts);
      if (bound === undefined) continue;
      const asked = formatHostBinding({
        port: wanted.hostPort,
        protocol: wanted.protocol,
        hostIp: wanted.hostIp,
      });
      reasons.push(`host port ${asked} conflicts with ${formatHostBinding(bound)} in use`);
    }
    for (const requirement of this.constraints) {
      if (matchesLabels([requirement], host.labels)) continue;
      const has = Object.hasOwn(host.labels, requirement.key);
      const actual = has
        ? `${requirement.key}=${host.labels[requirement.key]}`
        : `no ${requirement.key} label`;
      reasons.push(`constraint ${formatLabelSelector([requirement])} not met (${actual})`);
    }
    for (const { name, hostNames } of this.volumeHolders) {
      if (host.volumes?.includes(name)) continue;
      reasons.push(`volume "${name}" is on ${describeHolders(hostNames)}`);
    }
    return reasons;
  }
}

function describeHolders(hostNames: readonly string[]): string {
  const named = hostNames.slice(0, MAX_VOLUME_HOLDERS_NAMED).join(", ");
  const more = hostNames.length - MAX_VOLUME_HOLDERS_NAMED;
  return more > 0 ? `${named} and ${more} more ${more === 1 ? "host" : "hosts"}` : named;
}

function nonNegative(n: number): number {
  return Math.max(n, 0);
}

function formatCores(millis: number): string {
  const safe = Math.round(nonNegative(millis));
  return `${formatCpus(safe)} ${safe === 1000 ? "core" : "cores"}`;
}
