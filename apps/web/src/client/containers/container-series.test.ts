import type { TContainerSample } from "@fleet/shared/domain/metrics";
import { describe, expect, it } from "vitest";
import { buildContainerSeries, constantAcross, type TContainerHistoryPoint } from "./container-series";

function historyPoint(t: number, overrides: Partial<TContainerHistoryPoint> = {}): TContainerHistoryPoint {
  return {
    t,
    samples: 1,
    cpuCores: 0.1,
    cpuCoresMax: 0.1,
    memoryUsageBytes: 2000,
    memoryUsageBytesMax: 2000,
    memoryWorkingSetBytes: 1000,
    memoryWorkingSetBytesMax: 1000,
    memoryLimitBytes: 4096,
    pidsCurrent: 3,
    cpuThrottledPeriods: 0,
    memoryFailcnt: 0,
    oomKills: 0,
    netRxBytesPerSec: 10,
    netTxBytesPerSec: 5,
    blkReadBytesPerSec: null,
    blkWriteBytesPerSec: null,
    ...overrides,
  };
}

function sample(ts: number, overrides: Partial<TContainerSample> = {}): TContainerSample {
  return {
    containerId: "c1",
    ts,
    cpuCores: 0.2,
    cpuUsageNs: 0,
    cpuPeriods: 0,
    cpuThrottledPeriods: 0,
    cpuThrottledNs: 0,
    memoryUsageBytes: 3000,
    memoryWorkingSetBytes: 1500,
    memoryLimitBytes: 4096,
    memoryFailcnt: 0,
    oomKills: 0,
    pidsCurrent: 4,
    pidsLimit: null,
    netRxBytes: 0,
    netTxBytes: 0,
    netRxPackets: 0,
    netTxPackets: 0,
    blkReadBytes: 0,
    blkWriteBytes: 0,
    ...overrides,
  };
}

describe("container chart series", () => {
  it("appends live samples newer than the history and derives rates from consecutive counters", () => {
    const series = buildContainerSeries({
      history: [historyPoint(1000), historyPoint(6000)],
      live: [
        sample(6000, { netRxBytes: 100, cpuThrottledPeriods: 2 }),
        sample(11_000, { netRxBytes: 600, netTxBytes: 50, cpuThrottledPeriods: 5 }),
        sample(16_000, { netRxBytes: 100, cpuCores: 0.3 }),
      ],
      from: 0,
    });
    expect(series.cpuCores.map((p) => p.t)).toEqual([1000, 6000, 11_000, 16_000]);
    expect(series.cpuCores.at(-1)?.v).toBe(0.3);
    // 500 bytes in 5 s; then the counter went down (a new container): no rate.
    expect(series.netRxBytesPerSec.slice(2)).toEqual([
      { t: 11_000, v: 100 },
      { t: 16_000, v: null },
    ]);
    expect(series.netTxBytesPerSec[2]).toEqual({ t: 11_000, v: 10 });
    expect(series.cpuThrottledPeriods[2]).toEqual({ t: 11_000, v: 3 });
    expect(series.memoryLimit).toHaveLength(4);
  });

  it("drops points before the range and gives the first live sample no rate", () => {
    const series = buildContainerSeries({
      history: [historyPoint(1000), historyPoint(2000)],
      live: [sample(3000, { memoryLimitBytes: null }), sample(4000)],
      from: 1500,
    });
    expect(series.cpuCores.map((p) => p.t)).toEqual([2000, 3000, 4000]);
    expect(series.netRxBytesPerSec.map((p) => p.t)).toEqual([2000, 4000]);
    expect(series.memoryLimit.map((p) => p.t)).toEqual([2000, 4000]);
  });

  it("draws a constant limit across the points' span", () => {
    expect(constantAcross([], 1)).toEqual([]);
    expect(constantAcross([{ t: 1, v: 0 }], null)).toEqual([]);
    expect(
      constantAcross(
        [
          { t: 1, v: 0 },
          { t: 5, v: 2 },
        ],
        0.5,
      ),
    ).toEqual([
      { t: 1, v: 0.5 },
      { t: 5, v: 0.5 },
    ]);
  });
});
