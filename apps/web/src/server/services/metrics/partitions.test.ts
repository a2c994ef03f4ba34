import { describe, expect, it } from "vitest";
import { firstRetainedDay, partitionWindow, utcDay } from "./partitions";

describe("partition days", () => {
  it("are UTC days", () => {
    expect(utcDay(Date.UTC(2030, 0, 1, 23, 59, 59, 999))).toBe("2030-01-01");
    expect(utcDay(Date.UTC(2030, 0, 2))).toBe("2030-01-02");
  });

  it("cover yesterday through the day after tomorrow", () => {
    expect(partitionWindow(Date.UTC(2030, 2, 1, 10))).toEqual({ fromDay: "2030-02-28", days: 4 });
  });

  it("are kept from the day holding the retention cutoff", () => {
    const day = 24 * 60 * 60_000;
    expect(firstRetainedDay(Date.UTC(2030, 2, 10, 6), day)).toBe("2030-03-09");
    expect(firstRetainedDay(Date.UTC(2030, 2, 10, 0), day)).toBe("2030-03-09");
  });
});
