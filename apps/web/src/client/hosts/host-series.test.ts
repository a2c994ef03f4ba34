import { makeHostSample } from "@fleet/shared/protocol/test-factories";
import { describe, expect, test } from "vitest";
import { buildHostSeries, type THostHistory } from "./host-series";

const MINUTE = 60_000;

function history(ts: number[], stepMs: number | null = null): THostHistory {
  return {
    resolution: stepMs === null ? "raw" : "minute",
    stepMs,
    from: 0,
    to: ts.at(-1) ?? 0,
    points: ts.map((t) => ({
      t,
      samples: 1,
      cpuCores: t / 1000,
      cpuCoresMax: t / 1000,
      cpuCount: 4,
      memoryUsedBytes: 100,
      memoryUsedBytesMax: 100,
      memoryAvailableBytesMin: 0,
      memoryTotalBytes: 1000,
      load1: 1,
      load1Max: 1,
      load5: 0.5,
      load15: 0.25,
      diskTotalBytes: 0,
      diskFreeBytesMin: 0,
      containers: 0,
      containersMax: 0,
    })),
  };
}

describe("buildHostSeries", () => {
  test("appends only live samples newer than the history", () => {
    const series = buildHostSeries({
      history: history([10_000, 15_000]),
      live: [makeHostSample({ ts: 15_000, cpuCores: 9 }), makeHostSample({ ts: 20_000, cpuCores: 2 })],
      from: 20_000 - 15 * MINUTE,
    });
    expect(series.cpuCores).toEqual([
      { t: 10_000, v: 10 },
      { t: 15_000, v: 15 },
      { t: 20_000, v: 2 },
    ]);
    expect(series.load15.map((point) => point.v)).toEqual([0.25, 0.25, makeHostSample().load15]);
  });

  test("live samples alone draw a chart before any history exists", () => {
    const series = buildHostSeries({
      history: undefined,
      live: [makeHostSample({ ts: 1000 }), makeHostSample({ ts: 6000 })],
      from: 0,
    });
    expect(series.memoryUsed).toHaveLength(2);
  });

  test("drops what slid out of the window and breaks the line over a silence", () => {
    const start = 100 * MINUTE;
    const series = buildHostSeries({
      history: history([start - 20 * MINUTE, start, start + 5000, start + 5 * MINUTE]),
      live: [],
      from: start + 5 * MINUTE - 15 * MINUTE,
    });
    expect(series.cpuCores.map((point) => point.t)).toEqual([
      start,
      start + 5000,
      start + 5001,
      start + 5 * MINUTE,
    ]);
    expect(series.cpuCores[2]?.v).toBeNull();
  });

  test("rolled-up history tolerates gaps up to three steps", () => {
    const series = buildHostSeries({
      history: history([0, MINUTE, 3 * MINUTE], MINUTE),
      live: [],
      from: 0,
    });
    expect(series.cpuCores.every((point) => point.v !== null)).toBe(true);
  });

  test("a sample stamped in the future does not push the real ones out of the window", () => {
    const now = 1_000 * MINUTE;
    const series = buildHostSeries({
      history: history([now - 2 * MINUTE, now - MINUTE]),
      live: [makeHostSample({ ts: now + 365 * 24 * 60 * MINUTE })],
      from: now - 15 * MINUTE,
    });
    expect(
      series.cpuCores
        .filter((point) => point.v !== null)
        .map((point) => point.t)
        .slice(0, 2),
    ).toEqual([now - 2 * MINUTE, now - MINUTE]);
  });
});
