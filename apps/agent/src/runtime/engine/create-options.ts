/**
 * Maps a Fleet container spec to the Docker Engine API's create body. Pure, so
 * the exact HostConfig values are unit-tested; both Docker and Podman (through
 * its compat API) accept the same body.
 */
import type { TContainerSpec, TMount } from "@fleet/shared/domain/container-spec";
import type { ContainerCreateOptions } from "dockerode";
import { FLEET_LABELS } from "../driver";

/** CFS period the quota is expressed against; the kernel's default. */
export const CPU_PERIOD_MICROS = 100_000;
/** The kernel refuses a CFS quota under 1 ms. */
const MIN_CPU_QUOTA_MICROS = 1_000;
/** cpu.shares is 1024 per core; the kernel's floor is 2. */
const SHARES_PER_CORE = 1024;
const MIN_CPU_SHARES = 2;

export interface CreateContext {
  hostId: string;
  specHash: string;
  /** Parent cgroup for the container (one per simulated host in multi-host tests). */
  cgroupParent?: string;
}

export function fleetLabels(spec: TContainerSpec, ctx: CreateContext): Record<string, string> {
  // Fleet's labels are applied last so a spec cannot spoof them.
  return {
    ...spec.labels,
    [FLEET_LABELS.managed]: "true",
    [FLEET_LABELS.containerId]: spec.id,
    [FLEET_LABELS.hostId]: ctx.hostId,
    [FLEET_LABELS.specHash]: ctx.specHash,
    [FLEET_LABELS.name]: spec.name,
  };
}

export function cpuQuotaMicros(cpuLimitMillis: number): number {
  return Math.max(MIN_CPU_QUOTA_MICROS, Math.round((cpuLimitMillis * CPU_PERIOD_MICROS) / 1000));
}

export function cpuShares(cpuRequestMillis: number): number {
  return Math.max(MIN_CPU_SHARES, Math.round((cpuRequestMillis * SHARES_PER_CORE) / 1000));
}

type EngineMounts = NonNullable<NonNullable<ContainerCreateOptions["HostConfig"]>["Mounts"]>;

/**
 * dockerode's type demands a tmpfs `Mode`, but the engine's default (1777) is
 * wanted, and Docker reads `Mode` as a Go FileMode whose sticky bit is not 0o1000.
 */
export type EngineMount =
  | { Type: "volume" | "bind"; Source: string; Target: string; ReadOnly: boolean }
  | { Type: "tmpfs"; Target: string; TmpfsOptions: { SizeBytes: number } };

/** The `Mounts` entry of one spec mount; the long form, so a missing bind source fails instead of being created. */
export function engineMount(mount: TMount): EngineMount {
  if (mount.type === "tmpfs") {
    return { Type: "tmpfs", Target: mount.target, TmpfsOptions: { SizeBytes: mount.sizeBytes } };
  }
  return { Type: mount.type, Source: mount.source, Target: mount.target, ReadOnly: mount.readOnly };
}

/**
 * Docker 20.10 (API 1.41) takes one network at create; the others are
 * connected between create and start (see `extraNetworks`).
 */
export function extraNetworks(spec: TContainerSpec): string[] {
  return spec.networks.slice(1);
}

export function buildCreateOptions(spec: TContainerSpec, ctx: CreateContext): ContainerCreateOptions {
  const { resources } = spec;
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, Array<{ HostIp?: string; HostPort: string }>> = {};
  for (const port of spec.ports) {
    const key = `${port.containerPort}/${port.protocol}`;
    exposedPorts[key] = {};
    // An empty HostPort asks the engine to pick a free one (`docker run -p 80`).
    const binding = {
      HostPort: port.hostPort === undefined ? "" : String(port.hostPort),
      ...(port.hostIp ? { HostIp: port.hostIp } : {}),
    };
    portBindings[key] = [...(portBindings[key] ?? []), binding];
  }

  const hostConfig: NonNullable<ContainerCreateOptions["HostConfig"]> = {
    // The agent applies the restart policy itself (with backoff and reporting); the engine must not.
    RestartPolicy: { Name: "no" },
    Init: false,
    CpuShares: cpuShares(resources.cpuRequestMillis),
    PortBindings: portBindings,
    // Docker honours rotation; Podman's compat API ignores these options (its own log_size_max applies).
    LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
  };
  if (resources.memoryLimitBytes !== null) {
    hostConfig.Memory = resources.memoryLimitBytes;
    // Without this the engine allows as much swap again, doubling the effective limit.
    hostConfig.MemorySwap = resources.memoryLimitBytes;
  }
  if (resources.cpuLimitMillis !== null) {
    hostConfig.CpuPeriod = CPU_PERIOD_MICROS;
    hostConfig.CpuQuota = cpuQuotaMicros(resources.cpuLimitMillis);
  }
  if (resources.pidsLimit !== null) hostConfig.PidsLimit = resources.pidsLimit;
  if (ctx.cgroupParent) hostConfig.CgroupParent = ctx.cgroupParent;
  // Left out when empty so specs without mounts or networks create exactly what they did before.
  if (spec.mounts.length > 0) hostConfig.Mounts = spec.mounts.map(engineMount) as EngineMounts;
  const firstNetwork = spec.networks[0];
  if (firstNetwork !== undefined) hostConfig.NetworkMode = firstNetwork;

  return {
    name: spec.name,
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: fleetLabels(spec, ctx),
    ExposedPorts: exposedPorts,
    Tty: false,
    OpenStdin: false,
    // The agent runs the spec's health check itself, alike on both engines; an image's HEALTHCHECK
    // (and Podman's systemd timers for it) must not run beside it.
    Healthcheck: { Test: ["NONE"] },
    HostConfig: hostConfig,
    ...(firstNetwork !== undefined ? { NetworkingConfig: { EndpointsConfig: { [firstNetwork]: {} } } } : {}),
  };
}
