import { describe, expect, it } from "vitest";
import {
  BINPACK_FULLNESS_WEIGHT,
  binpackCost,
  costToScore,
  misalignment,
  OPEN_HOST_COST,
  OPEN_HOST_COST_PER_FREE_HOST,
  openHostCost,
  SAME_SHAPE_OPEN_COST,
  SAME_SHAPE_SPREAD,
  sameShape,
  spreadCost,
  tenTo,
} from "./fit-score";
import { freeFraction, freeLevel, LEVELS, stepMiddle } from "./free-steps";

describe("misalignment", () => {
  const cases: { name: string; take: [number, number]; free: [number, number]; expected: number }[] = [
    { name: "same direction", take: [0.1, 0.2], free: [0.3, 0.6], expected: 0 },
    { name: "cpu only against memory only", take: [0.1, 0], free: [0, 0.5], expected: 0.1 },
    {
      name: "cpu only against a balanced host",
      take: [0.1, 0],
      free: [0.5, 0.5],
      expected: 0.1 * (1 - Math.SQRT1_2),
    },
    {
      name: "memory only against a balanced host",
      take: [0, 0.2],
      free: [0.5, 0.5],
      expected: 0.2 * (1 - Math.SQRT1_2),
    },
    { name: "a request of nothing", take: [0, 0], free: [0.2, 0.9], expected: 0 },
    { name: "a host with nothing free", take: [0.3, 0.1], free: [0, 0], expected: 0 },
    { name: "3:4 against 4:3", take: [0.3, 0.4], free: [0.4, 0.3], expected: 0.5 * (1 - 24 / 25) },
  ];
  it.each(cases)("$name", ({ take, free, expected }) => {
    expect(misalignment(take[0], take[1], free[0], free[1])).toBeCloseTo(expected, 12);
  });
});

describe("binpackCost", () => {
  it("is the misalignment with the middle of the host's steps plus the fullness after placement, weighted", () => {
    // Steps 7 and 11: middles 7.5/16 and 11.5/16.
    const expected =
      misalignment(0.1, 0.2, 7.5 / 16, 11.5 / 16) + BINPACK_FULLNESS_WEIGHT * (1.1 - 0.1 - 0.2);
    expect(binpackCost(0.1, 0.2, 7, 11, 1.1, 0.5)).toBeCloseTo(expected, 15);
  });

  const empties: { cpuLevel: number; memoryLevel: number; empty: boolean }[] = [
    { cpuLevel: LEVELS, memoryLevel: LEVELS, empty: true },
    { cpuLevel: LEVELS - 1, memoryLevel: LEVELS, empty: false },
    { cpuLevel: LEVELS, memoryLevel: LEVELS - 1, empty: false },
    { cpuLevel: 0, memoryLevel: 0, empty: false },
  ];
  it.each(empties)("steps $cpuLevel and $memoryLevel: empty $empty", ({ cpuLevel, memoryLevel, empty }) => {
    const withoutOpening = binpackCost(0.1, 0.3, cpuLevel, memoryLevel, 1.5, 0);
    expect(binpackCost(0.1, 0.3, cpuLevel, memoryLevel, 1.5, 0.25)).toBe(
      empty ? withoutOpening + 0.25 : withoutOpening,
    );
  });

  it("at every pair of steps, takes the misalignment with the steps' middles", () => {
    for (let cpu = 0; cpu <= LEVELS; cpu++) {
      for (let memory = 0; memory <= LEVELS; memory++) {
        const expected =
          misalignment(0.2, 0.05, stepMiddle(cpu), stepMiddle(memory)) + BINPACK_FULLNESS_WEIGHT * (1 - 0.25);
        expect(binpackCost(0.2, 0.05, cpu, memory, 1, 0), `steps ${cpu}, ${memory}`).toBeCloseTo(
          expected,
          14,
        );
      }
    }
  });

  it("a request in the direction of the host's free capacity costs only its fullness", () => {
    expect(binpackCost(0.25, 0.25, 7, 7, 1, 0)).toBeCloseTo(BINPACK_FULLNESS_WEIGHT * 0.5, 15);
  });

  it("a larger request strands more on a misaligned host", () => {
    const small = binpackCost(0.1, 0, 2, 12, 1, 0) - BINPACK_FULLNESS_WEIGHT * 0.9;
    const large = binpackCost(0.2, 0, 2, 12, 1, 0) - BINPACK_FULLNESS_WEIGHT * 0.8;
    expect(large).toBeCloseTo(2 * small, 12);
    expect(small).toBeGreaterThan(0);
  });

  it("starting a host costs a constant, a share of what the used hosts have free, and more for a request shaped like the rest", () => {
    expect(openHostCost(0, 0)).toBe(OPEN_HOST_COST);
    expect(openHostCost(10, 0)).toBeCloseTo(OPEN_HOST_COST + 10 * OPEN_HOST_COST_PER_FREE_HOST, 15);
    expect(openHostCost(10, 0.5)).toBeCloseTo(
      OPEN_HOST_COST + 10 * OPEN_HOST_COST_PER_FREE_HOST + 0.5 * SAME_SHAPE_OPEN_COST,
      15,
    );
  });
});

describe("sameShape", () => {
  const cases: { name: string; take: [number, number]; allocated: [number, number]; expected: number }[] = [
    { name: "the same direction", take: [0.01, 0.02], allocated: [0.3, 0.6], expected: 1 },
    { name: "nothing allocated yet", take: [0.01, 0.02], allocated: [0, 0], expected: 1 },
    { name: "a request of nothing", take: [0, 0], allocated: [0.3, 0.1], expected: 1 },
    { name: "at right angles", take: [0.01, 0], allocated: [0, 0.5], expected: 0 },
    { name: "3:4 against 4:3", take: [0.03, 0.04], allocated: [0.4, 0.3], expected: 0 },
    // cosine 0.999 at half the spread, ~2.6 degrees apart.
    {
      name: "half the spread apart",
      take: [1, 0],
      allocated: [1 - SAME_SHAPE_SPREAD / 2, Math.sqrt(1 - (1 - SAME_SHAPE_SPREAD / 2) ** 2)],
      expected: 0.5,
    },
  ];
  it.each(cases)("$name: $expected", ({ take, allocated, expected }) => {
    expect(sameShape(take[0], take[1], allocated[0], allocated[1])).toBeCloseTo(expected, 9);
  });
});

describe("spreadCost", () => {
  const cases: { free: [number, number]; take: [number, number]; expected: number }[] = [
    { free: [1, 1], take: [0, 0], expected: -20 },
    { free: [0, 0], take: [0, 0], expected: -2 },
    { free: [0.5, 0.5], take: [0.5, 0.5], expected: -2 },
    { free: [1, 0.5], take: [0.5, 0], expected: -(10 ** 0.5 + 10 ** 0.5) },
    { free: [0.25, 1], take: [0, 1], expected: -(10 ** 0.25 + 1) },
  ];
  it.each(cases)("free $free, taking $take: $expected", ({ free, take, expected }) => {
    expect(spreadCost(free[0], free[1], take[0], take[1])).toBeCloseTo(expected, 10);
  });

  it("tenTo is 10^x", () => {
    expect(tenTo(0)).toBe(1);
    expect(tenTo(1)).toBeCloseTo(10, 12);
    expect(tenTo(-2)).toBeCloseTo(0.01, 14);
  });
});

describe("costToScore", () => {
  const cases: { strategy: "binpack" | "spread"; cost: number; score: number }[] = [
    { strategy: "spread", cost: -20, score: 1 },
    { strategy: "spread", cost: -25, score: 1 },
    { strategy: "spread", cost: -11, score: 0.5 },
    { strategy: "spread", cost: -2, score: 0 },
    { strategy: "spread", cost: 0, score: 0 },
    // binpack: 1 for a perfect fit, falling towards 0 as the cost grows.
    { strategy: "binpack", cost: 0, score: 1 },
    { strategy: "binpack", cost: -1e-12, score: 1 },
    { strategy: "binpack", cost: 1, score: 0.5 },
    { strategy: "binpack", cost: 3, score: 0.25 },
  ];
  it.each(cases)("$strategy $cost: $score", ({ strategy, cost, score }) => {
    expect(costToScore(strategy, cost)).toBeCloseTo(score, 12);
  });
});

describe("free steps", () => {
  const levels: { free: number; allocatable: number; level: number }[] = [
    { free: 0, allocatable: 100, level: 0 },
    { free: 6.25, allocatable: 100, level: 1 },
    { free: 6.24, allocatable: 100, level: 0 },
    { free: 50, allocatable: 100, level: 8 },
    { free: 99.99, allocatable: 100, level: LEVELS - 1 },
    { free: 100, allocatable: 100, level: LEVELS },
    { free: 250, allocatable: 100, level: LEVELS },
    { free: -5, allocatable: 100, level: 0 },
    { free: 5, allocatable: 0, level: 0 },
    { free: 5, allocatable: -1, level: 0 },
  ];
  it.each(levels)("free $free of $allocatable: step $level", ({ free, allocatable, level }) => {
    expect(freeLevel(free, allocatable)).toBe(level);
  });

  it("a step's middle, and 1 for a fully free resource", () => {
    expect(stepMiddle(0)).toBe(0.5 / LEVELS);
    expect(stepMiddle(LEVELS - 1)).toBe((LEVELS - 0.5) / LEVELS);
    expect(stepMiddle(LEVELS)).toBe(1);
  });

  it("a resource with nothing allocatable counts as full", () => {
    expect(freeFraction(5, 10)).toBe(0.5);
    expect(freeFraction(5, 0)).toBe(0);
    expect(freeFraction(5, -2)).toBe(0);
  });
});
