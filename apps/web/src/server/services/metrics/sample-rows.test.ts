import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, it } from "vitest";
import {
  arrayLiteral,
  CONTAINER_SAMPLE_COLUMNS,
  containerSampleColumns,
  HOST_SAMPLE_COLUMNS,
  hostSampleColumns,
  toInt4,
  toInt8Text,
  unnestInsertSql,
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

describe("arrayLiteral", () => {
  it("leaves plain elements bare and quotes the rest, including an id spelled null", () => {
    expect(arrayLiteral(["c-1", 0.25, null, "12", "null", "a b", 'x"y\\z', ""])).toBe(
      '{c-1,0.25,NULL,12,"null","a b","x\\"y\\\\z",""}',
    );
    expect(arrayLiteral([])).toBe("{}");
  });
});

describe("containerSampleColumns", () => {
  it("gives one array per column, sorted by (container, ts), without duplicate keys", () => {
    const row = (containerId: string, ts: number, cpuCores = 0.5) => ({
      kind: "container" as const,
      hostId: "h",
      sample: makeContainerSample({ containerId, ts, cpuCores, memoryLimitBytes: null }),
    });
    const { columns, rowCount } = containerSampleColumns([
      row("b", 2),
      row("a", 5),
      row("b", 1),
      row("a", 5, 0.9),
    ]);
    expect(rowCount).toBe(3);
    expect(columns).toHaveLength(CONTAINER_SAMPLE_COLUMNS.length);
    expect(columns.slice(0, 4)).toEqual(["{a,b,b}", "{h,h,h}", "{5,1,2}", "{0.5,0.5,0.5}"]);
    // The first of a duplicate key wins; the database would keep the stored one anyway.
    expect(columns[8]).toBe("{NULL,NULL,NULL}");
  });
});

describe("hostSampleColumns", () => {
  it("gives one array per column", () => {
    const { columns, rowCount } = hostSampleColumns([
      { kind: "host", hostId: "h2", sample: makeHostSample({ ts: 7 }) },
      { kind: "host", hostId: "h1", sample: makeHostSample({ ts: 7, cpuCount: 8 }) },
    ]);
    expect(rowCount).toBe(2);
    expect(columns).toHaveLength(HOST_SAMPLE_COLUMNS.length);
    expect(columns[0]).toBe("{h1,h2}");
    expect(columns[3]).toBe("{8,4}");
  });
});

describe("unnestInsertSql", () => {
  it("builds one statement with one typed array parameter per column, times from epoch milliseconds", () => {
    expect(
      unnestInsertSql("t", [
        ["a", "text"],
        ["ts", "ts"],
      ]),
    ).toBe(
      `INSERT INTO "t" ("a", "ts") SELECT c1, timestamptz 'epoch' + c2 * interval '1 millisecond' ` +
        "FROM unnest($1::text[], $2::int8[]) AS u(c1, c2) ON CONFLICT DO NOTHING",
    );
  });
});
