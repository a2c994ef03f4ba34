import { describe, expect, it } from "vitest";
import { pickResolution, rangeEndingAt } from "./resolution";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe("pickResolution", () => {
  it.each([
    [15 * MINUTE, "raw"],
    [2 * HOUR, "raw"],
    [2 * HOUR + 1, "minute"],
    [DAY, "minute"],
    [3 * DAY, "minute"],
    [3 * DAY + 1, "hour"],
    [90 * DAY, "hour"],
  ])("a range of %d ms → %s", (range, resolution) => {
    expect(pickResolution(1_000_000, 1_000_000 + range)).toBe(resolution);
  });
});

describe("rangeEndingAt", () => {
  it("ends at now", () => {
    expect(rangeEndingAt("24h", DAY * 10)).toEqual({ from: DAY * 9, to: DAY * 10 });
  });
});
