import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, test } from "vitest";
import { summarizeHostUsage } from "./summarize-host-usage";

const MIB = 1024 * 1024;

describe("summarizeHostUsage", () => {
  test("sums the containers of each asked host and leaves other hosts out", () => {
    const latest = {
      containers: [
        {
          hostId: "a",
          sample: makeContainerSample({ containerId: "c1", cpuCores: 0.25, memoryWorkingSetBytes: 64 * MIB }),
        },
        {
          hostId: "a",
          sample: makeContainerSample({ containerId: "c2", cpuCores: 0.5, memoryWorkingSetBytes: 32 * MIB }),
        },
        {
          hostId: "z",
          sample: makeContainerSample({ containerId: "c3", cpuCores: 3, memoryWorkingSetBytes: MIB }),
        },
      ],
      hosts: [
        { hostId: "a", sample: makeHostSample({ ts: 1000, cpuCores: 1.5, cpuCount: 4, load1: 0.7 }) },
        { hostId: "z", sample: makeHostSample({ ts: 1000 }) },
      ],
    };
    const usage = summarizeHostUsage({ hostIds: ["a", "b"], latest });
    expect(usage.map((entry) => entry.hostId)).toEqual(["a", "b"]);
    expect(usage[0]).toMatchObject({
      cpuUsedCores: 0.75,
      memoryUsedBytes: 96 * MIB,
      containersReporting: 2,
      machine: { ts: 1000, cpuCores: 1.5, cpuCount: 4, load1: 0.7 },
    });
    // A host with nothing reporting reads as zero use, not as missing.
    expect(usage[1]).toEqual({
      hostId: "b",
      cpuUsedCores: 0,
      memoryUsedBytes: 0,
      containersReporting: 0,
      machine: null,
    });
  });

  test("an id asked twice is answered once", () => {
    expect(summarizeHostUsage({ hostIds: ["a", "a"], latest: { containers: [], hosts: [] } })).toHaveLength(
      1,
    );
  });
});
