// One host's series over a time range (host figures from /proc, as the agent
// reports them), at the resolution the range calls for (resolution.ts).
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { checkRange, type MetricsSeries } from "./query-container-metrics";
import { pickResolution, resolutionStepMs } from "./resolution";

export interface HostMetricsPoint {
  /** Sample time, or bucket start for rollups (epoch ms). */
  t: number;
  samples: number;
  cpuCores: number;
  cpuCoresMax: number;
  cpuCount: number;
  memoryUsedBytes: number;
  memoryUsedBytesMax: number;
  memoryAvailableBytesMin: number;
  memoryTotalBytes: number;
  load1: number;
  load1Max: number;
  load5: number;
  load15: number;
  diskTotalBytes: number;
  diskFreeBytesMin: number;
  containers: number;
  containersMax: number;
}

export async function metricsForHost(options: {
  db: PrismaClient;
  hostId: string;
  from: number;
  to: number;
}): Promise<MetricsSeries<HostMetricsPoint>> {
  const { db, hostId, from, to } = options;
  checkRange(options);
  const host = await db.host.findUnique({ where: { id: hostId }, select: { id: true } });
  if (!host) throw new AppError("NOT_FOUND", `there is no host ${hostId}`);
  const resolution = pickResolution(from, to);
  const range = { gte: new Date(from), lt: new Date(to) };

  if (resolution === "raw") {
    const rows = await db.hostSample.findMany({
      where: { hostId, ts: range },
      orderBy: { ts: "asc" },
      select: {
        ts: true,
        cpuCores: true,
        cpuCount: true,
        memoryTotalBytes: true,
        memoryAvailableBytes: true,
        memoryUsedBytes: true,
        load1: true,
        load5: true,
        load15: true,
        diskTotalBytes: true,
        diskFreeBytes: true,
        containers: true,
      },
    });
    const points = rows.map((row) => ({
      t: row.ts.getTime(),
      samples: 1,
      cpuCores: row.cpuCores,
      cpuCoresMax: row.cpuCores,
      cpuCount: row.cpuCount,
      memoryUsedBytes: Number(row.memoryUsedBytes),
      memoryUsedBytesMax: Number(row.memoryUsedBytes),
      memoryAvailableBytesMin: Number(row.memoryAvailableBytes),
      memoryTotalBytes: Number(row.memoryTotalBytes),
      load1: row.load1,
      load1Max: row.load1,
      load5: row.load5,
      load15: row.load15,
      diskTotalBytes: Number(row.diskTotalBytes),
      diskFreeBytesMin: Number(row.diskFreeBytes),
      containers: row.containers,
      containersMax: row.containers,
    }));
    return { resolution, stepMs: null, from, to, points };
  }

  const where = { hostId, bucket: range };
  const select = {
    bucket: true,
    sampleCount: true,
    cpuCoresAvg: true,
    cpuCoresMax: true,
    cpuCount: true,
    memoryTotalBytes: true,
    memoryUsedBytesAvg: true,
    memoryUsedBytesMax: true,
    memoryAvailableBytesMin: true,
    load1Avg: true,
    load1Max: true,
    load5Avg: true,
    load15Avg: true,
    diskTotalBytes: true,
    diskFreeBytesMin: true,
    containersAvg: true,
    containersMax: true,
  } as const;
  const rows =
    resolution === "minute"
      ? await db.hostSampleMinute.findMany({ where, select, orderBy: { bucket: "asc" } })
      : await db.hostSampleHour.findMany({ where, select, orderBy: { bucket: "asc" } });
  const points = rows.map((row) => ({
    t: row.bucket.getTime(),
    samples: row.sampleCount,
    cpuCores: row.cpuCoresAvg,
    cpuCoresMax: row.cpuCoresMax,
    cpuCount: row.cpuCount,
    memoryUsedBytes: Number(row.memoryUsedBytesAvg),
    memoryUsedBytesMax: Number(row.memoryUsedBytesMax),
    memoryAvailableBytesMin: Number(row.memoryAvailableBytesMin),
    memoryTotalBytes: Number(row.memoryTotalBytes),
    load1: row.load1Avg,
    load1Max: row.load1Max,
    load5: row.load5Avg,
    load15: row.load15Avg,
    diskTotalBytes: Number(row.diskTotalBytes),
    diskFreeBytesMin: Number(row.diskFreeBytesMin),
    containers: row.containersAvg,
    containersMax: row.containersMax,
  }));
  return { resolution, stepMs: resolutionStepMs(resolution), from, to, points };
}
