import { describe, expect, it } from "vitest";
import { CopyBinaryEncoder } from "./sample-copy";
import { decodeCopyBinary, timestamptzMs } from "./testing/copy-binary-decoder";

describe("CopyBinaryEncoder", () => {
  it("writes each field as its length and big-endian bytes, nulls as -1, and the trailer", () => {
    const out = new CopyBinaryEncoder(16);
    out.row(6);
    out.text("tab\there \\N ünï");
    out.null();
    out.int4(-7);
    out.int8(2 ** 40 + 3);
    out.float8(0.25);
    out.timestamptz(Date.UTC(2030, 0, 1, 12, 0, 0, 123));
    out.row(1);
    out.text("");
    const rows = decodeCopyBinary(out.finish());
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
    const out = new CopyBinaryEncoder();
    out.row(5);
    out.int8(-1);
    out.int8(Number.MAX_SAFE_INTEGER);
    out.int8(2n ** 60n);
    out.int8(2n ** 70n);
    out.int8(-(2n ** 70n));
    const fields = decodeCopyBinary(out.finish())[0] ?? [];
    expect(fields.map((field) => field?.readBigInt64BE(0))).toEqual([
      -1n,
      BigInt(Number.MAX_SAFE_INTEGER),
      2n ** 60n,
      2n ** 63n - 1n,
      -(2n ** 63n),
    ]);
  });

  it("writes times before 2000 and far beyond 2255 (past 2^53 microseconds) exactly", () => {
    const out = new CopyBinaryEncoder();
    const times = [0, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(12345, 5, 6, 7, 8, 9, 10)];
    out.row(times.length);
    for (const ms of times) out.timestamptz(ms);
    const fields = decodeCopyBinary(out.finish())[0] ?? [];
    expect(fields.map(timestamptzMs)).toEqual(times);
  });

  it("grows past its first guess", () => {
    const out = new CopyBinaryEncoder(64);
    const long = "x".repeat(10_000);
    for (let i = 0; i < 100; i++) {
      out.row(2);
      out.text(long);
      out.int4(i);
    }
    const rows = decodeCopyBinary(out.finish());
    expect(rows).toHaveLength(100);
    expect(rows[99]?.[1]?.readInt32BE(0)).toBe(99);
    expect(rows[50]?.[0]?.toString()).toBe(long);
  });
});
