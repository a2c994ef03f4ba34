import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, it } from "vitest";
import { copyTextField } from "../../db/sample-copy";
import {
  CONTAINER_SAMPLE_TABLE,
  containerSampleLines,
  HOST_SAMPLE_TABLE,
  hostSampleLines,
  timestamptzText,
  toInt4,
  toInt8Text,
} from "./sample-rows";

describe("toInt8Text", () => {
  it.each([
    [0, "0"],
    [42, "42"],
    [41.6, "42"],
    [-5, "0"],
    [Number.NaN, "0"],
    [Number.POSITIVE_INFINITY, "0"],
    [2 ** 60, "1152921504606846976"],
    [2 ** 64, "9223372036854775807"],
  ])("%s → %s", (value, text) => {
    expect(toInt8Text(value)).toBe(text);
  });
});

describe("toInt4", () => {
  it("rounds, floors at zero and caps at the INTEGER maximum", () => {
    expect(toInt4(3.4)).toBe(3);
    expect(toInt4(-1)).toBe(0);
    expect(toInt4(2 ** 40)).toBe(2_147_483_647);
  });
});

describe("copyTextField", () => {
  it("escapes what COPY's text format would read as a separator, an end of line or an escape", () => {
    expect(copyTextField("c-1")).toBe("c-1");
    expect(copyTextField("a\tb\nc\rd\\e")).toBe("a\\tb\\nc\\rd\\\\e");
    // Only a bare \N is null in the text format; the escaped backslash keeps this text.
    expect(copyTextField("\\N")).toBe("\\\\N");
    expect(copyTextField("null")).toBe("null");
  });
});

describe("timestamptzText", () => {
  it("keeps every millisecond, and writes years past 9999 as Postgres reads them", () => {
    expect(timestamptzText(Date.UTC(2030, 0, 1, 12, 0, 0, 123))).toBe("2030-01-01T12:00:00.123Z");
    expect(timestamptzText(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(timestamptzText(Date.UTC(12345, 5, 6, 7, 8, 9, 10))).toBe("12345-06-06 07:08:09.010+00");
  });
});

describe("containerSampleLines", () => {
  it("gives one line per row, sorted by (container, ts), without duplicate keys", () => {
    const row = (containerId: string, ts: number, cpuCores = 0.5) => ({
      kind: "container" as const,
      hostId: "h",
      sample: makeContainerSample({ containerId, ts, cpuCores, memoryLimitBytes: null }),
    });
    const { lines, rowCount } = containerSampleLines([
      row("b", 2),
      row("a", 5),
      row("b", 1),
      row("a", 5, 0.9),
    ]);
    expect(rowCount).toBe(3);
    const fields = lines
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t"));
    expect(fields).toHaveLength(3);
    for (const line of fields) expect(line).toHaveLength(CONTAINER_SAMPLE_TABLE.columns.length);
    expect(fields.map((line) => line.slice(0, 4))).toEqual([
      ["a", "h", "1970-01-01T00:00:00.005Z", "0.5"],
      ["b", "h", "1970-01-01T00:00:00.001Z", "0.5"],
      ["b", "h", "1970-01-01T00:00:00.002Z", "0.5"],
    ]);
    // The first of a duplicate key wins; the database would keep the stored one anyway.
    expect(fields.map((line) => line[8])).toEqual(["\\N", "\\N", "\\N"]);
    expect(lines.endsWith("\n")).toBe(true);
  });

  it("gives nothing for no rows", () => {
    expect(containerSampleLines([])).toEqual({ lines: "", rowCount: 0 });
  });
});

describe("hostSampleLines", () => {
  it("gives one line per row", () => {
    const { lines, rowCount } = hostSampleLines([
      { kind: "host", hostId: "h2", sample: makeHostSample({ ts: 7 }) },
      { kind: "host", hostId: "h1", sample: makeHostSample({ ts: 7, cpuCount: 8 }) },
    ]);
    expect(rowCount).toBe(2);
    const fields = lines
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split("\t"));
    for (const line of fields) expect(line).toHaveLength(HOST_SAMPLE_TABLE.columns.length);
    expect(fields.map((line) => line[0])).toEqual(["h1", "h2"]);
    expect(fields.map((line) => line[3])).toEqual(["8", "4"]);
  });
});
