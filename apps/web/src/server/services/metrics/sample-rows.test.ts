import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, it } from "vitest";
import { decodeCopyBinary, timestamptzMs } from "../../db/testing/copy-binary-decoder";
import {
  CONTAINER_SAMPLE_TABLE,
  containerSampleCopy,
  HOST_SAMPLE_TABLE,
  hostSampleCopy,
  toInt4,
  toInt8,
} from "./sample-rows";

describe("toInt8", () => {
  it.each([
    [0, 0],
    [42, 42],
    [41.6, 42],
    [-5, 0],
    [Number.NaN, 0],
    [Number.POSITIVE_INFINITY, 0],
    [2 ** 60, 1152921504606846976n],
    [2 ** 64, 9223372036854775807n],
  ])("%s → %s", (value, expected) => {
    expect(toInt8(value)).toBe(expected);
  });
});

describe("toInt4", () => {
  it("rounds, floors at zero and caps at the INTEGER maximum", () => {
    expect(toInt4(3.4)).toBe(3);
    expect(toInt4(-1)).toBe(0);
    expect(toInt4(2 ** 40)).toBe(2_147_483_647);
  });
});

const fieldsOf = (data: Buffer) => decodeCopyBinary(data);

describe("containerSampleCopy", () => {
  it("gives one row per sample, sorted by (container, ts), without duplicate keys", () => {
    const row = (containerId: string, ts: number, cpuCores = 0.5) => ({
      kind: "container" as const,
      hostId: "h",
      sample: makeContainerSample({
        containerId,
        ts,
        cpuCores,
        memoryLimitBytes: null,
        cpuThrottledNs: 2 ** 60,
      }),
    });
    const { data, rowCount } = containerSampleCopy([row("b", 2), row("a", 5), row("b", 1), row("a", 5, 0.9)]);
    expect(rowCount).toBe(3);
    const rows = fieldsOf(data);
    expect(rows).toHaveLength(3);
    for (const fields of rows) expect(fields).toHaveLength(CONTAINER_SAMPLE_TABLE.columns.length);
    expect(
      rows.map((fields) => [
        fields[0]?.toString(),
        fields[1]?.toString(),
        timestamptzMs(fields[2] ?? null),
        fields[3]?.readDoubleBE(0),
      ]),
    ).toEqual([
      ["a", "h", 5, 0.5],
      ["b", "h", 1, 0.5],
      ["b", "h", 2, 0.5],
    ]);
    // The first of a duplicate key wins; the database would keep the stored one anyway.
    expect(rows.map((fields) => fields[8])).toEqual([null, null, null]);
    expect(rows[0]?.[5]?.readBigInt64BE(0)).toBe(2n ** 60n);
  });

  it("gives an empty COPY for no rows", () => {
    const { data, rowCount } = containerSampleCopy([]);
    expect(rowCount).toBe(0);
    expect(fieldsOf(data)).toEqual([]);
  });
});

describe("hostSampleCopy", () => {
  it("gives one row per sample", () => {
    const { data, rowCount } = hostSampleCopy([
      { kind: "host", hostId: "h2", sample: makeHostSample({ ts: 7 }) },
      { kind: "host", hostId: "h1", sample: makeHostSample({ ts: 7, cpuCount: 8 }) },
    ]);
    expect(rowCount).toBe(2);
    const rows = fieldsOf(data);
    for (const fields of rows) expect(fields).toHaveLength(HOST_SAMPLE_TABLE.columns.length);
    expect(rows.map((fields) => fields[0]?.toString())).toEqual(["h1", "h2"]);
    expect(rows.map((fields) => fields[3]?.readInt32BE(0))).toEqual([8, 4]);
  });
});
