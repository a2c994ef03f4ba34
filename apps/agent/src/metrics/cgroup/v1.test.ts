import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CgroupGoneError } from "../errors";
import { v1CgroupDirs } from "../testing/fixtures";
import { parseBlkioServiceBytes, readCgroupLimits, readCgroupStats } from "./v1";

const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("cgroup v1 readCgroupStats", () => {
  it("reads a throttled cgroup with limits, I/O and page cache", async () => {
    await expect(readCgroupStats(v1CgroupDirs("fleet-metrics-fixture"))).resolves.toEqual({
      cpuUsageNs: 779565886,
      cpuPeriods: 24,
      cpuThrottledPeriods: 14,
      cpuThrottledNs: 574939094,
      memoryUsageBytes: 3874816,
      // 3874816 − total_inactive_file 3145728 (the buffered 3 MiB write)
      memoryWorkingSetBytes: 729088,
      memoryLimitBytes: 67108864,
      memoryFailcnt: 0,
      oomKills: 0,
      pidsCurrent: 2,
      pidsLimit: 50,
      blkReadBytes: 4194304,
      blkWriteBytes: 4194304,
    });
  });

  it("reports the kernel's unlimited values as null", async () => {
    const stats = await readCgroupStats(v1CgroupDirs("fleet-metrics-unlimited"));
    expect(stats.memoryLimitBytes).toBeNull();
    expect(stats.pidsLimit).toBeNull();
    expect(stats.pidsCurrent).toBe(1);
    expect(stats.blkReadBytes).toBe(0);
  });

  it("reads the OOM kill and failcnt of a cgroup whose process hit its limit", async () => {
    const { dirs } = v1CgroupDirs("fleet-metrics-oom");
    // Only the memory controller was captured for this cgroup: the others count as not mounted.
    const stats = await readCgroupStats({
      version: 1,
      dirs: { cpu: null, cpuacct: null, memory: dirs.memory, pids: null, blkio: null },
    });
    expect(stats).toMatchObject({
      oomKills: 1,
      memoryFailcnt: 36,
      memoryLimitBytes: 16777216,
      cpuUsageNs: 0,
    });
    expect(stats.pidsLimit).toBeNull();
  });

  it("reads a file the kernel lacks as zero instead of failing", async () => {
    const copy = await mkdtemp(join(tmpdir(), "fleet-v1-"));
    scratch.push(copy);
    const { dirs } = v1CgroupDirs("fleet-metrics-fixture");
    await cp(dirs.memory!, copy, { recursive: true });
    await rm(join(copy, "memory.oom_control"));
    await rm(join(copy, "memory.stat"));
    const stats = await readCgroupStats({ version: 1, dirs: { ...dirs, memory: copy } });
    expect(stats.oomKills).toBe(0);
    expect(stats.memoryWorkingSetBytes).toBe(stats.memoryUsageBytes);
    expect(stats.memoryUsageBytes).toBe(3874816);
  });

  it("throws CgroupGoneError when a controller directory vanished", async () => {
    const { dirs } = v1CgroupDirs("fleet-metrics-fixture");
    const gone = { ...dirs, pids: join(tmpdir(), "fleet-no-such-cgroup") };
    await expect(readCgroupStats({ version: 1, dirs: gone })).rejects.toBeInstanceOf(CgroupGoneError);
  });
});

describe("cgroup v1 readCgroupLimits", () => {
  it("reads the limits of a 64m / 0.5 CPU / 50 pids cgroup", async () => {
    await expect(readCgroupLimits(v1CgroupDirs("fleet-metrics-fixture"))).resolves.toEqual({
      memoryLimitBytes: 67108864,
      memorySwapLimitBytes: 67108864,
      cpuQuotaUs: 50000,
      cpuPeriodUs: 100000,
      cpuShares: 1024,
      cpuWeight: null,
      pidsLimit: 50,
    });
  });

  it("reads no limits as null", async () => {
    await expect(readCgroupLimits(v1CgroupDirs("fleet-metrics-unlimited"))).resolves.toEqual({
      memoryLimitBytes: null,
      memorySwapLimitBytes: null,
      cpuQuotaUs: null,
      cpuPeriodUs: 100000,
      cpuShares: 1024,
      cpuWeight: null,
      pidsLimit: null,
    });
  });
});

describe("parseBlkioServiceBytes", () => {
  it("sums Read and Write over devices and ignores the totals", () => {
    const text =
      "8:0 Read 100\n8:0 Write 20\n8:0 Sync 120\n8:0 Total 120\n8:16 Read 1\n8:16 Write 2\nTotal 123\n";
    expect(parseBlkioServiceBytes(text)).toEqual({ read: 101, write: 22 });
  });

  it("says there is nothing when no device has a line", () => {
    expect(parseBlkioServiceBytes("Total 0\n")).toBeNull();
  });
});
