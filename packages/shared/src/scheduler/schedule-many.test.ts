import { describe, expect, it } from "vitest";
import { ClusterView } from "./cluster-view";
import { scheduleMany } from "./schedule-many";
import { GIB, makeHost, makeRequest } from "./test-factories";

const threeHosts = () => new ClusterView(["h1", "h2", "h3"].map((name) => makeHost({ name })));

describe("scheduleMany", () => {
  it("spread puts 3 replicas on 3 hosts", () => {
    const view = threeHosts();
    const result = scheduleMany(
      view,
      [1, 2, 3].map(() => makeRequest({ strategy: "spread" })),
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.placements.map((p) => p.hostName).sort()).toEqual(["h1", "h2", "h3"]);
    for (const host of view.hosts()) expect(host.allocated.cpuMillis).toBe(500);
  });

  it("binpack stacks replicas on one host while they fit", () => {
    // Half a core and 256 MiB of 4 cores and 8 GiB leave h1 lopsided, but
    // nothing placed is shaped otherwise, so no later request would use the
    // memory it leaves: starting h2 would only leave two hosts lopsided.
    const view = threeHosts();
    const result = scheduleMany(
      view,
      [1, 2, 3].map(() => makeRequest({ strategy: "binpack" })),
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.placements.map((p) => p.hostName)).toEqual(["h1", "h1", "h1"]);
  });

  it("all or nothing: undoes every placement when one does not fit", () => {
    const view = threeHosts();
    const before = structuredClone(view.hosts());
    const requests = [
      makeRequest({ resources: { memoryRequestBytes: 6 * GIB } }),
      makeRequest({ resources: { memoryRequestBytes: 6 * GIB } }),
      makeRequest({ resources: { memoryRequestBytes: 6 * GIB } }),
      makeRequest({ resources: { memoryRequestBytes: 6 * GIB } }),
    ];
    const result = scheduleMany(view, requests, { allOrNothing: true });
    if (result.ok) throw new Error("expected a failure");
    expect(result.placed).toBe(0);
    expect(result.results.map((r) => r.ok)).toEqual([true, true, true, false]);
    expect(result.message).toMatch(
      /^request 4 of 4: no host fits: h1: not enough memory .*; nothing was placed$/,
    );
    expect(view.hosts()).toEqual(before);
  });

  it("by default places what fits and reports the rest", () => {
    const view = threeHosts();
    const requests = [
      makeRequest({ resources: { memoryRequestBytes: 6 * GIB } }),
      makeRequest({ resources: { memoryRequestBytes: 16 * GIB } }),
      makeRequest({ resources: { memoryRequestBytes: 6 * GIB } }),
    ];
    const result = scheduleMany(view, requests);
    if (result.ok) throw new Error("expected a failure");
    expect(result.placed).toBe(2);
    expect(result.results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(result.message).toMatch(/^request 2 of 3: no host fits/);
    const used = view.hosts().filter((h) => h.allocated.memoryBytes > 0);
    expect(used).toHaveLength(2);
  });
});

describe("scheduleMany: several requests that do not fit", () => {
  it("says why for each one, one line each, and places the rest", () => {
    const view = new ClusterView([makeHost({ allocated: { cpuMillis: 3000 } })]);
    const big = makeRequest({ resources: { cpuRequestMillis: 2000 } });
    const result = scheduleMany(view, [big, makeRequest(), big]);
    if (result.ok) throw new Error("expected failures");
    expect(result.message.split("\n")).toEqual([
      expect.stringMatching(/^request 1 of 3: no host fits: h1: not enough cpu/),
      expect.stringMatching(/^request 3 of 3: no host fits: h1: not enough cpu/),
    ]);
    expect(result.placed).toBe(1);
  });
});
