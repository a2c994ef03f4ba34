import { describe, expect, it } from "vitest";
import { fleetUtilizationSeries, hostBars, ratioAxisMax, type THostAllocation } from "./overview-data";

let sequence = 0;
function host(fixture: Partial<THostAllocation> = {}): THostAllocation {
  sequence++;
  return {
    hostId: `h${sequence}`,
    name: `host-${String(sequence).padStart(4, "0")}`,
    status: "online",
    draining: false,
    cpuAllocatedMillis: 0,
    memoryAllocatedBytes: 0,
    cpuAllocatedRatio: 0,
    cpuUsedRatio: 0,
    memoryAllocatedRatio: 0,
    memoryUsedRatio: 0,
    ...fixture,
  };
}

describe("hostBars", () => {
  it("orders hosts by allocated share, then amount, then name, and marks offline and draining ones", () => {
    const hosts = [
      host({ name: "b", cpuAllocatedRatio: 0.5, cpuAllocatedMillis: 1000, cpuUsedRatio: 0.1 }),
      host({ name: "a", cpuAllocatedRatio: 0.5, cpuAllocatedMillis: 1000, cpuUsedRatio: 0.2 }),
      host({ name: "big", cpuAllocatedRatio: 0.5, cpuAllocatedMillis: 8000, draining: true }),
      host({ name: "full", cpuAllocatedRatio: 0.9, cpuAllocatedMillis: 900, status: "offline" }),
      host({ name: "empty", cpuAllocatedRatio: null, cpuUsedRatio: null }),
    ];
    expect(hostBars(hosts, "cpu")).toEqual({
      categories: ["full (offline)", "big (draining)", "a", "b", "empty"],
      allocated: [0.9, 0.5, 0.5, 0.5, 0],
      used: [0, 0, 0.2, 0.1, 0],
      total: 5,
    });
  });

  it("shows only the most allocated hosts of a large fleet, by the resource asked for", () => {
    const hosts = Array.from({ length: 1000 }, (_, index) =>
      host({ cpuAllocatedRatio: (index % 100) / 100, memoryAllocatedRatio: ((index * 7) % 1000) / 1000 }),
    );
    const cpu = hostBars(hosts, "cpu");
    expect(cpu.categories).toHaveLength(20);
    expect(cpu.total).toBe(1000);
    // Ten hosts each at 99% and 98%: the top twenty are exactly those.
    expect(new Set(cpu.allocated)).toEqual(new Set([0.99, 0.98]));
    expect(cpu.allocated.slice(0, 10).every((ratio) => ratio === 0.99)).toBe(true);
    const memory = hostBars(hosts, "memory");
    expect(memory.allocated[0]).toBe(0.999);
    expect(memory.allocated[19]).toBe(0.98);
  });

  it("stretches the axis past 100% only when a host uses more than it may hand out", () => {
    expect(ratioAxisMax(hostBars([host({ cpuAllocatedRatio: 0.4, cpuUsedRatio: 0.3 })], "cpu"))).toBe(1);
    expect(ratioAxisMax(hostBars([host({ cpuAllocatedRatio: 0.4, cpuUsedRatio: 1.3 })], "cpu"))).toBe(1.3);
  });
});

describe("fleetUtilizationSeries", () => {
  it("turns sums into shares of the fleet, with a gap where the fleet reported no capacity", () => {
    const [cpu, memory] = fleetUtilizationSeries([
      { t: 1, cpuCores: 1, cpuCount: 4, memoryUsedBytes: 3, memoryTotalBytes: 12 },
      { t: 2, cpuCores: 0, cpuCount: 0, memoryUsedBytes: 0, memoryTotalBytes: 0 },
    ]);
    expect(cpu?.points).toEqual([
      { t: 1, v: 0.25 },
      { t: 2, v: null },
    ]);
    expect(memory?.points).toEqual([
      { t: 1, v: 0.25 },
      { t: 2, v: null },
    ]);
  });
});
