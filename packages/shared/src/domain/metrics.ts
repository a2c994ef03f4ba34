// One metrics sample per container and per host, as the agent reads them
// from cgroup files and /proc. Counters are cumulative since the container
// (or host) started; the central derives rates from consecutive samples.
// Browser-safe.
import { z } from "zod";
import { ZContainerId, ZEpochMs } from "./ids";

// Not z.int(): cumulative counters such as cpuUsageNs pass 2^53 on a busy
// long-lived container, where JSON numbers are still finite but not exact.
const ZCounter = z.number().nonnegative();
const ZGauge = z.number().nonnegative();

export const ZContainerSample = z.object({
  containerId: ZContainerId,
  ts: ZEpochMs,
  /** Average cores used since the previous sample. */
  cpuCores: ZGauge,
  cpuUsageNs: ZCounter,
  cpuPeriods: ZCounter,
  cpuThrottledPeriods: ZCounter,
  cpuThrottledNs: ZCounter,
  memoryUsageBytes: ZGauge,
  /** Usage minus inactive file cache, as the OOM killer and `docker stats` see it. */
  memoryWorkingSetBytes: ZGauge,
  memoryLimitBytes: ZGauge.nullable(),
  memoryFailcnt: ZCounter,
  oomKills: ZCounter,
  pidsCurrent: z.int().nonnegative(),
  pidsLimit: z.int().nonnegative().nullable(),
  netRxBytes: ZCounter,
  netTxBytes: ZCounter,
  netRxPackets: ZCounter,
  netTxPackets: ZCounter,
  blkReadBytes: ZCounter,
  blkWriteBytes: ZCounter,
});
export type TContainerSample = z.infer<typeof ZContainerSample>;

export const ZHostSample = z.object({
  ts: ZEpochMs,
  /** Cores in use, averaged since the previous sample. */
  cpuCores: ZGauge,
  cpuCount: z.int().min(1),
  memoryTotalBytes: ZGauge,
  memoryAvailableBytes: ZGauge,
  memoryUsedBytes: ZGauge,
  load1: ZGauge,
  load5: ZGauge,
  load15: ZGauge,
  diskTotalBytes: ZGauge,
  diskFreeBytes: ZGauge,
  /** Managed containers on the host. */
  containers: z.int().nonnegative(),
});
export type THostSample = z.infer<typeof ZHostSample>;
