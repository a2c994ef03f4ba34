import { describe, expect, it } from "vitest";
import { postgresSafe, postgresSafeString } from "./postgres-safe-text";

describe("postgresSafe", () => {
  it("replaces NUL characters and unpaired surrogates, keeping pairs", () => {
    expect(postgresSafeString("a\u0000b")).toBe("a\ufffdb");
    expect(postgresSafeString("x\ud800y")).toBe("x\ufffdy");
    expect(postgresSafeString("\udc00")).toBe("\ufffd");
    expect(postgresSafeString("ok 💥")).toBe("ok 💥");
  });

  it("gives the same answer call after call (no regex state between calls)", () => {
    const results = Array.from({ length: 5 }, () => postgresSafeString("\u0000\u0000"));
    expect(new Set(results)).toEqual(new Set(["\ufffd\ufffd"]));
  });

  it("cleans strings and keys at any depth and returns untouched values as they are", () => {
    const clean = { type: "event", data: { a: [1, "b"] } };
    expect(postgresSafe(clean)).toBe(clean);
    expect(postgresSafe({ message: "m\u0000", data: { "k\u0000": ["\ud801"] }, n: 1 })).toEqual({
      message: "m\ufffd",
      data: { "k\ufffd": ["\ufffd"] },
      n: 1,
    });
  });
});
