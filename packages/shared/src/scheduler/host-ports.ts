import { portMappingsConflict, type TPortMapping } from "../domain/container-spec";
import type { UsedHostPort } from "./types";

/** A container port that binds a fixed host port (without one the engine picks a free port). */
export type HostPortMapping = TPortMapping & { hostPort: number };

export function takesHostPort(port: TPortMapping): port is HostPortMapping {
  return (port.hostPort ?? 0) > 0;
}

/** Finds the binding on a host that `wanted` would clash with. */
export function findPortConflict(
  wanted: HostPortMapping,
  used: readonly UsedHostPort[],
): UsedHostPort | undefined {
  return used.find((binding) =>
    portMappingsConflict(wanted, {
      containerPort: wanted.containerPort,
      hostPort: binding.port,
      protocol: binding.protocol,
      hostIp: binding.hostIp,
    }),
  );
}

/** The host-port bindings a placed container adds to its host. */
export function usedHostPortsOf(ports: readonly TPortMapping[]): UsedHostPort[] {
  const bindings: UsedHostPort[] = [];
  for (const port of ports) {
    if (!takesHostPort(port)) continue;
    const binding: UsedHostPort = { port: port.hostPort, protocol: port.protocol };
    if (port.hostIp !== undefined) binding.hostIp = port.hostIp;
    bindings.push(binding);
  }
  return bindings;
}

/** `127.0.0.1:8080/tcp`, `[::1]:53/udp`; `*:80/tcp` when bound without an address. */
export function formatHostBinding(binding: {
  port: number;
  protocol: string;
  hostIp?: string | undefined;
}): string {
  const ip = binding.hostIp;
  const address = ip === undefined || ip === "" ? "*" : ip.includes(":") ? `[${ip}]` : ip;
  return `${address}:${binding.port}/${binding.protocol}`;
}
