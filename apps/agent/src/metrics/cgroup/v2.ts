import { parseFlatKeyed, readCgroupFiles, toCounter, toLimit } from "./cgroup-files";
import type { TCgroupLimits, TCgroupStats } from "./cgroup-stats";
import { workingSetBytes } from "./cgroup-stats";
import type { TCgroupV2Dirs } from "./paths";

/** Sums rbytes and wbytes over the device lines of io.stat (`MAJ:MIN rbytes=N wbytes=N ...`). */
export function parseIoStat(text: string | null): { read: number; write: number } {
  let read = 0;
  let write = 0;
  if (text === null) return { read, write };
  for (const line of text.split("\n")) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split("=");
      if (key === "rbytes") read += toCounter(value);
      else if (key === "wbytes") write += toCounter(value);
    }
  }
  return { read, write };
}

/** cpu.max: `$MAX $PERIOD`, where $MAX is "max" when there is no quota. */
export function parseCpuMax(text: string | null): { quotaUs: number | null; periodUs: number } {
  if (text === null) return { quotaUs: null, periodUs: 0 };
  const [quota, period] = text.trim().split(/\s+/);
  return { quotaUs: toLimit(quota), periodUs: toCounter(period) };
}

export async function readCgroupStats(cgroup: TCgroupV2Dirs): Promise<TCgroupStats> {
  const files = await readCgroupFiles(cgroup.dir, [
    "cpu.stat",
    "memory.current",
    "memory.stat",
    "memory.max",
    "memory.events",
    "pids.current",
    "pids.max",
    "io.stat",
  ]);
  const cpuStat = parseFlatKeyed(files["cpu.stat"]);
  const memoryStat = parseFlatKeyed(files["memory.stat"]);
  const memoryEvents = parseFlatKeyed(files["memory.events"]);
  const memoryUsageBytes = toCounter(files["memory.current"]);
  const io = parseIoStat(files["io.stat"]);
  return {
    // usage_usec is always there; the nr_* lines only with the cpu controller enabled.
    cpuUsageNs: toCounter(cpuStat.get("usage_usec")) * 1000,
    cpuPeriods: toCounter(cpuStat.get("nr_periods")),
    cpuThrottledPeriods: toCounter(cpuStat.get("nr_throttled")),
    cpuThrottledNs: toCounter(cpuStat.get("throttled_usec")) * 1000,
    memoryUsageBytes,
    memoryWorkingSetBytes: workingSetBytes(memoryUsageBytes, toCounter(memoryStat.get("inactive_file"))),
    memoryLimitBytes: toLimit(files["memory.max"]),
    memoryFailcnt: toCounter(memoryEvents.get("max")),
    oomKills: toCounter(memoryEvents.get("oom_kill")),
    pidsCurrent: toCounter(files["pids.current"]),
    pidsLimit: toLimit(files["pids.max"]),
    blkReadBytes: io.read,
    blkWriteBytes: io.write,
  };
}

export async function readCgroupLimits(cgroup: TCgroupV2Dirs): Promise<TCgroupLimits> {
  const files = await readCgroupFiles(cgroup.dir, [
    "memory.max",
    "memory.swap.max",
    "cpu.max",
    "cpu.weight",
    "pids.max",
  ]);
  const memoryLimitBytes = toLimit(files["memory.max"]);
  // No memory.swap.max means swap is not charged to cgroups at all, so it is unlimited.
  const swapLimitBytes = toLimit(files["memory.swap.max"]);
  const cpuMax = parseCpuMax(files["cpu.max"]);
  return {
    memoryLimitBytes,
    memorySwapLimitBytes:
      memoryLimitBytes === null || swapLimitBytes === null ? null : memoryLimitBytes + swapLimitBytes,
    cpuQuotaUs: cpuMax.quotaUs,
    cpuPeriodUs: cpuMax.periodUs,
    cpuShares: null,
    cpuWeight: files["cpu.weight"] === null ? null : toCounter(files["cpu.weight"]),
    pidsLimit: toLimit(files["pids.max"]),
  };
}
