// Checks the indexed search (it visits only the groups of hosts that can
// hold the best one) against the plainest possible implementation of the
// same rules, over many seeded random clusters, including many exact ties,
// hosts of several shapes, and a view changed between decisions.
import { describe, expect, it } from "vitest";
import { ClusterView } from "./cluster-view";
import { effectiveRequests } from "./effective-requests";
import { binpackCost, openHostCost, sameShape, spreadCost } from "./fit-score";
import { freeLevel, LEVELS } from "./free-steps";
import { compareHosts } from "./host-order";
import { schedule } from "./schedule";
import { GIB, makeHost, makeRequest } from "./test-factories";
import type { PlacementRequest, PlacementStrategy, SchedulerHost } from "./types";

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function fraction(amount: number, allocatable: number): number {
  return allocatable > 0 ? amount / allocatable : 0;
}

function referenceCost(host: SchedulerHost, request: PlacementRequest, openCost: number): number {
  const take = effectiveRequests(request.resources);
  const { allocatable: cap, allocated: used } = host;
  const freeCpu = cap.cpuMillis - used.cpuMillis;
  const freeMemory = cap.memoryBytes - used.memoryBytes;
  if (request.strategy === "spread") {
    return spreadCost(
      fraction(freeCpu, cap.cpuMillis),
      fraction(freeMemory, cap.memoryBytes),
      fraction(take.cpuMillis, cap.cpuMillis),
      fraction(take.memoryBytes, cap.memoryBytes),
    );
  }
  return binpackCost(
    fraction(take.cpuMillis, cap.cpuMillis),
    fraction(take.memoryBytes, cap.memoryBytes),
    freeLevel(freeCpu, cap.cpuMillis),
    freeLevel(freeMemory, cap.memoryBytes),
    fraction(freeCpu, cap.cpuMillis) + fraction(freeMemory, cap.memoryBytes),
    openCost,
  );
}

/** What starting an empty host costs, worked out over the hosts that can take containers. */
function referenceOpenCost(hosts: readonly SchedulerHost[], request: PlacementRequest): number {
  const take = effectiveRequests(request.resources);
  let steps = 0;
  const total = { cpu: 0, memory: 0, allocatableCpu: 0, allocatableMemory: 0 };
  for (const { online, draining, allocatable: cap, allocated: used } of hosts) {
    if (!online || draining) continue;
    const cpu = freeLevel(cap.cpuMillis - used.cpuMillis, cap.cpuMillis);
    const memory = freeLevel(cap.memoryBytes - used.memoryBytes, cap.memoryBytes);
    if (cpu < LEVELS || memory < LEVELS) steps += cpu + memory;
    total.cpu += used.cpuMillis;
    total.memory += used.memoryBytes;
    total.allocatableCpu += cap.cpuMillis;
    total.allocatableMemory += cap.memoryBytes;
  }
  const shape = sameShape(
    fraction(take.cpuMillis, total.allocatableCpu),
    fraction(take.memoryBytes, total.allocatableMemory),
    fraction(total.cpu, total.allocatableCpu),
    fraction(total.memory, total.allocatableMemory),
  );
  return openHostCost(steps / (2 * LEVELS), shape);
}

function referenceChoice(hosts: readonly SchedulerHost[], request: PlacementRequest): string | undefined {
  const take = effectiveRequests(request.resources);
  const openCost = referenceOpenCost(hosts, request);
  const fitting = hosts
    .filter(
      (h) =>
        h.online &&
        !h.draining &&
        take.cpuMillis <= h.allocatable.cpuMillis - h.allocated.cpuMillis &&
        take.memoryBytes <= h.allocatable.memoryBytes - h.allocated.memoryBytes &&
        take.pids <= h.allocatable.pids - h.allocated.pids,
    )
    .map((host) => ({ host, cost: referenceCost(host, request, openCost) }))
    .sort((a, b) => a.cost - b.cost || compareHosts(a.host, b.host));
  const avoid = new Set(request.avoidHostIds ?? []);
  return (fitting.find((f) => !avoid.has(f.host.id)) ?? fitting[0])?.host.id;
}

const SHAPES = [
  { cpuMillis: 8000, memoryBytes: 16 * GIB },
  { cpuMillis: 4000, memoryBytes: 16 * GIB },
  { cpuMillis: 16000, memoryBytes: 32 * GIB },
];

function randomHost(random: () => number, i: number, shapes: number): SchedulerHost {
  const shape = SHAPES[Math.floor(random() * shapes)]!;
  // Coarse steps of 500 millicores and 1 GiB make many hosts tie exactly;
  // a fifth are empty, so binpack weighs starting a host against used ones.
  const empty = random() < 0.2;
  return makeHost({
    name: `h${Math.floor(random() * 20)}`,
    id: `id-${i}`,
    online: random() > 0.05,
    draining: random() < 0.05,
    allocatable: shape,
    allocated: {
      cpuMillis: empty ? 0 : Math.min(shape.cpuMillis, 500 * Math.floor(random() * 17)),
      memoryBytes: empty ? 0 : Math.min(shape.memoryBytes, GIB * Math.floor(random() * 17)),
    },
  });
}

function randomRequest(
  random: () => number,
  strategy: PlacementStrategy,
  hostCount: number,
): PlacementRequest {
  return makeRequest({
    strategy,
    resources: {
      cpuRequestMillis: 500 * Math.floor(random() * 4),
      memoryRequestBytes: GIB * Math.floor(random() * 4),
      pidsRequest: random() < 0.1 ? 5000 : 0,
    },
    ...(random() < 0.2 ? { avoidHostIds: [`id-${Math.floor(random() * hostCount)}`] } : {}),
  });
}

describe("schedule agrees with a brute-force reference", () => {
  it.each(["binpack", "spread"] as const)("%s over 200 random clusters", (strategy) => {
    const random = seeded(strategy === "binpack" ? 1 : 2);
    for (let round = 0; round < 200; round++) {
      const hosts: SchedulerHost[] = [];
      const count = 1 + Math.floor(random() * 60);
      const shapes = 1 + (round % SHAPES.length);
      for (let i = 0; i < count; i++) hosts.push(randomHost(random, i, shapes));
      const request = randomRequest(random, strategy, count);
      const result = schedule(hosts, request);
      expect(result.ok ? result.hostId : undefined, `round ${round}`).toBe(referenceChoice(hosts, request));
    }
  });

  it.each(["binpack", "spread"] as const)("%s on one view through 800 changes", (strategy) => {
    const random = seeded(strategy === "binpack" ? 3 : 4);
    const view = new ClusterView(Array.from({ length: 40 }, (_, i) => randomHost(random, i, SHAPES.length)));
    const placed: { hostId: string; request: PlacementRequest }[] = [];
    let nextId = 40;
    for (let step = 0; step < 800; step++) {
      const request = randomRequest(random, strategy, nextId);
      const result = schedule(view, request);
      expect(result.ok ? result.hostId : undefined, `step ${step}`).toBe(
        referenceChoice(view.hosts(), request),
      );
      const roll = random();
      if (result.ok && roll < 0.6) {
        view.place(result.hostId, request);
        placed.push({ hostId: result.hostId, request });
      } else if (roll < 0.8 && placed.length > 0) {
        const gone = placed.splice(Math.floor(random() * placed.length), 1)[0]!;
        if (view.get(gone.hostId)) view.release(gone.hostId, gone.request);
      } else if (roll < 0.9) {
        view.upsertHost(randomHost(random, nextId++, SHAPES.length));
      } else {
        const hosts = view.hosts();
        const host = hosts[Math.floor(random() * hosts.length)];
        if (host && random() < 0.5) view.removeHost(host.id);
        else if (host) view.upsertHost({ ...host, online: !host.online, allocated: { ...host.allocated } });
      }
    }
  });
});
