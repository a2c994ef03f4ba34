import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatBytesHuman,
  formatCpus,
  formatDuration,
  parseBytes,
  parseCpus,
  parseDuration,
  UnitError,
} from "./units";

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

describe("parseBytes", () => {
  it.each([
    ["1024", 1024],
    ["0", 0],
    ["100b", 100],
    ["100B", 100],
    ["512k", 512 * 1024],
    ["512kb", 512 * 1024],
    ["64m", 64 * MIB],
    ["64M", 64 * MIB],
    ["64mb", 64 * MIB],
    ["64MiB", 64 * MIB],
    ["64 m", 64 * MIB],
    ["1g", GIB],
    ["1.5g", 1.5 * GIB],
    ["0.5G", GIB / 2],
    ["2t", 2 * 1024 ** 4],
    ["0.3k", 307],
    [" 8m ", 8 * MIB],
  ])("%j → %d", (input, expected) => {
    expect(parseBytes(input)).toBe(expected);
  });

  it.each([
    "",
    " ",
    "64x",
    "-1",
    "-64m",
    "m",
    "1.2.3m",
    "64ib",
    "64mbb",
    "1e3",
    "0x10",
    "NaN",
    "Infinity",
    "64 mb b",
  ])("rejects %j", (input) => {
    expect(() => parseBytes(input)).toThrow(UnitError);
  });

  it("explains what is expected", () => {
    expect(() => parseBytes("64x")).toThrow(
      'invalid memory size "64x": use a number with an optional unit b, k, m, g or t',
    );
  });

  it("rejects sizes beyond the safe integer range", () => {
    expect(() => parseBytes("99999999t")).toThrow(/too large/);
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0"],
    [100, "100"],
    [1000, "1000"],
    [1024, "1k"],
    [1536, "1.5k"],
    [512 * 1024, "512k"],
    [64 * MIB, "64m"],
    [GIB, "1g"],
    [1.5 * GIB, "1.5g"],
    [1.25 * GIB, "1.25g"],
    [1280 * 1024, "1.25m"],
    [1024 ** 4 * 3, "3t"],
    [GIB + 1, String(GIB + 1)],
  ])("%d → %j", (input, expected) => {
    expect(formatBytes(input)).toBe(expected);
  });

  it.each([0, 1, 1023, 1536, 64 * MIB, 3 * GIB + 512 * MIB, 1024 ** 4 * 7, 123456789])(
    "round-trips %d through parseBytes",
    (n) => {
      expect(parseBytes(formatBytes(n))).toBe(n);
    },
  );

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects %d", (n) => {
    expect(() => formatBytes(n)).toThrow(UnitError);
  });
});

describe("formatBytesHuman", () => {
  it.each([
    [0, "0 B"],
    [512, "512 B"],
    [1024, "1 KiB"],
    [64 * MIB, "64 MiB"],
    [1.5 * GIB, "1.5 GiB"],
    [1.333 * GIB, "1.33 GiB"],
    [1024 * 1024 - 1, "1 MiB"],
    [1024 ** 5 * 2048, "2048 PiB"],
  ])("%d → %j", (input, expected) => {
    expect(formatBytesHuman(input)).toBe(expected);
  });
});

describe("parseCpus", () => {
  it.each([
    ["0.5", 500],
    ["2", 2000],
    ["500m", 500],
    ["0.001", 1],
    ["1m", 1],
    [".25", 250],
    ["1.25", 1250],
    ["64", 64000],
  ])("%j → %d millicores", (input, expected) => {
    expect(parseCpus(input)).toBe(expected);
  });

  it.each(["0", "0m", "0.0001", "0.0015", "-1", "", "abc", "NaN", "1.5m", "2 cores", "1e3"])(
    "rejects %j",
    (input) => {
      expect(() => parseCpus(input)).toThrow(UnitError);
    },
  );

  it("says what the smallest step is", () => {
    expect(() => parseCpus("0.0001")).toThrow(/0\.001/);
  });
});

describe("formatCpus", () => {
  it.each([
    [500, "0.5"],
    [2000, "2"],
    [1250, "1.25"],
    [1, "0.001"],
    [0, "0"],
  ])("%d → %j", (input, expected) => {
    expect(formatCpus(input)).toBe(expected);
  });

  it.each([1, 250, 999, 1000, 1001, 123456])("round-trips %d through parseCpus", (n) => {
    expect(parseCpus(formatCpus(n))).toBe(n);
  });

  it.each([-1, 0.5, Number.NaN])("rejects %d", (n) => {
    expect(() => formatCpus(n)).toThrow(UnitError);
  });
});

describe("parseDuration", () => {
  it.each([
    ["5s", 5000],
    ["500ms", 500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["1d", 86_400_000],
    ["1.5s", 1500],
    ["1m30s500ms", 90_500],
    ["30", 30_000],
    ["0.25", 250],
    ["0s", 0],
  ])("%j → %d ms", (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each(["", "5x", "-5s", "s", "1h 30m", "5sec", "1.2.3s", "h1"])("rejects %j", (input) => {
    expect(() => parseDuration(input)).toThrow(UnitError);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [5000, "5s"],
    [5_400_000, "1h30m"],
    [86_400_000, "1d"],
    [90_500, "1m30s500ms"],
    [93_600_000, "1d2h"],
  ])("%d → %j", (input, expected) => {
    expect(formatDuration(input)).toBe(expected);
  });

  it.each([1, 999, 60_000, 5_400_000, 123_456_789])("round-trips %d through parseDuration", (n) => {
    expect(parseDuration(formatDuration(n))).toBe(n);
  });

  it.each([-1, 1.5])("rejects %d", (n) => {
    expect(() => formatDuration(n)).toThrow(UnitError);
  });
});
