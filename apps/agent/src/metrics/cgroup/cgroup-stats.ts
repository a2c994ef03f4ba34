/** One reading of a cgroup's cumulative counters and current gauges. */
export type TCgroupStats = {
  cpuUsageNs: number;
  cpuPeriods: number;
  cpuThrottledPeriods: number;
  cpuThrottledNs: number;
  memoryUsageBytes: number;
  /** Usage minus inactive file cache, floored at 0: what cAdvisor and the kubelet call the working set. */
  memoryWorkingSetBytes: number;
  memoryLimitBytes: number | null;
  /** Times a charge hit the limit (v1 memory.failcnt + memory.memsw.failcnt, v2 the "max" event). */
  memoryFailcnt: number;
  oomKills: number;
  pidsCurrent: number;
  pidsLimit: number | null;
  blkReadBytes: number;
  blkWriteBytes: number;
};

/** The limits the kernel enforces on a cgroup; null means none. */
export type TCgroupLimits = {
  memoryLimitBytes: number | null;
  /**
   * Memory plus swap, as Docker's `MemorySwap` means it: v1 memory.memsw.limit_in_bytes
   * as is, v2 memory.max + memory.swap.max (v2 limits swap alone).
   */
  memorySwapLimitBytes: number | null;
  cpuQuotaUs: number | null;
  /** CFS period; 0 when the cpu controller is not available. */
  cpuPeriodUs: number;
  /** v1 cpu.shares (null on v2). */
  cpuShares: number | null;
  /** v2 cpu.weight (null on v1). */
  cpuWeight: number | null;
  pidsLimit: number | null;
};

export function workingSetBytes(usageBytes: number, inactiveFileBytes: number): number {
  return Math.max(0, usageBytes - inactiveFileBytes);
}
