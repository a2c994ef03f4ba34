import { describe, expect, it } from "vitest";
import { ExponentialBackoff } from "./backoff";

describe("ExponentialBackoff", () => {
  it("doubles without jitter up to the cap and stays there", () => {
    const backoff = new ExponentialBackoff({ initialMs: 1000, maxMs: 10_000, jitter: "none" });
    const delays = Array.from({ length: 7 }, () => backoff.nextDelayMs());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(backoff.attempts).toBe(7);
  });

  it("never overflows after many attempts", () => {
    const backoff = new ExponentialBackoff({ initialMs: 500, maxMs: 30_000, jitter: "none" });
    for (let i = 0; i < 5000; i++) backoff.nextDelayMs();
    expect(backoff.nextDelayMs()).toBe(30_000);
  });

  it("starts over after a reset", () => {
    const backoff = new ExponentialBackoff({ initialMs: 1000, maxMs: 60_000, jitter: "none" });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.nextDelayMs()).toBe(1000);
  });

  it("with full jitter stays within [0, ceiling] and scales with the random draw", () => {
    const draws = [0, 0.5, 0.999, 0.25, 1 - Number.EPSILON];
    let i = 0;
    const backoff = new ExponentialBackoff(
      { initialMs: 500, maxMs: 30_000, jitter: "full" },
      () => draws[i++] ?? 0,
    );
    const delays = draws.map(() => backoff.nextDelayMs());
    expect(delays).toEqual([0, 500, Math.floor(0.999 * 2000), 1000, Math.floor((1 - Number.EPSILON) * 8000)]);
  });
});
