import { describe, expect, it } from "vitest";
import { decodeKeysetCursor, encodeKeysetCursor, keysetAfter, type TKeyColumn } from "./keyset-page";

const COLUMNS: TKeyColumn[] = [
  { field: "status", kind: "enum", order: ["online", "offline"] },
  { field: "memory", kind: "bigint" },
  { field: "createdAt", kind: "date" },
  { field: "name", kind: "string" },
];
const ROW = {
  status: "online",
  memory: 2n ** 40n,
  createdAt: new Date("2026-12-07T12:00:00.123Z"),
  name: "web-1",
};
const forge = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

describe("keyset cursors", () => {
  it("round-trip every kind of key", () => {
    const cursor = encodeKeysetCursor("status", "desc", COLUMNS, ROW);
    expect(decodeKeysetCursor(cursor, "status", "desc", COLUMNS)).toEqual([
      "online",
      2n ** 40n,
      ROW.createdAt,
      "web-1",
    ]);
  });

  it("refuse another sort's or direction's cursor and forged values", () => {
    const cursor = encodeKeysetCursor("status", "desc", COLUMNS, ROW);
    const refusals = [
      () => decodeKeysetCursor(cursor, "name", "desc", COLUMNS),
      () => decodeKeysetCursor(cursor, "status", "asc", COLUMNS),
      () => decodeKeysetCursor("not base64 json", "status", "desc", COLUMNS),
      () =>
        decodeKeysetCursor(
          forge({ s: "status", d: "desc", k: ["draining", "1", ROW.createdAt, "a"] }),
          "status",
          "desc",
          COLUMNS,
        ),
      () =>
        decodeKeysetCursor(
          forge({ s: "status", d: "desc", k: ["online", "1; DROP", ROW.createdAt, "a"] }),
          "status",
          "desc",
          COLUMNS,
        ),
      () =>
        decodeKeysetCursor(
          forge({ s: "status", d: "desc", k: ["online", "1", "yesterday", "a"] }),
          "status",
          "desc",
          COLUMNS,
        ),
      () =>
        decodeKeysetCursor(
          forge({ s: "status", d: "desc", k: ["online", "1", ROW.createdAt] }),
          "status",
          "desc",
          COLUMNS,
        ),
      () =>
        decodeKeysetCursor(
          forge({ s: "status", d: "desc", k: ["online", "1", ROW.createdAt, { $gt: "" }] }),
          "status",
          "desc",
          COLUMNS,
        ),
    ];
    for (const refusal of refusals) expect(refusal).toThrow("cursor: not a cursor this API handed out");
  });

  it("compare enums by the database's order, in the page's direction", () => {
    const after = keysetAfter(COLUMNS.slice(0, 1).concat(COLUMNS.slice(3)), ["online", "web-1"], "asc");
    expect(after).toEqual({
      OR: [{ status: { in: ["offline"] } }, { status: "online", name: { gt: "web-1" } }],
    });
    const before = keysetAfter(COLUMNS.slice(0, 1).concat(COLUMNS.slice(3)), ["online", "web-1"], "desc");
    expect(before).toEqual({ OR: [{ status: { in: [] } }, { status: "online", name: { lt: "web-1" } }] });
  });
});
