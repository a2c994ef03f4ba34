import { describe, expect, it } from "vitest";
import { TokenBucket, WindowCounter } from "./flood-guards";

describe("TokenBucket", () => {
  it("allows a burst, then refills at the steady rate", () => {
    const bucket = new TokenBucket(10, 5, 0);
    const burst = Array.from({ length: 7 }, () => bucket.tryTake(0));
    expect(burst).toEqual([true, true, true, true, true, false, false]);

    // 10 per second: one token every 100 ms.
    expect(bucket.tryTake(99)).toBe(false);
    expect(bucket.tryTake(150)).toBe(true);
    expect(bucket.tryTake(150)).toBe(false);
  });

  it("never holds more than the burst, however long it idles", () => {
    const bucket = new TokenBucket(1000, 3, 0);
    const taken = Array.from({ length: 5 }, () => bucket.tryTake(3_600_000)).filter(Boolean);
    expect(taken).toHaveLength(3);
  });

  it("ignores a clock that steps backwards", () => {
    const bucket = new TokenBucket(1, 1, 1000);
    expect(bucket.tryTake(1000)).toBe(true);
    expect(bucket.tryTake(0)).toBe(false);
    expect(bucket.tryTake(500)).toBe(false);
  });
});

describe("WindowCounter", () => {
  it("trips on the hit past the limit within the window", () => {
    const counter = new WindowCounter(3, 1000);
    expect([0, 100, 200].map((t) => counter.hit(t))).toEqual([false, false, false]);
    expect(counter.hit(300)).toBe(true);
  });

  it("forgets hits older than the window", () => {
    const counter = new WindowCounter(2, 1000);
    counter.hit(0);
    counter.hit(10);
    expect(counter.hit(1000)).toBe(false);
    // By 1011 the hits at 0 and 10 have left the window.
    expect(counter.hit(1011)).toBe(false);
    expect(counter.hit(1012)).toBe(true);
  });
});
