import { describe, expect, test } from "vitest";
import { formatHostPort, publishedPortsOf } from "./container-view";

function row(overrides: {
  hostIp?: string;
  address?: string | null;
  facts?: unknown;
  actualState?: "running" | "exited";
}) {
  return {
    actualState: overrides.actualState ?? ("running" as const),
    publishedPorts: [
      { containerPort: 80, protocol: "tcp", hostIp: overrides.hostIp ?? "0.0.0.0", hostPort: 32800 },
    ],
    host: {
      name: "host-a",
      address: overrides.address === undefined ? "10.0.0.5" : overrides.address,
      facts: overrides.facts ?? { hostname: "box-a" },
    },
  };
}

describe("published ports", () => {
  test.each([
    ["a specific IPv4 binding", { hostIp: "192.168.1.9" }, "192.168.1.9:32800"],
    ["a specific IPv6 binding", { hostIp: "fd00::9" }, "[fd00::9]:32800"],
    ["every IPv4 address: the agent's address", { hostIp: "0.0.0.0" }, "10.0.0.5:32800"],
    ["every IPv6 address: the agent's address", { hostIp: "::", address: "fd00::5" }, "[fd00::5]:32800"],
    ["no address known: the reported hostname", { address: null }, "box-a:32800"],
    ["no address nor facts: the host's name", { address: null, facts: {} }, "host-a:32800"],
  ])("%s → %s", (_, overrides: Parameters<typeof row>[0], address) => {
    expect(publishedPortsOf(row(overrides))).toEqual([
      { containerPort: 80, protocol: "tcp", hostIp: overrides.hostIp ?? "0.0.0.0", hostPort: 32800, address },
    ]);
  });

  test("a container that does not run, or a garbled column, shows none", () => {
    expect(publishedPortsOf(row({ actualState: "exited" }))).toEqual([]);
    expect(publishedPortsOf({ ...row({}), publishedPorts: [{ hostPort: "x" }] })).toEqual([]);
    expect(publishedPortsOf({ ...row({}), host: null })).toEqual([]);
  });

  test("formatHostPort brackets IPv6 only", () => {
    expect(formatHostPort("::1", 80)).toBe("[::1]:80");
    expect(formatHostPort("example.org", 80)).toBe("example.org:80");
  });
});
