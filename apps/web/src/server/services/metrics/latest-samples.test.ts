import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, it } from "vitest";
import { filterLiveMetrics, LatestSamples } from "./latest-samples";

describe("LatestSamples", () => {
  it("keeps the newest sample per container and host", () => {
    const latest = new LatestSamples();
    expect(
      latest.recordContainer("h1", makeContainerSample({ containerId: "c1", ts: 10, cpuCores: 1 })),
    ).toBe(true);
    expect(latest.recordContainer("h1", makeContainerSample({ containerId: "c1", ts: 5, cpuCores: 2 }))).toBe(
      false,
    );
    expect(latest.container("c1")?.sample.cpuCores).toBe(1);
    expect(latest.recordHost("h1", makeHostSample({ ts: 10 }))).toBe(true);
    expect(latest.recordHost("h1", makeHostSample({ ts: 10 }))).toBe(false);
  });

  it("reports what changed once, filters snapshots and forgets stale or removed subjects", () => {
    const latest = new LatestSamples();
    latest.recordContainer("h1", makeContainerSample({ containerId: "c1", ts: 10 }));
    latest.recordContainer("h2", makeContainerSample({ containerId: "c2", ts: 20 }));
    latest.recordHost("h1", makeHostSample({ ts: 10 }));
    const changes = latest.takeChanges();
    expect(changes.containers.map((entry) => entry.sample.containerId).sort()).toEqual(["c1", "c2"]);
    expect(changes.hosts.map((entry) => entry.hostId)).toEqual(["h1"]);
    expect(latest.takeChanges()).toEqual({ containers: [], hosts: [] });

    expect(latest.snapshot({ hostId: "h1" }).containers.map((entry) => entry.sample.containerId)).toEqual([
      "c1",
    ]);
    expect(latest.snapshot({ containerId: "c2" })).toMatchObject({ hosts: [] });
    expect(latest.snapshot({}, 15).containers.map((entry) => entry.sample.containerId)).toEqual(["c2"]);

    expect(latest.prune(15)).toBe(2);
    expect(latest.size).toEqual({ containers: 1, hosts: 0 });
    latest.forgetHost("h2");
    expect(latest.size).toEqual({ containers: 0, hosts: 0 });
  });
});

describe("filterLiveMetrics", () => {
  const message = {
    seq: 3,
    at: 0,
    containers: [
      { hostId: "h1", sample: makeContainerSample({ containerId: "c1" }) },
      { hostId: "h2", sample: makeContainerSample({ containerId: "c2" }) },
    ],
    hosts: [
      { hostId: "h1", sample: makeHostSample() },
      { hostId: "h2", sample: makeHostSample() },
    ],
  };

  it("narrows a message to one host or one container, or drops it", () => {
    expect(filterLiveMetrics(message, {})).toBe(message);
    const forHost = filterLiveMetrics(message, { hostId: "h2" });
    expect(forHost?.containers.map((entry) => entry.sample.containerId)).toEqual(["c2"]);
    expect(forHost?.hosts.map((entry) => entry.hostId)).toEqual(["h2"]);
    const forContainer = filterLiveMetrics(message, { containerId: "c1" });
    expect(forContainer).toMatchObject({ seq: 3, hosts: [] });
    expect(forContainer?.containers).toHaveLength(1);
    expect(filterLiveMetrics(message, { containerId: "nope" })).toBeNull();
  });

  it("narrows a message to a page of containers, without host samples", () => {
    const forPage = filterLiveMetrics(message, { containerIds: new Set(["c2", "c9"]) });
    expect(forPage?.containers.map((entry) => entry.sample.containerId)).toEqual(["c2"]);
    expect(forPage?.hosts).toEqual([]);
    expect(filterLiveMetrics(message, { containerIds: new Set() })).toBeNull();
  });
});
