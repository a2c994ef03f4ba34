import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, it } from "vitest";
import { CopyRowEncoder, copyBinaryData } from "../../db/sample-copy";
import { decodeCopyBinary, timestamptzMs } from "../../db/testing/copy-binary-decoder";
import {
  CONTAINER_SAMPLE_TABLE,
  encodeContainerSamples,
  encodeHostSample,
  HOST_SAMPLE_TABLE,
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

const rowsOf = (encoded: { data: Buffer }) => decodeCopyBinary(copyBinaryData([encoded.data]));

describe("encodeContainerSamples", () => {
  it("gives one row per sample in the order received, every column, and the distinct times", () => {
    const out = new CopyRowEncoder();
    const sample = (containerId: string, ts: number, cpuCores = 0.5) =>
      makeContainerSample({
        containerId,
        ts,
        cpuCores,
        memoryLimitBytes: null,
        cpuThrottledNs: 2 ** 60,
        pidsLimit: 7,
      });
    const encoded = encodeContainerSamples(out, "h", [
      sample("b", 2),
      sample("a", 5),
      sample("b", 1),
      sample("a", 5, 0.9),
    ]);
    expect(encoded).toMatchObject({ kind: "container", hostId: "h", rows: 4, times: [2, 5, 1] });
    const rows = rowsOf(encoded);
    for (const fields of rows) expect(fields).toHaveLength(CONTAINER_SAMPLE_TABLE.columns.length);
    expect(
      rows.map((fields) => [
        fields[0]?.toString(),
        fields[1]?.toString(),
        timestamptzMs(fields[2] ?? null),
        fields[3]?.readDoubleBE(0),
      ]),
    ).toEqual([
      ["b", "h", 2, 0.5],
      ["a", "h", 5, 0.5],
      ["b", "h", 1, 0.5],
      ["a", "h", 5, 0.9],
    ]);
    expect(rows.map((fields) => fields[8])).toEqual([null, null, null, null]);
    expect(rows[0]?.[5]?.readBigInt64BE(0)).toBe(2n ** 60n);
    expect(rows[0]?.[12]?.readInt32BE(0)).toBe(7);
  });

  it("reserves room enough for ids of any length and alphabet", () => {
    const out = new CopyRowEncoder(512);
    const ids = ["c".repeat(300), "ünïcødé-😀".repeat(20), ""];
    const encoded = encodeContainerSamples(
      out,
      "höst",
      ids.map((containerId, ts) => makeContainerSample({ containerId, ts })),
    );
    expect(rowsOf(encoded).map((fields) => fields[0]?.toString())).toEqual(ids);
  });
});

describe("encodeHostSample", () => {
  it("gives one row with every column", () => {
    const out = new CopyRowEncoder();
    const encoded = encodeHostSample(out, "h1", makeHostSample({ ts: 7, cpuCount: 8, load5: Number.NaN }));
    expect(encoded).toMatchObject({ kind: "host", hostId: "h1", rows: 1, times: [7] });
    const [fields] = rowsOf(encoded);
    expect(fields).toHaveLength(HOST_SAMPLE_TABLE.columns.length);
    expect(fields?.[0]?.toString()).toBe("h1");
    expect(fields?.[3]?.readInt32BE(0)).toBe(8);
    // Not a NaN in the charts.
    expect(fields?.[8]?.readDoubleBE(0)).toBe(0);
  });
});
