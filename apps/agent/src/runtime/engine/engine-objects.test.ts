import { describe, expect, it } from "vitest";
import { publishedPortsOf, toNetworkSummary, toVolumeSummaries } from "./engine-objects";

// Shapes as Docker 20.10 and Podman 4.3 answer them (trimmed).
const DOCKER_VOLUME = {
  CreatedAt: "2026-11-28T00:03:37Z",
  Driver: "local",
  Labels: { "fleet.managed": "true" },
  Mountpoint: "/var/lib/docker/volumes/data/_data",
  Name: "data",
  Scope: "local",
};
const PODMAN_VOLUME = {
  Name: "cache",
  Driver: "local",
  CreatedAt: "2026-11-28T00:03:35.1Z",
  Labels: {},
  Scope: "local",
};

describe("toVolumeSummaries", () => {
  it("takes driver and time from the list and the size from df, by name", () => {
    const summaries = toVolumeSummaries(
      [DOCKER_VOLUME, PODMAN_VOLUME],
      [
        // Podman's df has no Driver or CreatedAt.
        { Name: "cache", UsageData: { RefCount: 0, Size: 4096 } },
        { Name: "data", UsageData: { RefCount: 1, Size: 300_000 } },
      ],
    );
    expect(summaries).toEqual([
      {
        name: "data",
        driver: "local",
        createdAt: "2026-11-28T00:03:37.000Z",
        sizeBytes: 300_000,
        labels: { "fleet.managed": "true" },
      },
      { name: "cache", driver: "local", createdAt: "2026-11-28T00:03:35.100Z", sizeBytes: 4096, labels: {} },
    ]);
  });

  it("leaves size null when df did not measure it (-1 or absent) and tolerates null labels", () => {
    const [measuredNot, absent] = toVolumeSummaries(
      [
        { Name: "a", Labels: null },
        { Name: "b", Driver: "", CreatedAt: "0001-01-01T00:00:00Z" },
      ],
      [{ Name: "a", UsageData: { Size: -1 } }],
    );
    expect(measuredNot).toMatchObject({ name: "a", sizeBytes: null, labels: {} });
    expect(absent).toMatchObject({ name: "b", sizeBytes: null, driver: "local", createdAt: null });
  });
});

describe("toNetworkSummary", () => {
  it("maps the first IPAM config and flags", () => {
    expect(
      toNetworkSummary({
        Name: "probenet",
        Id: "7d1e275d8b150258929675d6d6ca249735895b74a12d25a9be78edbc1658399a",
        Created: "2026-11-28T00:03:35.561772178Z",
        Driver: "bridge",
        Internal: true,
        IPAM: { Config: [{ Subnet: "10.89.0.0/24", Gateway: "10.89.0.1" }] },
      }),
    ).toEqual({
      id: "7d1e275d8b150258929675d6d6ca249735895b74a12d25a9be78edbc1658399a",
      name: "probenet",
      driver: "bridge",
      internal: true,
      subnet: "10.89.0.0/24",
      gateway: "10.89.0.1",
      createdAt: "2026-11-28T00:03:35.561Z",
    });
  });

  it("gives null subnet and gateway for networks without IPAM (host, none)", () => {
    expect(
      toNetworkSummary({ Name: "none", Id: "d839e6513b5b", Driver: "null", IPAM: { Config: [] } }),
    ).toMatchObject({ name: "none", driver: "null", internal: false, subnet: null, gateway: null });
  });
});

describe("publishedPortsOf", () => {
  it("lists bound ports, Podman's empty HostIp as every address, Docker's IPv6 binding beside IPv4", () => {
    expect(
      publishedPortsOf({
        "8080/tcp": [
          { HostIp: "0.0.0.0", HostPort: "49153" },
          { HostIp: "::", HostPort: "49153" },
        ],
        "53/udp": [{ HostIp: "", HostPort: "40703" }],
        "9000/tcp": null,
      }),
    ).toEqual([
      { containerPort: 53, protocol: "udp", hostIp: "0.0.0.0", hostPort: 40703 },
      { containerPort: 8080, protocol: "tcp", hostIp: "0.0.0.0", hostPort: 49153 },
      { containerPort: 8080, protocol: "tcp", hostIp: "::", hostPort: 49153 },
    ]);
  });

  it("is empty for no ports and skips bindings without a usable host port", () => {
    expect(publishedPortsOf(undefined)).toEqual([]);
    expect(publishedPortsOf(null)).toEqual([]);
    expect(publishedPortsOf({ "80/tcp": [{ HostIp: "", HostPort: "" }], bogus: [] })).toEqual([]);
  });
});
