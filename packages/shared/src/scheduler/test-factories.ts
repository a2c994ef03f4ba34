// Small builders for scheduler tests: a sensible default host or request,
// changed only where a test says so.
import type { TPortMapping, TResources } from "../domain/container-spec";
import { parseLabelSelector } from "../label-selector";
import type { PlacementRequest, ResourceAmounts, SchedulerHost, UsedHostPort } from "./types";

export const MIB = 1024 ** 2;
export const GIB = 1024 ** 3;

export type HostOverrides = Partial<Omit<SchedulerHost, "allocatable" | "allocated">> & {
  allocatable?: Partial<ResourceAmounts>;
  allocated?: Partial<ResourceAmounts>;
};

/** An online host with 4 cores, 8 GiB and 4096 pids, nothing allocated. Its id is `id-<name>`. */
export function makeHost(overrides: HostOverrides = {}): SchedulerHost {
  const name = overrides.name ?? "h1";
  return {
    id: overrides.id ?? `id-${name}`,
    name,
    online: overrides.online ?? true,
    draining: overrides.draining ?? false,
    labels: overrides.labels ?? {},
    allocatable: { cpuMillis: 4000, memoryBytes: 8 * GIB, pids: 4096, ...overrides.allocatable },
    allocated: { cpuMillis: 0, memoryBytes: 0, pids: 0, ...overrides.allocated },
    usedHostPorts: (overrides.usedHostPorts ?? []).map((p: UsedHostPort) => ({ ...p })),
    ...(overrides.volumes ? { volumes: [...overrides.volumes] } : {}),
  };
}

export type RequestOverrides = Partial<Omit<PlacementRequest, "resources" | "constraints">> & {
  resources?: Partial<TResources>;
  /** A label selector in the CLI syntax, e.g. `zone in (eu,us),!spot`. */
  selector?: string;
};

/** Half a core and 256 MiB requested, no limits, no ports, no constraints, binpack. */
export function makeRequest(overrides: RequestOverrides = {}): PlacementRequest {
  const request: PlacementRequest = {
    resources: {
      cpuRequestMillis: 500,
      cpuLimitMillis: null,
      memoryRequestBytes: 256 * MIB,
      memoryLimitBytes: null,
      pidsRequest: 0,
      pidsLimit: null,
      ...overrides.resources,
    },
    ports: overrides.ports ?? [],
    constraints: parseLabelSelector(overrides.selector ?? ""),
    strategy: overrides.strategy ?? "binpack",
  };
  if (overrides.avoidHostIds) request.avoidHostIds = overrides.avoidHostIds;
  if (overrides.volumes) request.volumes = [...overrides.volumes];
  return request;
}

/** A fixed host port mapping, tcp unless given. */
export function hostPort(
  port: number,
  options: { protocol?: "tcp" | "udp"; hostIp?: string } = {},
): TPortMapping {
  const mapping: TPortMapping = { containerPort: port, hostPort: port, protocol: options.protocol ?? "tcp" };
  if (options.hostIp !== undefined) mapping.hostIp = options.hostIp;
  return mapping;
}
