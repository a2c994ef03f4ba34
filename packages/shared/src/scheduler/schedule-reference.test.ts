// Checks the optimized scheduling loop (it skips scoring hosts that cannot win)
// against the plainest possible implementation of the same rules, over many
// seeded random clusters, including many exact ties.
import { describe, expect, it } from "vitest";
import { effectiveRequests } from "./effective-requests";
import { compareHosts } from "./host-order";
import { schedule, scoreFit } from "./schedule";
import { GIB, makeHost, makeRequest } from "./test-factories";
import type { PlacementRequest, SchedulerHost } from "./types";

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function referenceChoice(hosts: SchedulerHost[], request: PlacementRequest): string | undefined {
  const take = effectiveRequests(request.resources);
  const fitting = hosts
    .filter(
      (h) =>
        h.online &&
        !h.draining &&
        take.cpuMillis <= h.allocatable.cpuMillis - h.allocated.cpuMillis &&
        take.memoryBytes <= h.allocatable.memoryBytes - h.allocated.memoryBytes &&
        take.pids <= h.allocatable.pids - h.allocated.pids,
    )
    .map((h) => ({
      host: h,
      score: scoreFit(
        request.strategy,
        (h.allocated.cpuMillis + take.cpuMillis) / h.allocatable.cpuMillis,
        (h.allocated.memoryBytes + take.memoryBytes) / h.allocatable.memoryBytes,
      ),
    }))
    .sort((a, b) => b.score - a.score || compareHosts(a.host, b.host));
  const avoid = new Set(request.avoidHostIds ?? []);
  return (fitting.find((f) => !avoid.has(f.host.id)) ?? fitting[0])?.host.id;
}

describe("schedule agrees with a brute-force reference", () => {
  it.each(["binpack", "spread"] as const)("%s over 300 random clusters", (strategy) => {
    const random = seeded(strategy === "binpack" ? 1 : 2);
    for (let round = 0; round < 300; round++) {
      const hosts: SchedulerHost[] = [];
      const count = 1 + Math.floor(random() * 60);
      for (let i = 0; i < count; i++) {
        // Coarse steps of 500 millicores and 1 GiB make many hosts tie exactly.
        hosts.push(
          makeHost({
            name: `h${Math.floor(random() * 20)}`,
            id: `id-${i}`,
            online: random() > 0.05,
            allocatable: { cpuMillis: 8000, memoryBytes: 16 * GIB },
            allocated: {
              cpuMillis: 500 * Math.floor(random() * 17),
              memoryBytes: GIB * Math.floor(random() * 17),
            },
          }),
        );
      }
      const request = makeRequest({
        strategy,
        resources: {
          cpuRequestMillis: 500 * Math.floor(random() * 4),
          memoryRequestBytes: GIB * Math.floor(random() * 4),
        },
      });
      const result = schedule(hosts, request);
      expect(result.ok ? result.hostId : undefined, `round ${round}`).toBe(referenceChoice(hosts, request));
    }
  });
});
