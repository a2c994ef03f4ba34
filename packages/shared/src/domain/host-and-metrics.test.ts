import { describe, expect, it } from "vitest";
import { makeContainerSample, makeHostFacts, makeHostSample } from "../protocol/test-factories";
import { ZContainerState, ZDesiredRunState, ZDesiredState } from "./container-state";
import { ZHostFacts, ZHostReserve } from "./host";
import { ZContainerSample, ZHostSample } from "./metrics";

describe("ZHostFacts", () => {
  it("accepts the factory's facts", () => {
    expect(ZHostFacts.parse(makeHostFacts())).toEqual(makeHostFacts());
  });

  it.each<[string, Record<string, unknown>]>([
    ["zero cpus", { cpus: 0 }],
    ["fractional cpus", { cpus: 1.5 }],
    ["cgroup version 3", { cgroupVersion: 3 }],
    ["an unknown engine", { engine: { name: "containerd", version: "1", apiVersion: "1" } }],
    ["a hostname over 253 characters", { hostname: "h".repeat(254) }],
    ["an empty kernel", { kernel: "" }],
    ["invalid labels", { labels: { "-x": "y" } }],
    ["negative memory", { memoryBytes: -1 }],
  ])("rejects %s", (_what, overrides) => {
    expect(ZHostFacts.safeParse({ ...makeHostFacts(), ...overrides }).success).toBe(false);
  });

  it("bounds the reserve", () => {
    expect(ZHostReserve.safeParse({ cpuMillis: 0, memoryBytes: 0 }).success).toBe(true);
    expect(ZHostReserve.safeParse({ cpuMillis: -1, memoryBytes: 0 }).success).toBe(false);
  });
});

describe("samples", () => {
  it("accept the factories' samples", () => {
    expect(ZContainerSample.parse(makeContainerSample())).toEqual(makeContainerSample());
    expect(ZHostSample.parse(makeHostSample())).toEqual(makeHostSample());
  });

  it("accept counters beyond 2^53", () => {
    expect(ZContainerSample.safeParse(makeContainerSample({ cpuUsageNs: 2 ** 60 })).success).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ["negative cpu", { cpuCores: -0.1 }],
    ["NaN memory", { memoryUsageBytes: Number.NaN }],
    ["infinite counters", { netRxBytes: Number.POSITIVE_INFINITY }],
    ["fractional timestamps", { ts: 1.5 }],
    ["fractional pids", { pidsCurrent: 1.5 }],
    ["a bad container id", { containerId: "Bad Id" }],
    ["a missing field", { blkWriteBytes: undefined }],
  ])("reject %s", (_what, overrides) => {
    expect(ZContainerSample.safeParse({ ...makeContainerSample(), ...overrides }).success).toBe(false);
  });

  it("reject a host sample with zero cpus", () => {
    expect(ZHostSample.safeParse(makeHostSample({ cpuCount: 0 })).success).toBe(false);
  });
});

describe("states", () => {
  it("list every lifecycle and desired state", () => {
    expect(ZContainerState.options).toEqual([
      "pending",
      "pulling",
      "creating",
      "running",
      "restarting",
      "crashloop",
      "exited",
      "stopped",
      "failed",
      "removed",
    ]);
    expect(ZDesiredState.options).toEqual(["running", "stopped", "removed"]);
    expect(ZDesiredRunState.options).toEqual(["running", "stopped"]);
    expect(ZContainerState.safeParse("paused").success).toBe(false);
  });
});
