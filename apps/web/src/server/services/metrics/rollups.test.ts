import { describe, expect, it } from "vitest";
import {
  CONTAINER_HOUR_ROLLUP,
  CONTAINER_MINUTE_ROLLUP,
  HOST_HOUR_ROLLUP,
  HOST_MINUTE_ROLLUP,
} from "./rollup-sql";
import { contiguousRanges, floorTo } from "./rollups";

describe("contiguousRanges", () => {
  it("merges adjacent buckets into [from, to) ranges", () => {
    expect(contiguousRanges([120, 0, 60, 300, 60], 60)).toEqual([
      [0, 180],
      [300, 360],
    ]);
    expect(contiguousRanges([], 60)).toEqual([]);
  });
});

describe("floorTo", () => {
  it("rounds down to a whole step", () => {
    expect(floorTo(119_999, 60_000)).toBe(60_000);
    expect(floorTo(120_000, 60_000)).toBe(120_000);
  });
});

describe("rollup SQL", () => {
  it("cuts buckets in UTC and upserts, so a rerun replaces rather than adds", () => {
    for (const sql of [
      CONTAINER_MINUTE_ROLLUP,
      CONTAINER_HOUR_ROLLUP,
      HOST_MINUTE_ROLLUP,
      HOST_HOUR_ROLLUP,
    ]) {
      expect(sql).toMatch(/date_trunc\('(minute|hour)', [a-z_]+\.(ts|bucket), 'UTC'\)/);
      expect(sql).toContain("DO UPDATE SET");
      expect(sql).not.toMatch(/date_trunc\('(minute|hour)', [a-z.]+\)/);
    }
  });
});
