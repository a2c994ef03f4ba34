/**
 * Engine answers about volumes, networks and published ports, mapped to the
 * driver's shapes. Pure, so both engines' spellings (Podman's df has no
 * Driver or CreatedAt; its port bindings leave HostIp empty) are unit-tested.
 */
import { MAX_PUBLISHED_PORTS, type TPublishedPort } from "@fleet/shared/protocol/agent-to-server";
import type { NetworkSummary, VolumeSummary } from "../host-object-store";

export interface EngineVolume {
  Name: string;
  Driver?: string;
  CreatedAt?: string;
  Labels?: Record<string, string> | null;
}

export interface EngineDfVolume {
  Name: string;
  UsageData?: { Size?: number; RefCount?: number } | null;
}

/** Volumes from the volume list, with sizes from `/system/df` (-1 there means "not measured"). */
export function toVolumeSummaries(
  listed: readonly EngineVolume[],
  usage: readonly EngineDfVolume[],
): VolumeSummary[] {
  const sizes = new Map(usage.map((v) => [v.Name, v.UsageData?.Size]));
  return listed.map((volume) => {
    const size = sizes.get(volume.Name);
    return {
      name: volume.Name,
      driver: volume.Driver || "local",
      createdAt: isoOrNull(volume.CreatedAt),
      sizeBytes: typeof size === "number" && size >= 0 ? Math.round(size) : null,
      labels: { ...(volume.Labels ?? {}) },
    };
  });
}

export interface EngineNetwork {
  Id: string;
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Created?: string;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> | null } | null;
}

export function toNetworkSummary(network: EngineNetwork): NetworkSummary {
  const ipam = network.IPAM?.Config?.[0];
  return {
    id: network.Id,
    name: network.Name,
    driver: network.Driver || "bridge",
    internal: network.Internal ?? false,
    subnet: ipam?.Subnet || null,
    gateway: ipam?.Gateway || null,
    createdAt: isoOrNull(network.Created),
  };
}

type EnginePortBindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;

/** `NetworkSettings.Ports` of a running container: only bound ports; Podman's empty HostIp means every address. */
export function publishedPortsOf(ports: EnginePortBindings | undefined): TPublishedPort[] {
  const out: TPublishedPort[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const match = /^(\d+)\/(tcp|udp)$/.exec(key);
    if (!match || !bindings) continue;
    for (const binding of bindings) {
      const hostPort = Number(binding.HostPort);
      if (!Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65535) continue;
      out.push({
        containerPort: Number(match[1]),
        protocol: match[2] as TPublishedPort["protocol"],
        hostIp: binding.HostIp || "0.0.0.0",
        hostPort,
      });
    }
  }
  // Stable: within a port the engine's own order stays (Docker lists IPv4 before IPv6).
  return out.sort((a, b) => a.containerPort - b.containerPort).slice(0, MAX_PUBLISHED_PORTS);
}

function isoOrNull(value: string | undefined): string | null {
  if (!value || value.startsWith("0001-01-01")) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
