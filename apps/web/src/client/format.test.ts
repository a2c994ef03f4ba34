import { describe, expect, test } from "vitest";
import { formatDigest, shortDigest } from "./format";

const HEX = "0123456789abcdef".repeat(4);

describe("digests", () => {
  test("the short form keeps the algorithm and 12 hex digits", () => {
    expect(formatDigest(`sha256:${HEX}`)).toBe("sha256:0123456789ab");
    expect(formatDigest(`registry.local:5000/team/app@sha256:${HEX}`)).toBe("sha256:0123456789ab");
    expect(shortDigest(`sha256:${HEX}`)).toBe("0123456789ab");
  });
  test("no digest is a dash", () => {
    expect(formatDigest(null)).toBe("—");
    expect(formatDigest("")).toBe("—");
    expect(shortDigest(undefined)).toBe("—");
  });
});
