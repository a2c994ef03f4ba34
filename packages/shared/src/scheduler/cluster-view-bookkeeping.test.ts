// What the view keeps beside the hosts: shared label sets, volumes and the
// bindings place and release add and take away.
import { describe, expect, it } from "vitest";
import { ClusterView } from "./cluster-view";
import { compareHosts } from "./host-order";
import { hostPort, makeHost, makeRequest } from "./test-factories";

describe("ClusterView bookkeeping", () => {
  it("hosts with equal labels share one frozen object, until none uses it", () => {
    const view = new ClusterView([
      makeHost({ name: "a", labels: { zone: "eu", disk: "ssd" } }),
      makeHost({ name: "b", labels: { disk: "ssd", zone: "eu" } }),
      makeHost({ name: "c", labels: { zone: "us" } }),
    ]);
    const shared = view.get("id-a")!.labels;
    expect(view.get("id-b")!.labels).toBe(shared);
    expect(view.get("id-c")!.labels).not.toBe(shared);
    expect(Object.isFrozen(shared)).toBe(true);
    // Still used by b: a host that comes back with those labels gets the same object.
    view.upsertHost(makeHost({ name: "a", labels: {} }));
    view.upsertHost(makeHost({ name: "a", labels: { disk: "ssd", zone: "eu" } }));
    expect(view.get("id-a")!.labels).toBe(shared);
    // Nobody uses it any more: it is forgotten, and the next host gets a new one.
    view.upsertHost(makeHost({ name: "a", labels: {} }));
    view.removeHost("id-b");
    view.upsertHost(makeHost({ name: "d", labels: { zone: "eu", disk: "ssd" } }));
    expect(view.get("id-d")!.labels).not.toBe(shared);
    expect(view.get("id-d")!.labels).toEqual(shared);
  });

  it("release takes back exactly the bindings of the request, and nothing for a port not bound", () => {
    const view = new ClusterView([
      makeHost({
        usedHostPorts: [
          { port: 80, protocol: "tcp" },
          { port: 80, protocol: "udp" },
          { port: 80, protocol: "tcp", hostIp: "127.0.0.1" },
          { port: 81, protocol: "tcp" },
        ],
      }),
    ]);
    view.release("id-h1", makeRequest({ ports: [hostPort(80, { protocol: "udp" })] }));
    view.release("id-h1", makeRequest({ ports: [hostPort(80, { hostIp: "127.0.0.1" })] }));
    view.release("id-h1", makeRequest({ ports: [hostPort(9999)] }));
    expect(view.get("id-h1")!.usedHostPorts).toEqual([
      { port: 80, protocol: "tcp" },
      { port: 81, protocol: "tcp" },
    ]);
  });

  it("a host without volumes stays without, through place and release", () => {
    const view = new ClusterView([makeHost()]);
    expect(view.get("id-h1")).not.toHaveProperty("volumes");
    view.place("id-h1", makeRequest());
    view.release("id-h1", makeRequest({ volumes: ["data"] }));
    expect(view.get("id-h1")).not.toHaveProperty("volumes");
    expect(view.hostsWithVolume("data")).toEqual([]);
    expect(new ClusterView([makeHost({ volumes: [] })]).get("id-h1")).not.toHaveProperty("volumes");
  });

  it("a volume held by two hosts stays indexed when one goes; an upsert keeps what placements created", () => {
    const view = new ClusterView([
      makeHost({ name: "a", volumes: ["data"] }),
      makeHost({ name: "b", volumes: ["data", "data"] }),
      makeHost({ name: "c" }),
    ]);
    expect(view.get("id-b")!.volumes).toEqual(["data"]);
    view.removeHost("id-a");
    expect(view.hostsWithVolume("data")).toEqual(["id-b"]);
    view.place("id-c", makeRequest({ volumes: ["logs"] }));
    view.place("id-c", makeRequest({ volumes: ["logs"] }));
    view.upsertHost(makeHost({ name: "c", volumes: ["logs"] }));
    expect(view.placedVolumes()).toEqual([{ hostId: "id-c", name: "logs" }]);
    view.release("id-c", makeRequest({ volumes: ["logs"] }));
    expect(view.placedVolumes()).toEqual([{ hostId: "id-c", name: "logs" }]);
    view.release("id-c", makeRequest({ volumes: ["logs"] }));
    expect(view.placedVolumes()).toEqual([]);
  });

  it("a view grown one host at a time past its first capacity keeps every host's numbers", () => {
    const view = new ClusterView();
    for (let i = 0; i < 40; i++) {
      view.upsertHost(makeHost({ name: `h${String(39 - i).padStart(2, "0")}`, allocated: { cpuMillis: i } }));
    }
    const hosts = view.hosts();
    expect(hosts.map((h) => h.name)).toEqual(
      Array.from({ length: 40 }, (_, i) => `h${String(i).padStart(2, "0")}`),
    );
    const columns = view.columns();
    for (let i = 0; i < 40; i++) expect(columns.freeCpu[i]).toBe(4000 - (39 - i));
  });
});

describe("compareHosts", () => {
  const cases: { a: [string, string]; b: [string, string]; order: number }[] = [
    { a: ["a", "2"], b: ["b", "1"], order: -1 },
    { a: ["b", "1"], b: ["a", "2"], order: 1 },
    { a: ["a", "1"], b: ["a", "2"], order: -1 },
    { a: ["a", "2"], b: ["a", "1"], order: 1 },
    { a: ["a", "1"], b: ["a", "1"], order: 0 },
  ];
  it.each(cases)("$a against $b: $order", ({ a, b, order }) => {
    expect(compareHosts({ name: a[0], id: a[1] }, { name: b[0], id: b[1] })).toBe(order);
  });
});
