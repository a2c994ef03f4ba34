import { describe, expect, it } from "vitest";
import { ClusterView } from "./cluster-view";
import { schedule } from "./schedule";
import { scheduleMany } from "./schedule-many";
import { GIB, type HostOverrides, MIB, makeHost, makeRequest, type RequestOverrides } from "./test-factories";
import type { PlacementResult } from "./types";

function expectPlaced(result: PlacementResult) {
  if (!result.ok) throw new Error(`expected a placement, got: ${result.message}`);
  return result;
}

const FULL = { allocated: { memoryBytes: 8 * GIB } } satisfies HostOverrides;

describe("schedule: named volumes keep a container with its data", () => {
  const cases: {
    name: string;
    hosts: HostOverrides[];
    request: RequestOverrides;
    chosen: string | null;
    reason?: RegExp;
    rejected?: Record<string, string[]>;
  }[] = [
    {
      name: "a volume on one host pulls the container there, against the strategy",
      hosts: [{ name: "a" }, { name: "b", volumes: ["data"], allocated: { memoryBytes: 4 * GIB } }],
      request: { strategy: "spread", volumes: ["data"] },
      chosen: "b",
      reason: /; volume "data" is on this host$/,
      rejected: { a: ['volume "data" is on b'] },
    },
    {
      name: "a volume that exists nowhere steers nothing and is created on the chosen host",
      hosts: [{ name: "a" }, { name: "b", volumes: ["other"] }],
      request: { volumes: ["data"] },
      chosen: "a",
      reason: /; volume "data" will be created here$/,
    },
    {
      name: "the host must hold every volume that exists somewhere",
      hosts: [
        { name: "a", volumes: ["data"] },
        { name: "b", volumes: ["data", "logs"] },
        { name: "c", volumes: ["logs"] },
      ],
      request: { volumes: ["data", "logs", "fresh"] },
      chosen: "b",
      reason:
        /volume "data" is on this host, volume "logs" is on this host, volume "fresh" will be created here$/,
      rejected: { a: ['volume "logs" is on b, c'], c: ['volume "data" is on a, b'] },
    },
    {
      name: "the holder is full: no host fits, and the others say where the volume is",
      hosts: [{ name: "a", volumes: ["data"], ...FULL }, { name: "b" }],
      request: { volumes: ["data"] },
      chosen: null,
      rejected: {
        a: ["not enough memory (requested 256 MiB, free 0 B of 8 GiB)"],
        b: ['volume "data" is on a'],
      },
    },
    {
      name: "the holder is offline: the container waits for it rather than starting without its data",
      hosts: [{ name: "a", volumes: ["data"], online: false }, { name: "b" }],
      request: { volumes: ["data"] },
      chosen: null,
      rejected: { a: ["offline"], b: ['volume "data" is on a'] },
    },
    {
      name: "many holders are counted past three",
      hosts: [
        ...["h1", "h2", "h3", "h4", "h5"].map((name) => ({ name, volumes: ["data"], ...FULL })),
        { name: "x" },
      ],
      request: { volumes: ["data"] },
      chosen: null,
      rejected: { x: ['volume "data" is on h1, h2, h3 and 2 more hosts'] },
    },
    {
      name: "without volumes nothing changes",
      hosts: [{ name: "a", volumes: ["data"] }, { name: "b" }],
      request: { strategy: "spread", resources: { memoryRequestBytes: 512 * MIB } },
      chosen: "a",
    },
  ];

  it.each(cases)("$name", ({ hosts, request, chosen, reason, rejected }) => {
    const result = schedule(hosts.map(makeHost), makeRequest(request));
    expect(result.ok ? result.hostName : null).toBe(chosen);
    if (result.ok && reason) expect(result.reason).toMatch(reason);
    if (rejected) {
      const byName = Object.fromEntries(result.rejected.map((r) => [r.hostName, r.reasons]));
      for (const [name, reasons] of Object.entries(rejected)) expect(byName[name]).toEqual(reasons);
    }
    if (!result.ok) {
      for (const [name, reasons] of Object.entries(rejected ?? {})) {
        expect(result.message).toContain(`${name}: ${reasons.join(", ")}`);
      }
    }
  });
});

describe("ClusterView: volumes created by placements", () => {
  it("place records a new volume on the host and release undoes it", () => {
    const view = new ClusterView([makeHost({ name: "a" }), makeHost({ name: "b", volumes: ["old"] })]);
    const request = makeRequest({ volumes: ["data", "old"] });
    view.place("id-b", request);
    expect(view.get("id-b")?.volumes).toEqual(["old", "data"]);
    expect(view.placedVolumes()).toEqual([{ hostId: "id-b", name: "data" }]);
    view.place("id-b", request);
    view.release("id-b", request);
    expect(view.get("id-b")?.volumes).toEqual(["old", "data"]);
    view.release("id-b", request);
    // The volume the host had before stays; the one placements made goes.
    expect(view.get("id-b")?.volumes).toEqual(["old"]);
    expect(view.placedVolumes()).toEqual([]);
    expect(view.volumeHolders(["data"]).existing).toEqual([]);
  });

  it("scheduleMany: the first replica's new volume pulls the later ones to its host", () => {
    const view = new ClusterView(["a", "b", "c"].map((name) => makeHost({ name })));
    const result = scheduleMany(
      view,
      [1, 2, 3].map(() => makeRequest({ strategy: "spread", volumes: ["data"] })),
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.placements.map((p) => p.hostName)).toEqual(["a", "a", "a"]);
    expect(result.placements[0]?.reason).toMatch(/volume "data" will be created here$/);
    expect(result.placements[1]?.reason).toMatch(/volume "data" is on this host$/);
    expect(view.placedVolumes()).toEqual([{ hostId: "id-a", name: "data" }]);
  });

  it("scheduleMany: when the volume's host fills up, the next replica is refused with the reason", () => {
    const view = new ClusterView([
      makeHost({ name: "a", allocatable: { memoryBytes: GIB } }),
      makeHost({ name: "b" }),
    ]);
    // Shaped like a's capacity (half its cpu, three quarters of its memory), so binpack starts on a.
    const requests = [1, 2].map(() =>
      makeRequest({
        volumes: ["data"],
        resources: { cpuRequestMillis: 2000, memoryRequestBytes: 768 * MIB },
      }),
    );
    const result = scheduleMany(view, requests, { allOrNothing: true });
    if (result.ok) throw new Error("expected a failure");
    expect(result.message).toContain('b: volume "data" is on a');
    expect(result.message).toContain("a: not enough memory");
    // All or nothing: the volume the first replica would have created is gone again.
    expect(view.placedVolumes()).toEqual([]);
    expect(view.volumeHolders(["data"]).existing).toEqual([]);
    expect(expectPlaced(schedule(view, makeRequest({ volumes: ["data"] }))).reason).toMatch(
      /will be created here$/,
    );
  });

  it("upsertHost and removeHost keep the volume index in step", () => {
    const view = new ClusterView([makeHost({ name: "a", volumes: ["data"] }), makeHost({ name: "b" })]);
    view.upsertHost(makeHost({ name: "a" }));
    view.upsertHost(makeHost({ name: "b", volumes: ["data"] }));
    expect(expectPlaced(schedule(view, makeRequest({ volumes: ["data"] }))).hostName).toBe("b");
    view.removeHost("id-b");
    expect(view.volumeHolders(["data"]).existing).toEqual([]);
  });
});
