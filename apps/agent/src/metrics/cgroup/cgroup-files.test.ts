import { describe, expect, it } from "vitest";
import { parseFlatKeyed, toCounter, toLimit } from "./cgroup-files";

describe("toLimit", () => {
  it("reads every spelling of 'no limit' as null", () => {
    expect(toLimit("max\n")).toBeNull();
    expect(toLimit("-1\n")).toBeNull();
    // PAGE_COUNTER_MAX * 4096: v1 memory.limit_in_bytes without a limit on x86_64.
    expect(toLimit("9223372036854771712\n")).toBeNull();
    // The same on a kernel with 64 KiB pages (arm64, ppc64).
    expect(toLimit("9223372036854710272\n")).toBeNull();
    expect(toLimit(null)).toBeNull();
  });

  it("keeps real limits", () => {
    expect(toLimit("67108864\n")).toBe(67108864);
    expect(toLimit("0\n")).toBe(0);
  });
});

describe("toCounter", () => {
  it("keeps counters beyond 2^53 moving, so a rate computed from two of them stays right", () => {
    // 2^54 ns is 208 days of CPU time: doubles there are 4 ns apart.
    const earlier = toCounter("18014398509481985");
    const later = toCounter("18014398510481985");
    expect(earlier).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    expect(later - earlier).toBe(1_000_000);
    expect(toCounter("779565886\n")).toBe(779565886);
    expect(toCounter(undefined)).toBe(0);
    expect(toCounter("garbage")).toBe(0);
  });
});

describe("parseFlatKeyed", () => {
  it("reads key value lines", () => {
    const values = parseFlatKeyed("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
    expect(values.get("oom_kill")).toBe("1");
    expect(values.size).toBe(3);
  });
});
