import { describe, expect, it } from "vitest";
import { counterIncrease, counterRate, ratio } from "./series-math";

describe("series math", () => {
  it("counts a counter drop as a restart from zero", () => {
    expect(counterIncrease(10, 15)).toBe(5);
    expect(counterIncrease(10, 3)).toBe(3);
  });

  it("gives per-second rates, null without an earlier reading", () => {
    expect(counterRate({ t: 0, value: 100 }, { t: 2000, value: 300 })).toBe(100);
    expect(counterRate(undefined, { t: 2000, value: 300 })).toBeNull();
    expect(counterRate({ t: 2000, value: 1 }, { t: 2000, value: 5 })).toBeNull();
  });

  it("has no ratio of nothing", () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNull();
  });
});
