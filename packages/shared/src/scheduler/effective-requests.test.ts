import { describe, expect, it } from "vitest";
import { effectiveRequests } from "./effective-requests";
import { GIB, MIB } from "./test-factories";

describe("effectiveRequests", () => {
  const none = { cpuLimitMillis: null, memoryLimitBytes: null, pidsLimit: null };
  it.each([
    {
      name: "requests as given",
      resources: { ...none, cpuRequestMillis: 250, memoryRequestBytes: 64 * MIB, pidsRequest: 10 },
      take: { cpuMillis: 250, memoryBytes: 64 * MIB, pids: 10 },
    },
    {
      name: "a request of 0 falls back to the limit",
      resources: {
        cpuRequestMillis: 0,
        cpuLimitMillis: 2000,
        memoryRequestBytes: 0,
        memoryLimitBytes: GIB,
        pidsRequest: 0,
        pidsLimit: 100,
      },
      take: { cpuMillis: 2000, memoryBytes: GIB, pids: 100 },
    },
    {
      name: "a request below its limit wins over the limit",
      resources: {
        cpuRequestMillis: 100,
        cpuLimitMillis: 2000,
        memoryRequestBytes: MIB,
        memoryLimitBytes: GIB,
        pidsRequest: 1,
        pidsLimit: 100,
      },
      take: { cpuMillis: 100, memoryBytes: MIB, pids: 1 },
    },
    {
      name: "neither request nor limit takes nothing",
      resources: { ...none, cpuRequestMillis: 0, memoryRequestBytes: 0, pidsRequest: 0 },
      take: { cpuMillis: 0, memoryBytes: 0, pids: 0 },
    },
  ])("$name", ({ resources, take }) => {
    expect(effectiveRequests(resources)).toEqual(take);
  });
});
