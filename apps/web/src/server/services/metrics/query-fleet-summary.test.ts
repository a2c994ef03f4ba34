import { describe, expect, it } from "vitest";
import { type FleetSummary, fleetSummaryEachSecond } from "./query-fleet-summary";

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
      { monotonicNow: () => now },
    );
    const first = summary();
    const second = summary();
    releases.shift()?.();
    expect(await first).toBe(await second);
    now += 999;
    expect((await summary()).at).toBe(1);
    expect(computed).toBe(1);

    // Older than a second: answered at once with the last one, a fresh one starts (once).
    now += 1;
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
