// The scheduler's inputs and outputs. Plain TypeScript types: callers build
// them from data the central already validated, so nothing is parsed here.
import type { TPortMapping, TResources } from "../domain/container-spec";
import type { TLabelRequirement } from "../label-selector";

export type PortProtocol = TPortMapping["protocol"];

/** A host port already bound on a host. An unset `hostIp` means every address. */
export type UsedHostPort = { port: number; protocol: PortProtocol; hostIp?: string };

/** CPU in millicores, memory in bytes, process ids as a count. */
export type ResourceAmounts = { cpuMillis: number; memoryBytes: number; pids: number };

export type SchedulerHost = {
  id: string;
  name: string;
  online: boolean;
  draining: boolean;
  labels: Record<string, string>;
  /** What containers may take in total (capacity minus what the host keeps back). */
  allocatable: ResourceAmounts;
  /** Sum of the effective requests of the containers placed on the host. */
  allocated: ResourceAmounts;
  usedHostPorts: UsedHostPort[];
  /** Named volumes on the host (its engine's, and those placements created there). */
  volumes?: readonly string[];
};

export type PlacementStrategy = "binpack" | "spread";

export type PlacementRequest = {
  /** Requests and limits; a request of 0 falls back to the limit (see `effectiveRequests`). */
  resources: TResources;
  /** Only mappings with a `hostPort` take a port on the host. */
  ports: TPortMapping[];
  /** A parsed label selector; a host must meet every requirement. */
  constraints: TLabelRequirement[];
  strategy: PlacementStrategy;
  /**
   * Hosts to stay away from while any other host fits (the host a container
   * just left, the hosts its sibling replicas already run on). A soft
   * preference, like Nomad's reschedule penalty: an avoided host is still
   * chosen when it is the only one that fits.
   */
  avoidHostIds?: string[];
  /**
   * Named volumes the container mounts. Data stays where its volume is: while
   * a volume exists on some hosts, only a host holding every such volume
   * fits. A volume that exists nowhere is created on the chosen host (and
   * `ClusterView.place` records it there, so the next container follows).
   */
  volumes?: readonly string[];
};

export type HostRejection = { hostId: string; hostName: string; reasons: string[] };

export type PlacementSuccess = {
  ok: true;
  hostId: string;
  hostName: string;
  /** In [0, 1]; higher is better for the strategy used. */
  score: number;
  reason: string;
  /** Every host ruled out, sorted by name then id; built when first read. */
  readonly rejected: HostRejection[];
};

export type PlacementFailure = {
  ok: false;
  message: string;
  /** Every host, sorted by name then id, each with all the reasons it was ruled out; built when first read. */
  readonly rejected: HostRejection[];
};

export type PlacementResult = PlacementSuccess | PlacementFailure;
