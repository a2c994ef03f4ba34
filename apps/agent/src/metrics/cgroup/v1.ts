import { parseFlatKeyed, readCgroupFiles, toCounter, toLimit } from "./cgroup-files";
import type { TCgroupLimits, TCgroupStats } from "./cgroup-stats";
import { workingSetBytes } from "./cgroup-stats";
import type { TCgroupV1Dirs } from "./paths";

// Byte counters by I/O scheduler, in the order runc prefers them: CFQ (kernels
// before 5.0), BFQ, then the throttling layer, which counts every bio but only
// (since Linux 6.9) on devices where some cgroup has a throttle rule.
const BLKIO_BYTES_FILES = [
  "blkio.io_service_bytes_recursive",
  "blkio.bfq.io_service_bytes_recursive",
  "blkio.throttle.io_service_bytes_recursive",
] as const;

/** Sums the Read and Write lines (`MAJ:MIN Read N`) over all devices; null if there are none. */
export function parseBlkioServiceBytes(text: string | null): { read: number; write: number } | null {
  if (text === null) return null;
  let read = 0;
  let write = 0;
  let devices = 0;
  for (const line of text.split("\n")) {
    const [device, op, value] = line.trim().split(/\s+/);
    if (device === undefined || value === undefined || !device.includes(":")) continue;
    devices += 1;
    if (op === "Read") read += toCounter(value);
    else if (op === "Write") write += toCounter(value);
  }
  return devices === 0 ? null : { read, write };
}

export async function readCgroupStats(cgroup: TCgroupV1Dirs): Promise<TCgroupStats> {
  const { dirs } = cgroup;
  const [cpuacct, cpu, memory, pids, blkio] = await Promise.all([
    readCgroupFiles(dirs.cpuacct, ["cpuacct.usage"]),
    readCgroupFiles(dirs.cpu, ["cpu.stat"]),
    readCgroupFiles(dirs.memory, [
      "memory.usage_in_bytes",
      "memory.stat",
      "memory.limit_in_bytes",
      "memory.failcnt",
      "memory.memsw.failcnt",
      "memory.oom_control",
    ]),
    readCgroupFiles(dirs.pids, ["pids.current", "pids.max"]),
    readCgroupFiles(dirs.blkio, BLKIO_BYTES_FILES),
  ]);
  const cpuStat = parseFlatKeyed(cpu["cpu.stat"]);
  const memoryStat = parseFlatKeyed(memory["memory.stat"]);
  const oomControl = parseFlatKeyed(memory["memory.oom_control"]);
  const memoryUsageBytes = toCounter(memory["memory.usage_in_bytes"]);
  const io = BLKIO_BYTES_FILES.map((name) => parseBlkioServiceBytes(blkio[name])).find(
    (bytes) => bytes !== null,
  );
  return {
    cpuUsageNs: toCounter(cpuacct["cpuacct.usage"]),
    cpuPeriods: toCounter(cpuStat.get("nr_periods")),
    cpuThrottledPeriods: toCounter(cpuStat.get("nr_throttled")),
    cpuThrottledNs: toCounter(cpuStat.get("throttled_time")),
    memoryUsageBytes,
    // total_ counts the whole subtree, as usage_in_bytes does under use_hierarchy.
    memoryWorkingSetBytes: workingSetBytes(
      memoryUsageBytes,
      toCounter(memoryStat.get("total_inactive_file")),
    ),
    memoryLimitBytes: toLimit(memory["memory.limit_in_bytes"]),
    // A charge that fails stops at the first counter over its limit, memory+swap before
    // memory: with MemorySwap = Memory, as the engines set it, the hits land in memsw.
    // (Linux 6.18 counts neither in that case, although it OOM-kills: oomKills is the
    // signal to trust.)
    memoryFailcnt: toCounter(memory["memory.failcnt"]) + toCounter(memory["memory.memsw.failcnt"]),
    // oom_kill appeared in memory.oom_control in Linux 4.13; older kernels → 0.
    oomKills: toCounter(oomControl.get("oom_kill")),
    pidsCurrent: toCounter(pids["pids.current"]),
    pidsLimit: toLimit(pids["pids.max"]),
    blkReadBytes: io?.read ?? 0,
    blkWriteBytes: io?.write ?? 0,
  };
}

export async function readCgroupLimits(cgroup: TCgroupV1Dirs): Promise<TCgroupLimits> {
  const { dirs } = cgroup;
  const [cpu, memory, pids] = await Promise.all([
    readCgroupFiles(dirs.cpu, ["cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares"]),
    readCgroupFiles(dirs.memory, ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]),
    readCgroupFiles(dirs.pids, ["pids.max"]),
  ]);
  return {
    memoryLimitBytes: toLimit(memory["memory.limit_in_bytes"]),
    // Present only when the kernel accounts swap (swapaccount=1).
    memorySwapLimitBytes: toLimit(memory["memory.memsw.limit_in_bytes"]),
    cpuQuotaUs: toLimit(cpu["cpu.cfs_quota_us"]),
    cpuPeriodUs: toCounter(cpu["cpu.cfs_period_us"]),
    cpuShares: cpu["cpu.shares"] === null ? null : toCounter(cpu["cpu.shares"]),
    cpuWeight: null,
    pidsLimit: toLimit(pids["pids.max"]),
  };
}
