import { describe, expect, it } from "vitest";
import {
  alignment,
  BINPACK_FULLNESS_WEIGHT,
  binpackCost,
  costToScore,
  EMPTY_HOST_PENALTY,
  spreadCost,
  tenTo,
} from "./fit-score";
import { freeFraction, freeLevel, LEVELS, stepMiddle } from "./free-steps";

describe("alignment", () => {
  const cases: { name: string; take: [number, number]; free: [number, number]; expected: number }[] = [
    { name: "same direction", take: [0.1, 0.2], free: [0.3, 0.6], expected: 1 },
    { name: "cpu only against memory only", take: [0.1, 0], free: [0, 0.5], expected: 0 },
    { name: "cpu only against a balanced host", take: [0.1, 0], free: [0.5, 0.5], expected: Math.SQRT1_2 },
    { name: "memory only against a balanced host", take: [0, 0.1], free: [0.5, 0.5], expected: Math.SQRT1_2 },
    { name: "a request of nothing fits any direction", take: [0, 0], free: [0.2, 0.9], expected: 1 },
    { name: "a host with nothing free has no direction", take: [0.3, 0.1], free: [0, 0], expected: 1 },
    { name: "3:4 against 4:3", take: [3, 4], free: [4, 3], expected: 24 / 25 },
  ];
  it.each(cases)("$name", ({ take, free, expected }) => {
    expect(alignment(take[0], take[1], free[0], free[1])).toBeCloseTo(expected, 12);
  });
});

describe("binpackCost", () => {
  it("is the fullness after placement, weighted, minus the alignment with the middle of the host's steps", () => {
    // Steps 7 and 11: middles 7.5/16 and 11.5/16.
    const expected = BINPACK_FULLNESS_WEIGHT * (1.1 - 0.1 - 0.2) - alignment(0.1, 0.2, 7.5 / 16, 11.5 / 16);
    expect(binpackCost(0.1, 0.2, 7, 11, 1.1)).toBe(expected);
  });

  const empties: { cpuLevel: number; memoryLevel: number; empty: boolean }[] = [
    { cpuLevel: LEVELS, memoryLevel: LEVELS, empty: true },
    { cpuLevel: LEVELS - 1, memoryLevel: LEVELS, empty: false },
    { cpuLevel: LEVELS, memoryLevel: LEVELS - 1, empty: false },
    { cpuLevel: 0, memoryLevel: 0, empty: false },
  ];
  it.each(empties)("steps $cpuLevel and $memoryLevel: empty $empty", ({ cpuLevel, memoryLevel, empty }) => {
    const cost = binpackCost(0.1, 0.1, cpuLevel, memoryLevel, 1.5);
    const withoutPenalty =
      BINPACK_FULLNESS_WEIGHT * (1.5 - 0.2) -
      alignment(0.1, 0.1, stepMiddle(cpuLevel), stepMiddle(memoryLevel));
    expect(cost).toBe(empty ? withoutPenalty + EMPTY_HOST_PENALTY : withoutPenalty);
  });

  it("any used host costs less than any empty one", () => {
    const worstUsed = binpackCost(1, 0, 0, LEVELS - 1, 2);
    const bestEmpty = binpackCost(0.5, 0.5, LEVELS, LEVELS, 2);
    expect(worstUsed).toBeLessThan(bestEmpty);
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
  const w = BINPACK_FULLNESS_WEIGHT;
  const cases: { strategy: "binpack" | "spread"; cost: number; score: number }[] = [
    { strategy: "spread", cost: -20, score: 1 },
    { strategy: "spread", cost: -25, score: 1 },
    { strategy: "spread", cost: -11, score: 0.5 },
    { strategy: "spread", cost: -2, score: 0 },
    { strategy: "spread", cost: 0, score: 0 },
    // binpack: a used host scores from 0.5 (aligned not at all, empty after) to 1 (aligned, full).
    { strategy: "binpack", cost: -1, score: 1 },
    { strategy: "binpack", cost: -1.5, score: 1 },
    { strategy: "binpack", cost: 2 * w, score: 0.5 },
    { strategy: "binpack", cost: (2 * w - 1) / 2, score: 0.75 },
    // An empty host scores from 0 to 0.5.
    { strategy: "binpack", cost: EMPTY_HOST_PENALTY - 1, score: 0.5 },
    { strategy: "binpack", cost: EMPTY_HOST_PENALTY + 2 * w, score: 0 },
    { strategy: "binpack", cost: EMPTY_HOST_PENALTY + 1, score: 0 },
    { strategy: "binpack", cost: 1, score: 0.5 },
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
