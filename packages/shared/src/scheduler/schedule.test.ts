import { describe, expect, it } from "vitest";
import { ClusterView } from "./cluster-view";
import { binpackCost, costToScore, spreadCost } from "./fit-score";
import { MAX_HOSTS_IN_MESSAGE } from "./rejection-log";
import { schedule } from "./schedule";
import {
  GIB,
  type HostOverrides,
  hostPort,
  MIB,
  makeHost,
  makeRequest,
  type RequestOverrides,
} from "./test-factories";
import type { PlacementResult, SchedulerHost } from "./types";

function expectPlaced(result: PlacementResult) {
  if (!result.ok) throw new Error(`expected a placement, got: ${result.message}`);
  return result;
}

function expectRejected(result: PlacementResult) {
  if (result.ok) throw new Error(`expected no placement, got ${result.hostName}: ${result.reason}`);
  return result;
}

describe("schedule: each filter rules a host out with a reason", () => {
  const cases: { name: string; host: HostOverrides; request: RequestOverrides; reasons: string[] }[] = [
    { name: "offline", host: { online: false }, request: {}, reasons: ["offline"] },
    { name: "draining", host: { draining: true }, request: {}, reasons: ["draining"] },
    {
      name: "cpu",
      host: { allocated: { cpuMillis: 3500 } },
      request: { resources: { cpuRequestMillis: 1000 } },
      reasons: ["not enough cpu (requested 1 core, free 0.5 of 4 cores)"],
    },
    {
      name: "memory",
      host: { allocatable: { memoryBytes: GIB }, allocated: { memoryBytes: 896 * MIB } },
      request: { resources: { memoryRequestBytes: 512 * MIB } },
      reasons: ["not enough memory (requested 512 MiB, free 128 MiB of 1 GiB)"],
    },
    {
      name: "pids",
      host: { allocated: { pids: 4076 } },
      request: { resources: { pidsRequest: 100 } },
      reasons: ["not enough pids (requested 100, free 20 of 4096)"],
    },
    {
      name: "over-committed host shows zero free, not a negative amount",
      host: { allocatable: { memoryBytes: GIB }, allocated: { memoryBytes: 2 * GIB } },
      request: { resources: { memoryRequestBytes: MIB } },
      reasons: ["not enough memory (requested 1 MiB, free 0 B of 1 GiB)"],
    },
    {
      name: "constraint =",
      host: { labels: { zone: "us" } },
      request: { selector: "zone=eu" },
      reasons: ["constraint zone=eu not met (zone=us)"],
    },
    {
      name: "constraint in",
      host: { labels: { zone: "ap" } },
      request: { selector: "zone in (us,eu)" },
      reasons: ["constraint zone in (eu,us) not met (zone=ap)"],
    },
    {
      name: "constraint notin",
      host: { labels: { zone: "us" } },
      request: { selector: "zone notin (us)" },
      reasons: ["constraint zone notin (us) not met (zone=us)"],
    },
    {
      name: "constraint exists",
      host: { labels: { zone: "us" } },
      request: { selector: "gpu" },
      reasons: ["constraint gpu not met (no gpu label)"],
    },
    {
      name: "constraint does not exist",
      host: { labels: { spot: "true" } },
      request: { selector: "!spot" },
      reasons: ["constraint !spot not met (spot=true)"],
    },
    {
      name: "only the requirements that fail are named",
      host: { labels: { zone: "eu", disk: "hdd" } },
      request: { selector: "zone=eu,disk=ssd,gpu" },
      reasons: ["constraint disk=ssd not met (disk=hdd)", "constraint gpu not met (no gpu label)"],
    },
    {
      name: "host port",
      host: { usedHostPorts: [{ port: 8080, protocol: "tcp" }] },
      request: { ports: [hostPort(8080, { hostIp: "127.0.0.1" })] },
      reasons: ["host port 127.0.0.1:8080/tcp conflicts with *:8080/tcp in use"],
    },
    {
      name: "every failing filter is reported, not just the first",
      host: {
        online: false,
        draining: true,
        allocatable: { memoryBytes: GIB },
        allocated: { memoryBytes: GIB },
        labels: { zone: "us" },
        usedHostPorts: [{ port: 53, protocol: "udp", hostIp: "::" }],
      },
      request: { selector: "zone=eu", ports: [hostPort(53, { protocol: "udp" })] },
      reasons: [
        "offline",
        "draining",
        "not enough memory (requested 256 MiB, free 0 B of 1 GiB)",
        "host port *:53/udp conflicts with [::]:53/udp in use",
        "constraint zone=eu not met (zone=us)",
      ],
    },
  ];

  it.each(cases)("$name", ({ host, request, reasons }) => {
    const result = expectRejected(schedule([makeHost(host)], makeRequest(request)));
    expect(result.rejected).toEqual([{ hostId: "id-h1", hostName: "h1", reasons }]);
    expect(result.message).toBe(`no host fits: h1: ${reasons.join(", ")}`);
  });
});

describe("schedule: hosts that pass every filter", () => {
  const cases: { name: string; host: HostOverrides; request: RequestOverrides }[] = [
    {
      name: "exact fit on every resource",
      host: { allocated: { cpuMillis: 3500, memoryBytes: 8 * GIB - 256 * MIB } },
      request: {},
    },
    { name: "constraint =", host: { labels: { zone: "eu" } }, request: { selector: "zone=eu" } },
    { name: "constraint in", host: { labels: { zone: "eu" } }, request: { selector: "zone in (eu,us)" } },
    {
      name: "constraint notin with another value",
      host: { labels: { zone: "ap" } },
      request: { selector: "zone notin (eu,us)" },
    },
    {
      name: "constraint notin without the label",
      host: { labels: {} },
      request: { selector: "zone notin (eu)" },
    },
    { name: "constraint exists", host: { labels: { gpu: "" } }, request: { selector: "gpu" } },
    { name: "constraint does not exist", host: { labels: { zone: "eu" } }, request: { selector: "!spot" } },
    {
      name: "a port without a host port",
      host: { usedHostPorts: [{ port: 80, protocol: "tcp" }] },
      request: { ports: [{ containerPort: 80, protocol: "tcp" }] },
    },
  ];

  it.each(cases)("$name", ({ host, request }) => {
    expect(expectPlaced(schedule([makeHost(host)], makeRequest(request))).hostName).toBe("h1");
  });
});

describe("schedule: host-port conflicts", () => {
  const cases: {
    used: { protocol: "tcp" | "udp"; hostIp?: string };
    wanted: { protocol: "tcp" | "udp"; hostIp?: string };
    conflict: boolean;
  }[] = [
    { used: { protocol: "tcp" }, wanted: { protocol: "udp" }, conflict: false },
    { used: { protocol: "udp" }, wanted: { protocol: "tcp" }, conflict: false },
    { used: { protocol: "tcp" }, wanted: { protocol: "tcp" }, conflict: true },
    {
      used: { protocol: "tcp", hostIp: "127.0.0.1" },
      wanted: { protocol: "tcp", hostIp: "0.0.0.0" },
      conflict: true,
    },
    {
      used: { protocol: "tcp", hostIp: "0.0.0.0" },
      wanted: { protocol: "tcp", hostIp: "127.0.0.1" },
      conflict: true,
    },
    { used: { protocol: "tcp" }, wanted: { protocol: "tcp", hostIp: "127.0.0.1" }, conflict: true },
    { used: { protocol: "tcp", hostIp: "127.0.0.1" }, wanted: { protocol: "tcp" }, conflict: true },
    {
      used: { protocol: "tcp", hostIp: "::" },
      wanted: { protocol: "tcp", hostIp: "10.0.0.1" },
      conflict: true,
    },
    {
      used: { protocol: "tcp", hostIp: "127.0.0.1" },
      wanted: { protocol: "tcp", hostIp: "127.0.0.1" },
      conflict: true,
    },
    {
      used: { protocol: "tcp", hostIp: "127.0.0.1" },
      wanted: { protocol: "tcp", hostIp: "10.0.0.1" },
      conflict: false,
    },
    {
      used: { protocol: "udp", hostIp: "127.0.0.1" },
      wanted: { protocol: "tcp", hostIp: "0.0.0.0" },
      conflict: false,
    },
  ];

  it.each(cases)("used $used, wanted $wanted: conflict $conflict", ({ used, wanted, conflict }) => {
    const host = makeHost({ usedHostPorts: [{ port: 8080, ...used }] });
    const result = schedule([host], makeRequest({ ports: [hostPort(8080, wanted)] }));
    expect(result.ok).toBe(!conflict);
    // The same request on another port number never conflicts.
    expect(schedule([host], makeRequest({ ports: [hostPort(8081, wanted)] })).ok).toBe(true);
  });

  it("names every requested port that clashes", () => {
    const host = makeHost({
      usedHostPorts: [
        { port: 80, protocol: "tcp" },
        { port: 443, protocol: "tcp", hostIp: "10.0.0.1" },
      ],
    });
    const request = makeRequest({
      ports: [hostPort(80), hostPort(443, { hostIp: "10.0.0.1" }), hostPort(8080)],
    });
    expect(expectRejected(schedule([host], request)).rejected[0]?.reasons).toEqual([
      "host port *:80/tcp conflicts with *:80/tcp in use",
      "host port 10.0.0.1:443/tcp conflicts with 10.0.0.1:443/tcp in use",
    ]);
  });
});

describe("schedule: scoring", () => {
  // cpu and memory in use before placement: h1 10%, h2 60%, h3 30%; h4 has no room.
  const hosts = [
    makeHost({
      name: "h3",
      allocatable: { memoryBytes: 10 * GIB },
      allocated: { cpuMillis: 1200, memoryBytes: 3 * GIB },
    }),
    makeHost({
      name: "h1",
      allocatable: { memoryBytes: 10 * GIB },
      allocated: { cpuMillis: 400, memoryBytes: 1 * GIB },
    }),
    makeHost({
      name: "h4",
      allocatable: { memoryBytes: 10 * GIB },
      allocated: { cpuMillis: 3800, memoryBytes: 9 * GIB },
    }),
    makeHost({
      name: "h2",
      allocatable: { memoryBytes: 10 * GIB },
      allocated: { cpuMillis: 2400, memoryBytes: 5 * GIB },
    }),
  ];
  const resources = { cpuRequestMillis: 600, memoryRequestBytes: GIB };

  it("binpack picks the host whose free cpu and memory match the request's shape, then the fullest", () => {
    // Free before placement: h1 90% / 90%, h3 70% / 70% (both in the request's
    // direction, 3 : 2 against 1 : 1), h2 40% / 50% (less so).
    const result = expectPlaced(schedule(hosts, makeRequest({ strategy: "binpack", resources })));
    expect(result.hostName).toBe("h3");
    expect(result.reason).toBe(
      "binpack: 3 of 4 hosts fit; chose h3 (best fit: cpu 45%, memory 40% after placement)",
    );
    expect(result.rejected.map((r) => r.hostName)).toEqual(["h4"]);
  });

  it("spread picks the emptiest host", () => {
    const result = expectPlaced(schedule(hosts, makeRequest({ strategy: "spread", resources })));
    expect(result.hostName).toBe("h1");
    expect(result.reason).toBe(
      "spread: 3 of 4 hosts fit; chose h1 (least allocated: cpu 25%, memory 20% after placement)",
    );
  });

  it("reports the score of the chosen host", () => {
    const binpack = expectPlaced(schedule(hosts, makeRequest({ resources })));
    // h3: 600m of 4 cores and 1 GiB of 10 GiB, 70% of each free (steps 11 of 16), 0.7 + 0.7 free.
    // No host is empty, so what starting one costs does not count.
    expect(binpack.score).toBe(costToScore("binpack", binpackCost(0.15, 0.1, 11, 11, 1.4, 0)));
    const spread = expectPlaced(schedule(hosts, makeRequest({ strategy: "spread", resources })));
    expect(spread.score).toBe(costToScore("spread", spreadCost(0.9, 0.9, 0.15, 0.1)));
  });

  const shapes: { name: string; request: RequestOverrides; chosen: string }[] = [
    {
      name: "a cpu-heavy request goes where cpu is left",
      request: { resources: { cpuRequestMillis: 1000, memoryRequestBytes: 256 * MIB } },
      chosen: "cpu-rich",
    },
    {
      name: "a memory-heavy request goes where memory is left",
      request: { resources: { cpuRequestMillis: 250, memoryRequestBytes: 2 * GIB } },
      chosen: "memory-rich",
    },
    {
      name: "a balanced request goes to the balanced host",
      request: { resources: { cpuRequestMillis: 500, memoryRequestBytes: GIB } },
      chosen: "balanced",
    },
  ];
  it.each(shapes)("binpack: $name", ({ request, chosen }) => {
    const candidates = [
      // Free: cpu 75% / memory 12.5%, cpu 12.5% / memory 75%, 50% / 50%.
      makeHost({ name: "cpu-rich", allocated: { cpuMillis: 1000, memoryBytes: 7 * GIB } }),
      makeHost({ name: "memory-rich", allocated: { cpuMillis: 3500, memoryBytes: 2 * GIB } }),
      makeHost({ name: "balanced", allocated: { cpuMillis: 2000, memoryBytes: 4 * GIB } }),
    ];
    expect(expectPlaced(schedule(candidates, makeRequest(request))).hostName).toBe(chosen);
  });

  it("binpack starts an empty host when every used host fits the request badly, unless used hosts hold much free", () => {
    // The used host has 25% of its cpu and 87.5% of its memory free: a balanced
    // request there would leave memory that only memory-heavy requests can use.
    const used = makeHost({ name: "used", allocated: { cpuMillis: 3000, memoryBytes: GIB } });
    const request = makeRequest({
      resources: { cpuRequestMillis: 500, memoryRequestBytes: GIB },
      selector: "!other",
    });
    expect(expectPlaced(schedule([makeHost({ name: "empty" }), used], request)).hostName).toBe("empty");
    // 60 more used hosts (that the request may not use) with half of everything
    // free: starting a host now costs more than the misfit.
    const others = Array.from({ length: 60 }, (_, i) =>
      makeHost({
        name: `other-${i}`,
        labels: { other: "yes" },
        allocated: { cpuMillis: 2000, memoryBytes: 4 * GIB },
      }),
    );
    expect(expectPlaced(schedule([makeHost({ name: "empty" }), used, ...others], request)).hostName).toBe(
      "used",
    );
  });

  it("binpack keeps a request on a used host it fits well, and starts an empty one when none fits", () => {
    const candidates = [
      makeHost({ name: "empty" }),
      makeHost({ name: "used", allocated: { cpuMillis: 2000, memoryBytes: 4 * GIB } }),
    ];
    const request = makeRequest({ resources: { cpuRequestMillis: 500, memoryRequestBytes: GIB } });
    expect(expectPlaced(schedule(candidates, request)).hostName).toBe("used");
    const tooBig = makeRequest({ resources: { cpuRequestMillis: 2500, memoryRequestBytes: GIB } });
    expect(expectPlaced(schedule(candidates, tooBig)).hostName).toBe("empty");
  });
});

describe("schedule: deterministic tie-break", () => {
  const identical = (name: string, id?: string) => makeHost(id === undefined ? { name } : { name, id });

  it.each([
    { order: ["b", "a", "c"], chosen: "a" },
    { order: ["c", "b", "a"], chosen: "a" },
    { order: ["a", "c", "b"], chosen: "a" },
  ])("equal scores go to the first name ($order)", ({ order, chosen }) => {
    for (const strategy of ["binpack", "spread"] as const) {
      const result = expectPlaced(
        schedule(
          order.map((n) => identical(n)),
          makeRequest({ strategy }),
        ),
      );
      expect(result.hostName).toBe(chosen);
    }
  });

  it("equal names go to the first id", () => {
    const hosts = [identical("web", "id-9"), identical("web", "id-2"), identical("web", "id-5")];
    expect(expectPlaced(schedule(hosts, makeRequest())).hostId).toBe("id-2");
    expect(expectPlaced(schedule(hosts.reverse(), makeRequest())).hostId).toBe("id-2");
  });
});

describe("schedule: requests default to limits", () => {
  it("a request of 0 with a limit reserves the limit", () => {
    const host = makeHost({ allocated: { cpuMillis: 3000, memoryBytes: 7 * GIB, pids: 4000 } });
    const request = makeRequest({
      resources: {
        cpuRequestMillis: 0,
        cpuLimitMillis: 2000,
        memoryRequestBytes: 0,
        memoryLimitBytes: 2 * GIB,
        pidsRequest: 0,
        pidsLimit: 200,
      },
    });
    expect(expectRejected(schedule([host], request)).rejected[0]?.reasons).toEqual([
      "not enough cpu (requested 2 cores, free 1 of 4 cores)",
      "not enough memory (requested 2 GiB, free 1 GiB of 8 GiB)",
      "not enough pids (requested 200, free 96 of 4096)",
    ]);
  });

  it("an explicit request below its limit is what counts", () => {
    const host = makeHost({ allocated: { memoryBytes: 7 * GIB } });
    const request = makeRequest({ resources: { memoryRequestBytes: 512 * MIB, memoryLimitBytes: 4 * GIB } });
    expect(schedule([host], request).ok).toBe(true);
  });
});

describe("schedule: no host fits", () => {
  it("lists every host's reason, sorted by name", () => {
    const hosts = [
      makeHost({ name: "h3", labels: { zone: "us" } }),
      makeHost({
        name: "h1",
        labels: { zone: "eu" },
        allocatable: { memoryBytes: GIB },
        allocated: { memoryBytes: 896 * MIB },
      }),
      makeHost({ name: "h2", labels: { zone: "eu" }, online: false }),
    ];
    const result = expectRejected(
      schedule(hosts, makeRequest({ selector: "zone=eu", resources: { memoryRequestBytes: 512 * MIB } })),
    );
    expect(result.message).toBe(
      "no host fits: h1: not enough memory (requested 512 MiB, free 128 MiB of 1 GiB); h2: offline; h3: constraint zone=eu not met (zone=us)",
    );
    expect(result.rejected.map((r) => r.hostName)).toEqual(["h1", "h2", "h3"]);
  });

  it("names the first hosts and counts the rest by reason in a large cluster", () => {
    const hosts: SchedulerHost[] = [];
    for (let i = 0; i < MAX_HOSTS_IN_MESSAGE + 5; i++) {
      const name = `h${String(i).padStart(2, "0")}`;
      hosts.push(makeHost({ name, online: i % 2 === 1, draining: i % 2 === 1 }));
    }
    const result = expectRejected(schedule(hosts, makeRequest()));
    expect(result.rejected).toHaveLength(hosts.length);
    const named = result.message.match(/h\d\d:/g) ?? [];
    expect(named).toHaveLength(MAX_HOSTS_IN_MESSAGE);
    // Left over: h20, h22 and h24 offline, h21 and h23 draining.
    expect(result.message).toMatch(/; and 5 more hosts \(3 offline, 2 draining\)$/);
  });

  it("says so when the cluster is empty", () => {
    expect(expectRejected(schedule([], makeRequest())).message).toBe(
      "no host fits: the cluster has no hosts",
    );
  });
});

describe("schedule: avoidHostIds", () => {
  const hosts = [
    makeHost({ name: "h1" }),
    makeHost({ name: "h2", allocated: { cpuMillis: 2000, memoryBytes: 4 * GIB } }),
  ];

  it("steers away from an avoided host while another fits", () => {
    const result = expectPlaced(schedule(hosts, makeRequest({ avoidHostIds: ["id-h2"] })));
    expect(result.hostName).toBe("h1");
    expect(result.reason).toMatch(/^binpack: 2 of 2 hosts fit \(1 avoided\); chose h1 /);
  });

  it("still uses an avoided host when it is the only one that fits", () => {
    const result = expectPlaced(
      schedule(
        [makeHost({ name: "h1", online: false }), hosts[1]!],
        makeRequest({ avoidHostIds: ["id-h2"] }),
      ),
    );
    expect(result.hostName).toBe("h2");
    expect(result.reason).toMatch(/, a host to avoid, as no other host fits$/);
  });

  it("changes nothing when the avoided host does not fit anyway", () => {
    const result = expectPlaced(schedule(hosts, makeRequest({ avoidHostIds: ["id-gone"] })));
    expect(result.hostName).toBe("h2");
    expect(result.reason).not.toMatch(/avoid/);
  });
});

describe("schedule: inputs and outputs", () => {
  it("gives the same answer for an array and a ClusterView, and mutates neither", () => {
    const hosts = [
      makeHost({ name: "a" }),
      makeHost({ name: "b", allocated: { cpuMillis: 1000 } }),
      makeHost({ name: "c", online: false }),
    ];
    const before = structuredClone(hosts);
    const view = new ClusterView(hosts);
    const fromArray = expectPlaced(schedule(hosts, makeRequest()));
    const fromView = expectPlaced(schedule(view, makeRequest()));
    expect(fromView).toEqual(fromArray);
    expect(hosts).toEqual(before);
    expect(view.get("id-b")?.allocated.cpuMillis).toBe(1000);
  });

  it("describes rejected hosts as they were when the decision was made", () => {
    const view = new ClusterView([
      makeHost({ name: "big", allocatable: { memoryBytes: 4 * GIB } }),
      makeHost({ name: "small", allocatable: { memoryBytes: GIB } }),
    ]);
    const result = expectPlaced(schedule(view, makeRequest({ resources: { memoryRequestBytes: 2 * GIB } })));
    expect(result.hostName).toBe("big");
    // Placing more on the rejected host afterwards must not change what the result says.
    view.place("id-small", makeRequest({ resources: { memoryRequestBytes: 512 * MIB } }));
    expect(result.rejected).toEqual([
      {
        hostId: "id-small",
        hostName: "small",
        reasons: ["not enough memory (requested 2 GiB, free 1 GiB of 1 GiB)"],
      },
    ]);
  });

  it("serializes rejected hosts with the result", () => {
    const result = schedule([makeHost({ name: "a" }), makeHost({ name: "b", online: false })], makeRequest());
    expect(JSON.parse(JSON.stringify(result)).rejected).toEqual([
      { hostId: "id-b", hostName: "b", reasons: ["offline"] },
    ]);
  });
});

describe("schedule: the indexed search finds what a pass over every host would", () => {
  it("a host with no cpu allocatable takes a request for no cpu, and counts as full", () => {
    const host = makeHost({ allocatable: { cpuMillis: 0 } });
    const request = makeRequest({ resources: { cpuRequestMillis: 0, memoryRequestBytes: GIB } });
    for (const strategy of ["binpack", "spread"] as const) {
      const result = expectPlaced(schedule([host], { ...request, strategy }));
      expect(result.reason).toMatch(/cpu 100%, memory 13% after placement\)$/);
      expect(result.score).toBeGreaterThanOrEqual(0);
      expect(result.score).toBeLessThanOrEqual(1);
    }
    expect(schedule([host], makeRequest({ resources: { cpuRequestMillis: 1 } })).ok).toBe(false);
  });

  // Hosts of two shapes, half full: equal fractions, so a request for nothing
  // but pids costs the same on both. They sit in different groups, and the
  // group of the later name is met first (its first host, "a-blocked", fails
  // the constraint): the search must still look at the other group and give
  // the tie to the first name.
  it.each(["binpack", "spread"] as const)(
    "%s: an exact tie across groups goes to the first name",
    (strategy) => {
      const half = (name: string, cpuMillis: number, memoryBytes: number, labels: Record<string, string>) =>
        makeHost({
          name,
          labels,
          allocatable: { cpuMillis, memoryBytes },
          allocated: { cpuMillis: cpuMillis / 2, memoryBytes: memoryBytes / 2 },
        });
      const hosts = [
        half("a-blocked", 8000, 16 * GIB, { zone: "us" }),
        half("b", 4000, 8 * GIB, { zone: "eu" }),
        half("c", 8000, 16 * GIB, { zone: "eu" }),
      ];
      const request = makeRequest({
        strategy,
        selector: "zone=eu",
        resources: { cpuRequestMillis: 0, memoryRequestBytes: 0, pidsRequest: 1 },
      });
      expect(expectPlaced(schedule(hosts, request)).hostName).toBe("b");
      expect(expectPlaced(schedule(hosts.reverse(), request)).hostName).toBe("b");
    },
  );

  it("among avoided hosts that fit, the best one, ties to the first name", () => {
    const hosts = [
      makeHost({ name: "c", allocated: { cpuMillis: 1000, memoryBytes: 2 * GIB } }),
      makeHost({ name: "b", allocated: { cpuMillis: 1000, memoryBytes: 2 * GIB } }),
      makeHost({ name: "a", online: false }),
    ];
    const request = makeRequest({ avoidHostIds: ["id-c", "id-b", "id-gone"] });
    const result = expectPlaced(schedule(hosts, request));
    expect(result.hostName).toBe("b");
    expect(result.reason).toMatch(
      /^binpack: 2 of 3 hosts fit; chose b .*, a host to avoid, as no other host fits$/,
    );
  });

  it("a host binding the same port number under another protocol still fits", () => {
    const host = makeHost({ usedHostPorts: [{ port: 53, protocol: "udp" }] });
    const result = expectPlaced(schedule([host], makeRequest({ ports: [hostPort(53)] })));
    expect(result.reason).toMatch(/^binpack: 1 of 1 hosts fit;/);
    expect(result.rejected).toEqual([]);
  });

  it("the reason and the rejections are worked out once and describe the cluster the decision saw", () => {
    const view = new ClusterView([makeHost({ name: "a" }), makeHost({ name: "b", draining: true })]);
    const result = expectPlaced(schedule(view, makeRequest()));
    view.place("id-a", makeRequest({ resources: { cpuRequestMillis: 4000 } }));
    view.upsertHost(makeHost({ name: "b" }));
    expect(result.reason).toMatch(
      /^binpack: 1 of 2 hosts fit; chose a \(best fit: cpu 13%, memory 3% after placement\)$/,
    );
    expect(result.rejected).toBe(result.rejected);
    expect(result.rejected).toEqual([{ hostId: "id-b", hostName: "b", reasons: ["draining"] }]);
  });
});

describe("schedule: what a no-fit message counts", () => {
  // Twenty hosts are named; these six come after them, each failing one filter.
  const tail: { name: string; host: HostOverrides; summary: string }[] = [
    { name: "cpu", host: { allocated: { cpuMillis: 4000 } }, summary: "1 not enough cpu" },
    { name: "memory", host: { allocated: { memoryBytes: 8 * GIB } }, summary: "1 not enough memory" },
    { name: "pids", host: { allocated: { pids: 4096 } }, summary: "1 not enough pids" },
    {
      name: "ports",
      host: { usedHostPorts: [{ port: 80, protocol: "tcp" }] },
      summary: "1 host port in use",
    },
    { name: "constraint", host: { labels: { zone: "us" } }, summary: "1 constraint not met" },
    { name: "volume", host: {}, summary: "1 volume elsewhere" },
  ];
  it("counts every kind of reason among the hosts it does not name", () => {
    const hosts = Array.from({ length: MAX_HOSTS_IN_MESSAGE }, (_, i) =>
      makeHost({ name: `a${String(i).padStart(2, "0")}`, online: false, labels: { zone: "eu" } }),
    );
    hosts.push(makeHost({ name: "holder", online: false, labels: { zone: "eu" }, volumes: ["data"] }));
    for (const { name, host } of tail)
      hosts.push(makeHost({ name: `z-${name}`, labels: { zone: "eu" }, ...host }));
    // Every tail host fails exactly one filter; z-volume holds no "data".
    hosts[hosts.length - 2] = makeHost({ name: "z-constraint", labels: { zone: "us" }, volumes: ["data"] });
    for (const h of hosts.slice(-6, -2)) h.volumes = ["data"];
    const request = makeRequest({
      ports: [hostPort(80)],
      selector: "zone=eu",
      volumes: ["data"],
      resources: { pidsRequest: 1 },
    });
    const result = expectRejected(schedule(hosts, request));
    expect(result.message).toMatch(
      new RegExp(`; and 7 more hosts \\(1 offline, ${tail.map((t) => t.summary).join(", ")}\\)$`),
    );
  });

  it.each([
    [MAX_HOSTS_IN_MESSAGE, false],
    [MAX_HOSTS_IN_MESSAGE + 1, true],
  ])("%i hosts ruled out: counted at the end %s", (count, counted) => {
    const hosts = Array.from({ length: count }, (_, i) =>
      makeHost({ name: `h${String(i).padStart(2, "0")}`, online: false }),
    );
    const message = expectRejected(schedule(hosts, makeRequest())).message;
    expect(message.includes("more host")).toBe(counted);
  });

  it.each([
    [["a"], 'volume "data" is on a'],
    [["a", "b", "c"], 'volume "data" is on a, b, c'],
    [["a", "b", "c", "d"], 'volume "data" is on a, b, c and 1 more host'],
    [["e", "d", "c", "b", "a"], 'volume "data" is on a, b, c and 2 more hosts'],
  ])("names the holders of a volume, sorted: %j", (holders, reason) => {
    const hosts = holders.map((name) => makeHost({ name, volumes: ["data"], online: false }));
    hosts.push(makeHost({ name: "z" }));
    const rejected = expectRejected(schedule(hosts, makeRequest({ volumes: ["data"] }))).rejected;
    expect(rejected.find((r) => r.hostName === "z")?.reasons).toEqual([reason]);
  });
});

describe("schedule: exact fits and the fallback to avoided hosts", () => {
  it("a host with exactly the pids and memory requested free fits, and is counted as fitting", () => {
    const host = makeHost({ allocated: { memoryBytes: 7 * GIB, pids: 4000 } });
    const request = makeRequest({ resources: { memoryRequestBytes: GIB, pidsRequest: 96 } });
    expect(expectPlaced(schedule([host], request)).reason).toMatch(/^binpack: 1 of 1 hosts fit;/);
    expect(schedule([host], makeRequest({ resources: { pidsRequest: 97 } })).ok).toBe(false);
  });

  it("a host with no memory allocatable takes a request for no memory", () => {
    const host = makeHost({ allocatable: { memoryBytes: 0 } });
    for (const strategy of ["binpack", "spread"] as const) {
      const request = makeRequest({ strategy, resources: { cpuRequestMillis: 100, memoryRequestBytes: 0 } });
      expect(expectPlaced(schedule([host], request)).hostName).toBe("h1");
    }
  });

  it("the first host by name can be the avoided fallback", () => {
    const hosts = [makeHost({ name: "a" }), makeHost({ name: "b", online: false })];
    const result = expectPlaced(schedule(hosts, makeRequest({ avoidHostIds: ["id-a"] })));
    expect(result.reason).toMatch(/, a host to avoid, as no other host fits$/);
  });

  it.each([[["id-b", "id-c"]], [["id-c", "id-b"]]])(
    "equal avoided hosts go to the first name whatever the order avoided (%j)",
    (avoidHostIds) => {
      const hosts = ["c", "b"].map((name) =>
        makeHost({ name, allocated: { cpuMillis: 1000, memoryBytes: GIB } }),
      );
      expect(expectPlaced(schedule(hosts, makeRequest({ avoidHostIds }))).hostName).toBe("b");
    },
  );

  it("among avoided hosts, spread takes the emptiest and binpack the best fit", () => {
    const hosts = [
      makeHost({ name: "empty" }),
      makeHost({ name: "half", allocated: { cpuMillis: 2000, memoryBytes: 4 * GIB } }),
    ];
    const avoidHostIds = ["id-empty", "id-half"];
    expect(expectPlaced(schedule(hosts, makeRequest({ strategy: "spread", avoidHostIds }))).hostName).toBe(
      "empty",
    );
    expect(expectPlaced(schedule(hosts, makeRequest({ avoidHostIds }))).hostName).toBe("half");
  });
});
