import { describe, expect, it } from "vitest";
import { ClusterView } from "./cluster-view";
import { schedule } from "./schedule";
import { GIB, hostPort, MIB, makeHost, makeRequest } from "./test-factories";

describe("ClusterView", () => {
  it("place adds the effective requests and host ports; release takes them back", () => {
    const view = new ClusterView([makeHost({ allocated: { cpuMillis: 100, memoryBytes: MIB, pids: 1 } })]);
    const request = makeRequest({
      resources: { cpuRequestMillis: 0, cpuLimitMillis: 1500, memoryRequestBytes: GIB, pidsRequest: 5 },
      ports: [
        hostPort(8080, { hostIp: "127.0.0.1" }),
        { containerPort: 9090, protocol: "tcp" },
        hostPort(53, { protocol: "udp" }),
      ],
    });
    view.place("id-h1", request);
    expect(view.get("id-h1")).toMatchObject({
      allocated: { cpuMillis: 1600, memoryBytes: GIB + MIB, pids: 6 },
      usedHostPorts: [
        { port: 8080, protocol: "tcp", hostIp: "127.0.0.1" },
        { port: 53, protocol: "udp" },
      ],
    });
    view.release("id-h1", request);
    expect(view.get("id-h1")).toMatchObject({
      allocated: { cpuMillis: 100, memoryBytes: MIB, pids: 1 },
      usedHostPorts: [],
    });
  });

  it("release never drives allocated below zero", () => {
    const view = new ClusterView([makeHost()]);
    view.release("id-h1", makeRequest({ resources: { cpuRequestMillis: 500 } }));
    expect(view.get("id-h1")?.allocated.cpuMillis).toBe(0);
  });

  it("a placed port blocks the next request for it", () => {
    const view = new ClusterView([makeHost()]);
    const request = makeRequest({ ports: [hostPort(443)] });
    expect(schedule(view, request).ok).toBe(true);
    view.place("id-h1", request);
    const second = schedule(view, request);
    expect(second.ok).toBe(false);
    view.release("id-h1", request);
    expect(schedule(view, request).ok).toBe(true);
  });

  it("keeps its own copies of the hosts", () => {
    const host = makeHost({ labels: { zone: "eu" } });
    const view = new ClusterView([host]);
    host.labels.zone = "us";
    host.allocated.cpuMillis = 4000;
    view.place("id-h1", makeRequest());
    expect(host.allocated.cpuMillis).toBe(4000);
    expect(view.get("id-h1")).toMatchObject({ labels: { zone: "eu" }, allocated: { cpuMillis: 500 } });
  });

  it("upsertHost adds or replaces, removeHost forgets", () => {
    const view = new ClusterView([makeHost({ name: "a" }), makeHost({ name: "b" }), makeHost({ name: "c" })]);
    view.upsertHost(makeHost({ name: "b", draining: true }));
    view.upsertHost(makeHost({ name: "d" }));
    expect(view.size).toBe(4);
    expect(view.get("id-b")?.draining).toBe(true);
    expect(view.removeHost("id-a")).toBe(true);
    expect(view.removeHost("id-a")).toBe(false);
    expect(view.get("id-a")).toBeUndefined();
    expect(
      view
        .hosts()
        .map((h) => h.name)
        .sort(),
    ).toEqual(["b", "c", "d"]);
    // The index stays right after the swap-remove: every host is still found by id.
    for (const name of ["b", "c", "d"]) expect(view.get(`id-${name}`)?.name).toBe(name);
    view.place("id-d", makeRequest());
    expect(view.get("id-d")?.allocated.cpuMillis).toBe(500);
  });

  it("refuses to book on a host it does not know", () => {
    const view = new ClusterView([]);
    expect(() => view.place("id-x", makeRequest())).toThrow("unknown host id-x");
  });

  it("hands out snapshots: later changes swap in new records", () => {
    const view = new ClusterView([makeHost({ name: "a" }), makeHost({ name: "b" })]);
    const before = view.hosts();
    const recordBefore = view.get("id-a");
    view.place("id-a", makeRequest());
    view.removeHost("id-b");
    expect(before.map((h) => [h.name, h.allocated.cpuMillis])).toEqual([
      ["a", 0],
      ["b", 0],
    ]);
    expect(recordBefore?.allocated.cpuMillis).toBe(0);
    expect(view.get("id-a")?.allocated.cpuMillis).toBe(500);
    expect(view.hosts().map((h) => h.name)).toEqual(["a"]);
  });

  it("keeps hosts in name, then id, order through adds, renames and removals", () => {
    const view = new ClusterView([makeHost({ name: "m" }), makeHost({ name: "c" }), makeHost({ name: "x" })]);
    view.upsertHost(makeHost({ name: "a", id: "id-z" }));
    view.upsertHost(makeHost({ name: "a", id: "id-b" }));
    view.upsertHost(makeHost({ name: "z", id: "id-c" }));
    view.removeHost("id-x");
    expect(view.hosts().map((h) => `${h.name}/${h.id}`)).toEqual(["a/id-b", "a/id-z", "m/id-m", "z/id-c"]);
    for (const host of view.hosts()) expect(view.get(host.id)).toBe(host);
  });

  it("follows label changes made by upsertHost", () => {
    const view = new ClusterView([
      makeHost({ name: "a", labels: { zone: "eu" } }),
      makeHost({ name: "b", labels: { zone: "eu" } }),
    ]);
    const request = makeRequest({ selector: "zone=eu" });
    expect(schedule(view, request).ok).toBe(true);
    view.upsertHost(makeHost({ name: "a", labels: { zone: "us" } }));
    view.upsertHost(makeHost({ name: "b", labels: { zone: "us" } }));
    expect(schedule(view, request).ok).toBe(false);
    view.upsertHost(makeHost({ name: "b", labels: { zone: "eu" } }));
    const placed = schedule(view, request);
    expect(placed.ok && placed.hostName).toBe("b");
  });

  it("tracks host ports through upsertHost and removeHost", () => {
    const view = new ClusterView([makeHost({ name: "a", usedHostPorts: [{ port: 80, protocol: "tcp" }] })]);
    const request = makeRequest({ ports: [hostPort(80)] });
    expect(schedule(view, request).ok).toBe(false);
    view.upsertHost(makeHost({ name: "a" }));
    expect(schedule(view, request).ok).toBe(true);
    view.upsertHost(
      makeHost({ name: "b", usedHostPorts: [{ port: 80, protocol: "tcp", hostIp: "10.0.0.2" }] }),
    );
    view.upsertHost(makeHost({ name: "a", usedHostPorts: [{ port: 80, protocol: "tcp" }] }));
    const onlyB = makeRequest({ ports: [hostPort(80, { hostIp: "10.0.0.1" })] });
    const placed = schedule(view, onlyB);
    expect(placed.ok && placed.hostName).toBe("b");
    view.removeHost("id-a");
    const again = schedule(view, request);
    expect(again.ok).toBe(false);
    expect(again.rejected).toEqual([
      {
        hostId: "id-b",
        hostName: "b",
        reasons: ["host port *:80/tcp conflicts with 10.0.0.2:80/tcp in use"],
      },
    ]);
  });
});
