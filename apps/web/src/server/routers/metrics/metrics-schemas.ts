// Inputs and outputs of the metrics procedures. The output schemas mirror the
// metrics service's types (checked by `satisfies`), so a field added there and
// forgotten here fails the typecheck instead of silently being stripped.
import { ZContainerSample, ZHostSample } from "@fleet/shared/domain/metrics";
import { z } from "zod";
import type { LiveMetrics } from "../../events/event-bus";
import type { ContainerMetricsPoint, MetricsSeries } from "../../services/metrics/query-container-metrics";
import type { FleetMetricsPoint } from "../../services/metrics/query-fleet-metrics";
import type {
  FleetHostSummary,
  FleetSummary,
  FleetTotals,
  THostMachineFigures,
} from "../../services/metrics/query-fleet-summary";
import type { HostMetricsPoint } from "../../services/metrics/query-host-metrics";
import { METRICS_RANGES } from "../../services/metrics/resolution";
import { ZRowId } from "../common-schemas";

/** The ranges the dashboard offers; the resolution follows from them (≤ 2 h raw, ≤ 3 d minutes, else hours). */
export const ZMetricsRange = z.enum(Object.keys(METRICS_RANGES) as [keyof typeof METRICS_RANGES]);

const ZRatio = z.number().nullable();

export const ZContainerMetricsPoint = z.object({
  t: z.number(),
  samples: z.int(),
  cpuCores: z.number(),
  cpuCoresMax: z.number(),
  memoryUsageBytes: z.number(),
  memoryUsageBytesMax: z.number(),
  memoryWorkingSetBytes: z.number(),
  memoryWorkingSetBytesMax: z.number(),
  memoryLimitBytes: z.number().nullable(),
  pidsCurrent: z.number(),
  cpuThrottledPeriods: z.number(),
  memoryFailcnt: z.number(),
  oomKills: z.number(),
  netRxBytesPerSec: z.number().nullable(),
  netTxBytesPerSec: z.number().nullable(),
  blkReadBytesPerSec: z.number().nullable(),
  blkWriteBytesPerSec: z.number().nullable(),
}) satisfies z.ZodType<ContainerMetricsPoint>;

export const ZHostMetricsPoint = z.object({
  t: z.number(),
  samples: z.int(),
  cpuCores: z.number(),
  cpuCoresMax: z.number(),
  cpuCount: z.number(),
  memoryUsedBytes: z.number(),
  memoryUsedBytesMax: z.number(),
  memoryAvailableBytesMin: z.number(),
  memoryTotalBytes: z.number(),
  load1: z.number(),
  load1Max: z.number(),
  load5: z.number(),
  load15: z.number(),
  diskTotalBytes: z.number(),
  diskFreeBytesMin: z.number(),
  containers: z.number(),
  containersMax: z.number(),
}) satisfies z.ZodType<HostMetricsPoint>;

export const ZFleetMetricsPoint = z.object({
  t: z.number(),
  hosts: z.int(),
  cpuCores: z.number(),
  cpuCount: z.number(),
  memoryUsedBytes: z.number(),
  memoryTotalBytes: z.number(),
  containers: z.number(),
}) satisfies z.ZodType<FleetMetricsPoint>;

function ZMetricsSeries<P extends z.ZodType>(point: P) {
  return z.object({
    resolution: z.enum(["raw", "minute", "hour"]),
    /** Point spacing for rollups; null for raw samples (the agents' interval). */
    stepMs: z.number().nullable(),
    from: z.number(),
    to: z.number(),
    points: z.array(point),
  });
}

export const ZContainerMetricsSeries = ZMetricsSeries(ZContainerMetricsPoint) satisfies z.ZodType<
  MetricsSeries<ContainerMetricsPoint>
>;
export const ZHostMetricsSeries = ZMetricsSeries(ZHostMetricsPoint) satisfies z.ZodType<
  MetricsSeries<HostMetricsPoint>
>;
export const ZFleetMetricsSeries = ZMetricsSeries(ZFleetMetricsPoint) satisfies z.ZodType<
  MetricsSeries<FleetMetricsPoint>
>;

export const ZHostMachineFigures = z.object({
  ts: z.number(),
  cpuCores: z.number(),
  cpuCount: z.number(),
  memoryUsedBytes: z.number(),
  memoryTotalBytes: z.number(),
  load1: z.number(),
}) satisfies z.ZodType<THostMachineFigures>;

export const ZFleetHostSummary = z.object({
  hostId: z.string(),
  name: z.string(),
  status: z.enum(["online", "offline"]),
  draining: z.boolean(),
  cpuAllocatableMillis: z.number(),
  cpuAllocatedMillis: z.number(),
  cpuUsedCores: z.number(),
  memoryAllocatableBytes: z.number(),
  memoryAllocatedBytes: z.number(),
  memoryUsedBytes: z.number(),
  containers: z.int(),
  containersRunning: z.int(),
  containersReporting: z.int(),
  cpuAllocatedRatio: ZRatio,
  cpuUsedRatio: ZRatio,
  memoryAllocatedRatio: ZRatio,
  memoryUsedRatio: ZRatio,
  machine: ZHostMachineFigures.nullable(),
}) satisfies z.ZodType<FleetHostSummary>;

export const ZFleetTotals = z.object({
  hosts: z.int(),
  hostsOnline: z.int(),
  hostsDraining: z.int(),
  containers: z.int(),
  containersRunning: z.int(),
  containersPerHost: z.number().nullable(),
  cpuAllocatableMillis: z.number(),
  cpuAllocatedMillis: z.number(),
  cpuUsedCores: z.number(),
  memoryAllocatableBytes: z.number(),
  memoryAllocatedBytes: z.number(),
  memoryUsedBytes: z.number(),
  cpuAllocatedRatio: ZRatio,
  cpuUsedRatio: ZRatio,
  memoryAllocatedRatio: ZRatio,
  memoryUsedRatio: ZRatio,
}) satisfies z.ZodType<FleetTotals>;

export const ZFleetSummary = z.object({
  at: z.number(),
  hosts: z.array(ZFleetHostSummary),
  totals: ZFleetTotals,
}) satisfies z.ZodType<FleetSummary>;

export const ZLatestContainerSample = z.object({ hostId: z.string(), sample: ZContainerSample });
export const ZLatestHostSample = z.object({ hostId: z.string(), sample: ZHostSample });

export const ZLiveMetrics = z.object({
  seq: z.int(),
  at: z.number(),
  containers: z.array(ZLatestContainerSample),
  hosts: z.array(ZLatestHostSample),
}) satisfies z.ZodType<LiveMetrics>;

export { ZRowId };
