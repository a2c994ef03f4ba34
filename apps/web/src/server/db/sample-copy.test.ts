import { describe, expect, it } from "vitest";
import {
  COPY_FIELD_BYTES,
  COPY_ROW_BYTES,
  CopyRowEncoder,
  copyBinaryData,
  copyTextBytes,
} from "./sample-copy";
import { decodeCopyBinary, timestamptzMs } from "./testing/copy-binary-decoder";

/** Plenty of room for a few fields. */
const ROOM = 1024;

describe("CopyRowEncoder", () => {
  it("writes each field as its length and big-endian bytes, nulls as -1, and the trailer", () => {
    const out = new CopyRowEncoder();
    out.begin(ROOM);
    out.row(6);
    out.text("tab\there \\N ünï");
    out.null();
    out.int4(-7);
    out.int8(2 ** 40 + 3);
    out.float8(0.25);
    out.timestamptz(Date.UTC(2030, 0, 1, 12, 0, 0, 123));
    const first = out.end();
    out.begin(ROOM);
    out.row(1);
    out.text("");
    const rows = decodeCopyBinary(copyBinaryData([first, out.end()]));
    expect(rows).toHaveLength(2);
    const [text, empty, int4, int8, float8, ts] = rows[0] ?? [];
    expect(text?.toString("utf8")).toBe("tab\there \\N ünï");
    expect(empty).toBeNull();
    expect(int4?.readInt32BE(0)).toBe(-7);
    expect(int8?.readBigInt64BE(0)).toBe(2n ** 40n + 3n);
    expect(float8?.readDoubleBE(0)).toBe(0.25);
    expect(timestamptzMs(ts ?? null)).toBe(Date.UTC(2030, 0, 1, 12, 0, 0, 123));
    expect(rows[1]?.[0]?.length).toBe(0);
  });

  it("keeps integers exact on both sides of 2^53 and clamps bigints to int8", () => {
    const out = new CopyRowEncoder();
    out.begin(ROOM);
    out.row(5);
    out.int8(-1);
    out.int8(Number.MAX_SAFE_INTEGER);
    out.int8(2n ** 60n);
    out.int8(2n ** 70n);
    out.int8(-(2n ** 70n));
    const fields = decodeCopyBinary(copyBinaryData([out.end()]))[0] ?? [];
    expect(fields.map((field) => field?.readBigInt64BE(0))).toEqual([
      -1n,
      BigInt(Number.MAX_SAFE_INTEGER),
      2n ** 60n,
      2n ** 63n - 1n,
      -(2n ** 63n),
    ]);
  });

  it("writes times before 2000 and far beyond 2255 (past 2^53 microseconds) exactly", () => {
    const out = new CopyRowEncoder();
    out.begin(ROOM);
    const times = [0, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(12345, 5, 6, 7, 8, 9, 10)];
    out.row(times.length);
    for (const ms of times) out.timestamptz(ms);
    const fields = decodeCopyBinary(copyBinaryData([out.end()]))[0] ?? [];
    expect(fields.map(timestamptzMs)).toEqual(times);
  });

  it("carves pieces out of a slab, starts another when one is full, and keeps pieces apart", () => {
    const out = new CopyRowEncoder(256);
    const long = "x".repeat(100);
    const rowBytes = COPY_ROW_BYTES + copyTextBytes(long) + COPY_FIELD_BYTES.int4;
    const pieces = Array.from({ length: 20 }, (_, i) => {
      out.begin(rowBytes);
      out.row(2);
      out.text(long);
      out.int4(i);
      return out.end();
    });
    const rows = decodeCopyBinary(copyBinaryData(pieces));
    expect(rows.map((fields) => fields[1]?.readInt32BE(0))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(rows.every((fields) => fields[0]?.toString() === long)).toBe(true);
    // A piece larger than a slab gets a slab of its own.
    out.begin(10_000);
    out.row(1);
    out.text("y".repeat(3000));
    expect(decodeCopyBinary(copyBinaryData([out.end()]))[0]?.[0]?.length).toBe(3000);
  });

  it("refuses to write past the room reserved for a piece", () => {
    const out = new CopyRowEncoder();
    out.begin(COPY_ROW_BYTES + COPY_FIELD_BYTES.int4);
    out.row(2);
    out.int4(1);
    expect(() => out.int4(2)).toThrow(/outgrew/);
  });

  it("makes an empty COPY of no pieces", () => {
    expect(decodeCopyBinary(copyBinaryData([]))).toEqual([]);
  });
});
