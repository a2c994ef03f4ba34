import { describe, expect, it } from "vitest";
import { FLEET_LABELS } from "../driver";
import { makeContainerSpec } from "../fake/container-spec-factory";
import { buildCreateOptions, cpuQuotaMicros, cpuShares, engineMount, extraNetworks } from "./create-options";

const MiB = 1024 * 1024;

describe("buildCreateOptions", () => {
  it("maps 64m / 0.5 CPU / 50 pids / request 250m to exact HostConfig values", () => {
    const spec = makeContainerSpec({
      resources: {
        cpuRequestMillis: 250,
        cpuLimitMillis: 500,
        memoryRequestBytes: 32 * MiB,
        memoryLimitBytes: 64 * MiB,
        pidsRequest: 10,
        pidsLimit: 50,
      },
    });
    const options = buildCreateOptions(spec, { hostId: "h1", specHash: "abc", cgroupParent: "/fleet-h1" });
    expect(options.HostConfig).toEqual({
      Memory: 67108864,
      MemorySwap: 67108864,
      CpuPeriod: 100000,
      CpuQuota: 50000,
      CpuShares: 256,
      PidsLimit: 50,
      RestartPolicy: { Name: "no" },
      Init: false,
      CgroupParent: "/fleet-h1",
      PortBindings: {},
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
    });
  });

  it("leaves unlimited resources unset and floors shares and quota at the kernel's minimum", () => {
    const spec = makeContainerSpec({
      resources: {
        cpuRequestMillis: 0,
        cpuLimitMillis: null,
        memoryRequestBytes: 0,
        memoryLimitBytes: null,
        pidsRequest: 0,
        pidsLimit: null,
      },
    });
    const host = buildCreateOptions(spec, { hostId: "h", specHash: "s" }).HostConfig ?? {};
    for (const key of ["Memory", "MemorySwap", "CpuQuota", "CpuPeriod", "PidsLimit", "CgroupParent"]) {
      expect(host).not.toHaveProperty(key);
    }
    expect(host.CpuShares).toBe(2);
    expect(cpuShares(1000)).toBe(1024);
    expect(cpuQuotaMicros(5)).toBe(1000);
    expect(cpuQuotaMicros(1500)).toBe(150000);
  });

  it("sets name, image, command, env, ports and labels, with Fleet's labels winning", () => {
    const spec = makeContainerSpec({
      id: "c42",
      name: "web-1",
      image: "127.0.0.1:5000/web:1",
      command: ["sh", "-c", "echo hi"],
      env: { A: "1", B: "x=y" },
      ports: [
        { containerPort: 80, hostPort: 8080, protocol: "tcp" },
        { containerPort: 53, hostPort: 5353, protocol: "udp", hostIp: "127.0.0.1" },
        { containerPort: 9000, protocol: "tcp" },
      ],
      labels: { team: "core", [FLEET_LABELS.hostId]: "spoofed" },
    });
    const options = buildCreateOptions(spec, { hostId: "h7", specHash: "hash1" });
    expect(options).toMatchObject({
      name: "web-1",
      Image: "127.0.0.1:5000/web:1",
      Cmd: ["sh", "-c", "echo hi"],
      Env: ["A=1", "B=x=y"],
      Tty: false,
      ExposedPorts: { "80/tcp": {}, "53/udp": {}, "9000/tcp": {} },
    });
    expect(options.HostConfig?.PortBindings).toEqual({
      "80/tcp": [{ HostPort: "8080" }],
      "53/udp": [{ HostPort: "5353", HostIp: "127.0.0.1" }],
      "9000/tcp": [{ HostPort: "" }],
    });
    expect(options.Labels).toEqual({
      team: "core",
      "fleet.managed": "true",
      "fleet.container-id": "c42",
      "fleet.host-id": "h7",
      "fleet.spec-hash": "hash1",
      "fleet.name": "web-1",
    });
  });

  it("turns the engine's own health check off, whatever the image or spec says", () => {
    const spec = makeContainerSpec({
      healthCheck: {
        test: { type: "exec", command: ["true"] },
        intervalMs: 1000,
        timeoutMs: 1000,
        retries: 1,
        startPeriodMs: 0,
        restartOnUnhealthy: false,
      },
    });
    for (const s of [spec, makeContainerSpec()]) {
      expect(buildCreateOptions(s, { hostId: "h", specHash: "s" }).Healthcheck).toEqual({ Test: ["NONE"] });
    }
  });

  it("keeps the image's command when the spec has none", () => {
    const options = buildCreateOptions(makeContainerSpec({ command: null }), { hostId: "h", specHash: "s" });
    expect(options).not.toHaveProperty("Cmd");
  });
});

describe("buildCreateOptions: mounts and networks", () => {
  it("adds no Mounts, NetworkMode or NetworkingConfig for a spec without them", () => {
    const options = buildCreateOptions(makeContainerSpec(), { hostId: "h", specHash: "s" });
    expect(options.HostConfig).not.toHaveProperty("Mounts");
    expect(options.HostConfig).not.toHaveProperty("NetworkMode");
    expect(options).not.toHaveProperty("NetworkingConfig");
  });

  it("maps volume, bind and tmpfs mounts to the long Mounts form, in order", () => {
    const spec = makeContainerSpec({
      mounts: [
        { type: "volume", source: "data", target: "/var/lib/app", readOnly: false },
        { type: "bind", source: "/srv/conf", target: "/etc/app", readOnly: true },
        { type: "tmpfs", target: "/scratch", sizeBytes: 16 * MiB },
      ],
    });
    expect(buildCreateOptions(spec, { hostId: "h", specHash: "s" }).HostConfig?.Mounts).toEqual([
      { Type: "volume", Source: "data", Target: "/var/lib/app", ReadOnly: false },
      { Type: "bind", Source: "/srv/conf", Target: "/etc/app", ReadOnly: true },
      { Type: "tmpfs", Target: "/scratch", TmpfsOptions: { SizeBytes: 16777216 } },
    ]);
    expect(engineMount({ type: "volume", source: "v1", target: "/v", readOnly: true })).toEqual({
      Type: "volume",
      Source: "v1",
      Target: "/v",
      ReadOnly: true,
    });
  });

  it("creates the container on the first network and leaves the others to connect before start", () => {
    const spec = makeContainerSpec({ networks: ["front", "back", "audit"] });
    const options = buildCreateOptions(spec, { hostId: "h", specHash: "s" });
    expect(options.HostConfig?.NetworkMode).toBe("front");
    expect(options.NetworkingConfig).toEqual({ EndpointsConfig: { front: {} } });
    expect(extraNetworks(spec)).toEqual(["back", "audit"]);
    expect(extraNetworks(makeContainerSpec({ networks: ["solo"] }))).toEqual([]);
    expect(extraNetworks(makeContainerSpec())).toEqual([]);
  });
});
