import { describe, expect, it } from "vitest";
import { FreeCapacityIndex } from "./free-capacity-index";
import { LEVELS } from "./free-steps";

type Host = { eligible: boolean; cpu: number; memory: number; freeCpu: number; freeMemory: number };

const host = (overrides: Partial<Host> = {}): Host => ({
  eligible: true,
  cpu: 1600,
  memory: 3200,
  freeCpu: 800,
  freeMemory: 1600,
  ...overrides,
});

function filed(hosts: readonly Host[], byRebuild: boolean): FreeCapacityIndex {
  const index = new FreeCapacityIndex();
  if (byRebuild) {
    index.rebuild(
      hosts.length,
      (i) => hosts[i]!.eligible,
      Float64Array.from(hosts, (h) => h.cpu),
      Float64Array.from(hosts, (h) => h.memory),
      Float64Array.from(hosts, (h) => h.freeCpu),
      Float64Array.from(hosts, (h) => h.freeMemory),
    );
  } else {
    index.reset(0);
    // Out of order, to show that the order of filing does not matter.
    for (let i = hosts.length - 1; i >= 0; i--) {
      const h = hosts[i]!;
      index.set(i, h.eligible, h.cpu, h.memory, h.freeCpu, h.freeMemory);
    }
  }
  return index;
}

/** Every live cell as [shape cpu, shape memory, cpu step, memory step, positions]. */
function cells(index: FreeCapacityIndex): [number, number, number, number, number[]][] {
  return index
    .liveCells()
    .map((cell): [number, number, number, number, number[]] => {
      const shape = index.shapes()[index.shapeOf(cell)]!;
      return [
        shape.cpu,
        shape.memory,
        index.cpuLevelOf(cell),
        index.memoryLevelOf(cell),
        [...index.hostsIn(cell)],
      ];
    })
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
}

describe("FreeCapacityIndex", () => {
  const hosts = [
    host({ freeCpu: 400, freeMemory: 800 }),
    host(),
    host({ freeCpu: 400, freeMemory: 800 }),
    host({ eligible: false }),
    host({ freeCpu: 1600, freeMemory: 3200 }),
    host({ cpu: 800, freeCpu: 400 }),
    host({ freeCpu: 799, freeMemory: 1700 }),
    host({ freeCpu: 700, freeMemory: 1700 }),
  ];

  it.each([true, false])("groups hosts by shape and steps of free capacity (rebuilt: %s)", (byRebuild) => {
    const index = filed(hosts, byRebuild);
    expect(cells(index)).toEqual([
      [800, 3200, 8, 8, [5]],
      [1600, 3200, 4, 4, [0, 2]],
      // By key (free fractions summed): 700/1600 + 1700/3200 before 799/1600 + 1700/3200.
      [1600, 3200, 7, 8, [7, 6]],
      [1600, 3200, 8, 8, [1]],
      [1600, 3200, LEVELS, LEVELS, [4]],
    ]);
    expect(index.shapes()).toEqual([
      { cpu: 1600, memory: 3200 },
      { cpu: 800, memory: 3200 },
    ]);
    expect(index.keyAt(1)).toBe(1);
    expect(index.keyAt(4)).toBe(2);
    // Steps of the used hosts: 4 + 4, 8 + 8, 4 + 4, 8 + 8, 7 + 8, 7 + 8 (the empty
    // host and the ineligible one do not count), in hosts' worth (32 steps a host).
    expect(index.freeInUsedHosts()).toBe(78 / 32);
    expect(index.totals()).toEqual({
      allocatedCpu: 1200 + 800 + 1200 + 0 + 400 + 801 + 900,
      allocatedMemory: 2400 + 1600 + 2400 + 0 + 1600 + 1500 + 1500,
      allocatableCpu: 6 * 1600 + 800,
      allocatableMemory: 7 * 3200,
    });
  });

  it("moves a host when its free capacity or its state changes, and drops empty cells", () => {
    const index = filed(hosts, true);
    index.set(6, true, 1600, 3200, 50, 100);
    index.set(7, true, 1600, 3200, 400, 800);
    index.set(4, false, 1600, 3200, 1600, 3200);
    index.set(5, true, 800, 3200, 350, 1600);
    expect(cells(index)).toEqual([
      [800, 3200, 7, 8, [5]],
      [1600, 3200, 0, 0, [6]],
      [1600, 3200, 4, 4, [0, 2, 7]],
      [1600, 3200, 8, 8, [1]],
    ]);
    expect(index.freeInUsedHosts()).toBe((8 + 16 + 8 + 15 + 0 + 8) / 32);
    expect(index.totals()).toEqual({
      allocatedCpu: 1200 + 800 + 1200 + 450 + 1550 + 1200,
      allocatedMemory: 2400 + 1600 + 2400 + 1600 + 3100 + 2400,
      allocatableCpu: 5 * 1600 + 800,
      allocatableMemory: 6 * 3200,
    });
    // Emptied: no longer a used host.
    index.set(1, true, 1600, 3200, 1600, 3200);
    expect(index.freeInUsedHosts()).toBe((8 + 8 + 15 + 0 + 8) / 32);
    expect(index.totals().allocatedCpu).toBe(1200 + 1200 + 450 + 1550 + 1200);
    expect(index.totals().allocatedMemory).toBe(2400 + 2400 + 1600 + 3100 + 2400);
    // Same cell, other key: re-sorted.
    index.set(0, true, 1600, 3200, 420, 800);
    expect(index.hostsIn(index.liveCells().find((c) => index.hostsIn(c).includes(0))!)).toEqual([2, 7, 0]);
    expect(index.keyAt(0)).toBe(420 / 1600 + 800 / 3200);
  });

  it.each([true, false])("a host with one resource untouched is a used host (rebuilt: %s)", (byRebuild) => {
    const index = filed(
      [host({ freeCpu: 400, freeMemory: 3200 }), host({ freeCpu: 1600, freeMemory: 800 })],
      byRebuild,
    );
    expect(index.freeInUsedHosts()).toBe((4 + LEVELS + LEVELS + 4) / 32);
  });

  it("takes positions beyond what it was sized for", () => {
    const index = new FreeCapacityIndex();
    index.reset(0);
    index.set(40, true, 1600, 3200, 0, 0);
    index.set(3, true, 1600, 3200, 0, 0);
    expect(cells(index)).toEqual([[1600, 3200, 0, 0, [3, 40]]]);
    index.set(40, false, 1600, 3200, 0, 0);
    index.set(3, false, 1600, 3200, 0, 0);
    expect(index.liveCells()).toEqual([]);
  });

  it("a host with nothing allocatable of a resource is in its first step", () => {
    const index = filed([host({ cpu: 0, freeCpu: 0 })], true);
    expect(cells(index)).toEqual([[0, 3200, 0, 8, [0]]]);
    expect(index.keyAt(0)).toBe(0.5);
  });
});
