// One container's series over a time range, at the resolution the range calls
// for (resolution.ts). Gauges come as average and maximum per point (the same
// number at raw resolution), counters as the increase within the point, byte
// counters as per-second rates since the previous point.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { type MetricsResolution, pickResolution, resolutionStepMs } from "./resolution";
import { counterIncrease, counterRate, toNumber } from "./series-math";

export interface ContainerMetricsPoint {
  /** Sample time, or bucket start for rollups (epoch ms). */
  t: number;
  samples: number;
  cpuCores: number;
  cpuCoresMax: number;
  memoryUsageBytes: number;
  memoryUsageBytesMax: number;
  memoryWorkingSetBytes: number;
  memoryWorkingSetBytesMax: number;
  memoryLimitBytes: number | null;
  pidsCurrent: number;
  cpuThrottledPeriods: number;
  memoryFailcnt: number;
  oomKills: number;
  netRxBytesPerSec: number | null;
  netTxBytesPerSec: number | null;
  blkReadBytesPerSec: number | null;
  blkWriteBytesPerSec: number | null;
}

export interface MetricsSeries<Point> {
  resolution: MetricsResolution;
  /** Spacing of the points: the bucket for rollups, null for raw samples (the agents' interval). */
  stepMs: number | null;
  from: number;
  to: number;
  points: Point[];
}

export interface MetricsRangeInput {
  from: number;
  to: number;
}

export function checkRange({ from, to }: MetricsRangeInput): void {
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    throw new AppError("BAD_REQUEST", "the time range must end after it starts");
  }
}

interface CounterReadings {
  t: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
}

type RateFields = Pick<
  ContainerMetricsPoint,
  "netRxBytesPerSec" | "netTxBytesPerSec" | "blkReadBytesPerSec" | "blkWriteBytesPerSec"
>;

/** Per-second rates of the byte counters between consecutive readings (null for the first). */
function byteRates(readings: readonly CounterReadings[]): RateFields[] {
  return readings.map((current, i) => {
    const previous = readings[i - 1];
    const rate = (key: keyof Omit<CounterReadings, "t">) =>
      counterRate(previous && { t: previous.t, value: previous[key] }, { t: current.t, value: current[key] });
    return {
      netRxBytesPerSec: rate("netRx"),
      netTxBytesPerSec: rate("netTx"),
      blkReadBytesPerSec: rate("blkRead"),
      blkWriteBytesPerSec: rate("blkWrite"),
    };
  });
}

function withRates(
  rows: readonly (Omit<ContainerMetricsPoint, keyof RateFields> & { counters: CounterReadings })[],
): ContainerMetricsPoint[] {
  const rates = byteRates(rows.map((row) => row.counters));
  return rows.map(({ counters: _counters, ...point }, i) => ({ ...point, ...(rates[i] as RateFields) }));
}

export async function metricsForContainer(options: {
  db: PrismaClient;
  containerId: string;
  from: number;
  to: number;
}): Promise<MetricsSeries<ContainerMetricsPoint>> {
  const { db, containerId, from, to } = options;
  checkRange(options);
  const container = await db.container.findUnique({ where: { id: containerId }, select: { id: true } });
  if (!container) throw new AppError("NOT_FOUND", `there is no container ${containerId}`);
  const resolution = pickResolution(from, to);
  const range = { gte: new Date(from), lt: new Date(to) };

  if (resolution === "raw") {
    const rows = await db.containerSample.findMany({
      where: { containerId, ts: range },
      orderBy: { ts: "asc" },
      select: {
        ts: true,
        cpuCores: true,
        memoryUsageBytes: true,
        memoryWorkingSetBytes: true,
        memoryLimitBytes: true,
        pidsCurrent: true,
        cpuThrottledPeriods: true,
        memoryFailcnt: true,
        oomKills: true,
        netRxBytes: true,
        netTxBytes: true,
        blkReadBytes: true,
        blkWriteBytes: true,
      },
    });
    const points = rows.map((row, i) => {
      const previous = rows[i - 1];
      const t = row.ts.getTime();
      const increase = (pick: (r: typeof row) => bigint | number) =>
        previous ? counterIncrease(Number(pick(previous)), Number(pick(row))) : 0;
      return {
        t,
        samples: 1,
        cpuCores: row.cpuCores,
        cpuCoresMax: row.cpuCores,
        memoryUsageBytes: Number(row.memoryUsageBytes),
        memoryUsageBytesMax: Number(row.memoryUsageBytes),
        memoryWorkingSetBytes: Number(row.memoryWorkingSetBytes),
        memoryWorkingSetBytesMax: Number(row.memoryWorkingSetBytes),
        memoryLimitBytes: toNumber(row.memoryLimitBytes),
        pidsCurrent: row.pidsCurrent,
        cpuThrottledPeriods: increase((r) => r.cpuThrottledPeriods),
        memoryFailcnt: increase((r) => r.memoryFailcnt),
        oomKills: increase((r) => r.oomKills),
        counters: {
          t,
          netRx: Number(row.netRxBytes),
          netTx: Number(row.netTxBytes),
          blkRead: Number(row.blkReadBytes),
          blkWrite: Number(row.blkWriteBytes),
        },
      };
    });
    return { resolution, stepMs: null, from, to, points: withRates(points) };
  }

  const where = { containerId, bucket: range };
  const select = {
    bucket: true,
    sampleCount: true,
    cpuCoresAvg: true,
    cpuCoresMax: true,
    memoryUsageBytesAvg: true,
    memoryUsageBytesMax: true,
    memoryWorkingSetBytesAvg: true,
    memoryWorkingSetBytesMax: true,
    memoryLimitBytesMax: true,
    pidsCurrentMax: true,
    cpuThrottledPeriodsDelta: true,
    memoryFailcntDelta: true,
    oomKillsDelta: true,
    netRxBytesLast: true,
    netTxBytesLast: true,
    blkReadBytesLast: true,
    blkWriteBytesLast: true,
  } as const;
  const rows =
    resolution === "minute"
      ? await db.containerSampleMinute.findMany({ where, select, orderBy: { bucket: "asc" } })
      : await db.containerSampleHour.findMany({ where, select, orderBy: { bucket: "asc" } });
  const points = rows.map((row) => {
    const t = row.bucket.getTime();
    return {
      t,
      samples: row.sampleCount,
      cpuCores: row.cpuCoresAvg,
      cpuCoresMax: row.cpuCoresMax,
      memoryUsageBytes: Number(row.memoryUsageBytesAvg),
      memoryUsageBytesMax: Number(row.memoryUsageBytesMax),
      memoryWorkingSetBytes: Number(row.memoryWorkingSetBytesAvg),
      memoryWorkingSetBytesMax: Number(row.memoryWorkingSetBytesMax),
      memoryLimitBytes: toNumber(row.memoryLimitBytesMax),
      pidsCurrent: row.pidsCurrentMax,
      cpuThrottledPeriods: Number(row.cpuThrottledPeriodsDelta),
      memoryFailcnt: Number(row.memoryFailcntDelta),
      oomKills: row.oomKillsDelta,
      counters: {
        t,
        netRx: Number(row.netRxBytesLast),
        netTx: Number(row.netTxBytesLast),
        blkRead: Number(row.blkReadBytesLast),
        blkWrite: Number(row.blkWriteBytesLast),
      },
    };
  });
  return { resolution, stepMs: resolutionStepMs(resolution), from, to, points: withRates(points) };
}
