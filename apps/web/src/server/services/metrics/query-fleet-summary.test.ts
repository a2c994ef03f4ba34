import { describe, expect, it } from "vitest";
import {
  type FleetHostSummary,
  type FleetSummary,
  fleetSummaryEachSecond,
  withTopAllocatedHosts,
} from "./query-fleet-summary";

function summaryAt(at: number): FleetSummary {
  return { at, hosts: [], totals: {} as FleetSummary["totals"] };
}

describe("fleetSummaryEachSecond", () => {
  it("computes once for any number of callers a second, serving the last one while the next computes", async () => {
    let now = 0;
    let computed = 0;
    const releases: (() => void)[] = [];
    const summary = fleetSummaryEachSecond(
      () =>
        new Promise<FleetSummary>((resolve) => {
          const n = ++computed;
          releases.push(() => resolve(summaryAt(n)));
        }),
      { monotonicNow: () => now, minHostsToServeStale: 0 },
    );
    const first = summary();
    const second = summary();
    now += 200; // a slow computation: later callers are served the last one while the next computes
    releases.shift()?.();
    expect(await first).toBe(await second);
    now += 999;
    expect((await summary()).at).toBe(1);
    expect(computed).toBe(1);

    // Older than a second: answered at once with the last one, a fresh one starts (once).
    now += 1;
    expect(computed).toBe(1);
    expect((await summary()).at).toBe(1);
    expect((await summary()).at).toBe(1);
    expect(computed).toBe(2);
    releases.shift()?.();
    await Promise.resolve();
    expect((await summary()).at).toBe(2);

    // Nobody asked for a long while: the caller waits for a fresh one.
    now += 60_000;
    const late = summary();
    releases.shift()?.();
    expect((await late).at).toBe(3);
  });

  it("makes callers wait for a fresh summary when computing it is quick", async () => {
    let now = 0;
    let computed = 0;
    const summary = fleetSummaryEachSecond(async () => summaryAt(++computed), { monotonicNow: () => now });
    expect((await summary()).at).toBe(1);
    now += 1000;
    expect((await summary()).at).toBe(2);
  });

  it("makes callers of a small fleet wait for a fresh summary even when a loaded machine made computing slow", async () => {
    let now = 0;
    let computed = 0;
    const summary = fleetSummaryEachSecond(
      async () => {
        now += 500;
        return summaryAt(++computed);
      },
      { monotonicNow: () => now, minHostsToServeStale: 1 },
    );
    expect((await summary()).at).toBe(1);
    now += 1000;
    expect((await summary()).at).toBe(2);
  });

  it("does not keep a failure", async () => {
    let calls = 0;
    const summary = fleetSummaryEachSecond(async () => {
      calls++;
      if (calls === 1) throw new Error("database away");
      return summaryAt(calls);
    });
    await expect(summary()).rejects.toThrow("database away");
    expect((await summary()).at).toBe(2);
  });
});

describe("withTopAllocatedHosts", () => {
  const host = (name: string, cpu: number, memory: number) =>
    ({
      name,
      cpuAllocatedRatio: cpu,
      cpuAllocatedMillis: cpu * 1000,
      memoryAllocatedRatio: memory,
      memoryAllocatedBytes: memory,
    }) as FleetHostSummary;

  it("keeps the most allocated by CPU and by memory, in name order, and everything when few", () => {
    const hosts = [
      host("a", 0.1, 0.9),
      host("b", 0.8, 0.1),
      host("c", 0.5, 0.5),
      host("d", 0.8, 0.2),
      host("e", 0, 0),
    ];
    const summary = { ...summaryAt(0), hosts };
    // CPU: b and d (a tie broken by name), memory: a and c.
    expect(withTopAllocatedHosts(summary, 2).hosts.map((h) => h.name)).toEqual(["a", "b", "c", "d"]);
    expect(withTopAllocatedHosts(summary, 1).hosts.map((h) => h.name)).toEqual(["a", "b"]);
    expect(withTopAllocatedHosts(summary, 5)).toBe(summary);
  });
});
