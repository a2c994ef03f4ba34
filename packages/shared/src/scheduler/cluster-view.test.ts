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
});
