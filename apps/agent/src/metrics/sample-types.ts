// These mirror ZContainerSample / ZHostSample of @fleet/shared/domain/metrics
// field for field; switch to the shared types once that module lands.

export type TContainerSample = {
  containerId: string;
  /** Milliseconds since the epoch. */
  ts: number;
  /** CPU cores used on average since the previous sample of this container (0 on the first). */
  cpuCores: number;
  cpuUsageNs: number;
  cpuPeriods: number;
  cpuThrottledPeriods: number;
  cpuThrottledNs: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  memoryLimitBytes: number | null;
  memoryFailcnt: number;
  oomKills: number;
  pidsCurrent: number;
  pidsLimit: number | null;
  netRxBytes: number;
  netTxBytes: number;
  netRxPackets: number;
  netTxPackets: number;
  blkReadBytes: number;
  blkWriteBytes: number;
};

export type THostSample = {
  ts: number;
  /** CPU cores busy on average since the previous host sample (0 on the first). */
  cpuCores: number;
  cpuCount: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  memoryUsedBytes: number;
  load1: number;
  load5: number;
  load15: number;
  diskTotalBytes: number;
  diskFreeBytes: number;
  containers: number;
};
