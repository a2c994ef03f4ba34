import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CgroupGoneError } from "../errors";
import { v2CgroupDirs, v2Limited, v2Unlimited } from "../testing/fixtures";
import { parseCpuMax, parseIoStat, readCgroupLimits, readCgroupStats } from "./v2";

const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function copyOf(engineId: string): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), "fleet-v2-"));
  scratch.push(copy);
  await cp(v2CgroupDirs(engineId).dir, copy, { recursive: true });
  return copy;
}

describe("cgroup v2 readCgroupStats", () => {
  it("reads a container with a CPU quota that was throttled and hit its memory limit", async () => {
    await expect(readCgroupStats(v2CgroupDirs(v2Limited.engineId))).resolves.toEqual({
      cpuUsageNs: 15340489000,
      cpuPeriods: 119,
      cpuThrottledPeriods: 100,
      cpuThrottledNs: 24997431000,
      memoryUsageBytes: 38608896,
      // inactive_file exceeds usage in this memory.stat: the working set floors at 0.
      memoryWorkingSetBytes: 0,
      memoryLimitBytes: 67108864,
      memoryFailcnt: 4454,
      oomKills: 0,
      pidsCurrent: 12,
      pidsLimit: 50,
      blkReadBytes: 6901432320 + 2702336 + 6911345664,
      blkWriteBytes: 14245535744 + 0 + 14245536256,
    });
  });

  it("reads a container without limits", async () => {
    await expect(readCgroupStats(v2CgroupDirs(v2Unlimited.engineId))).resolves.toEqual({
      cpuUsageNs: 8992210000,
      cpuPeriods: 0,
      cpuThrottledPeriods: 0,
      cpuThrottledNs: 0,
      memoryUsageBytes: 139350016,
      memoryWorkingSetBytes: 139350016 - 51507200,
      memoryLimitBytes: null,
      memoryFailcnt: 0,
      oomKills: 0,
      pidsCurrent: 4,
      pidsLimit: null,
      blkReadBytes: 1459200 + 90430464,
      blkWriteBytes: 314773504 + 299008000,
    });
  });

  it("counts OOM kills from memory.events", async () => {
    const copy = await copyOf(v2Limited.engineId);
    await writeFile(
      join(copy, "memory.events"),
      "low 0\nhigh 0\nmax 4455\noom 1\noom_kill 1\noom_group_kill 0\n",
    );
    const stats = await readCgroupStats({ version: 2, dir: copy });
    expect(stats.oomKills).toBe(1);
    expect(stats.memoryFailcnt).toBe(4455);
  });

  it("reads zeros where a controller is not enabled", async () => {
    const copy = await copyOf(v2Limited.engineId);
    // Without the cpu, pids and io controllers only the always-present cpu.stat lines remain.
    await writeFile(
      join(copy, "cpu.stat"),
      "usage_usec 180167638\nuser_usec 107787851\nsystem_usec 72379786\n",
    );
    await Promise.all(["pids.current", "pids.max", "io.stat"].map((name) => rm(join(copy, name))));
    const stats = await readCgroupStats({ version: 2, dir: copy });
    expect(stats).toMatchObject({
      cpuUsageNs: 180167638000,
      cpuPeriods: 0,
      pidsCurrent: 0,
      pidsLimit: null,
      blkReadBytes: 0,
      blkWriteBytes: 0,
    });
  });

  it("throws CgroupGoneError when the container's cgroup was removed", async () => {
    const copy = await copyOf(v2Limited.engineId);
    await rm(copy, { recursive: true });
    await expect(readCgroupStats({ version: 2, dir: copy })).rejects.toBeInstanceOf(CgroupGoneError);
  });
});

describe("cgroup v2 readCgroupLimits", () => {
  it("reads the quota, memory limit and pids limit", async () => {
    await expect(readCgroupLimits(v2CgroupDirs(v2Limited.engineId))).resolves.toEqual({
      memoryLimitBytes: 67108864,
      // memory.swap.max is "max": swap is not limited, so neither is memory + swap.
      memorySwapLimitBytes: null,
      cpuQuotaUs: 150000,
      cpuPeriodUs: 100000,
      cpuShares: null,
      cpuWeight: 100,
      pidsLimit: 50,
    });
  });

  it("adds the swap limit to the memory limit, as Docker's MemorySwap counts", async () => {
    const copy = await copyOf(v2Limited.engineId);
    await writeFile(join(copy, "memory.swap.max"), "0\n");
    const limits = await readCgroupLimits({ version: 2, dir: copy });
    expect(limits.memorySwapLimitBytes).toBe(67108864);
  });

  it("reads 'max' as no limit", async () => {
    await expect(readCgroupLimits(v2CgroupDirs(v2Unlimited.engineId))).resolves.toEqual({
      memoryLimitBytes: null,
      memorySwapLimitBytes: null,
      cpuQuotaUs: null,
      cpuPeriodUs: 100000,
      cpuShares: null,
      cpuWeight: 100,
      pidsLimit: null,
    });
  });
});

describe("v2 parsers", () => {
  it("parses cpu.max with and without a quota", () => {
    expect(parseCpuMax("50000 100000\n")).toEqual({ quotaUs: 50000, periodUs: 100000 });
    expect(parseCpuMax("max 100000\n")).toEqual({ quotaUs: null, periodUs: 100000 });
  });

  it("reads an empty io.stat (no I/O charged yet) as zero", () => {
    expect(parseIoStat("")).toEqual({ read: 0, write: 0 });
  });
});
