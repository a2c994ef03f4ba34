import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  HostCpuSampler,
  HostSampler,
  parseLoadavg,
  parseMeminfo,
  parseProcStatCpu,
  readDiskUsage,
} from "./host";
import { fixturesRoot, hostLaterRoot, v1Root } from "./testing/fixtures";

const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function procCopy(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "fleet-host-"));
  scratch.push(root);
  await mkdir(join(root, "proc"));
  for (const name of ["stat", "meminfo", "loadavg"]) {
    await copyFile(join(v1Root, "proc", name), join(root, "proc", name));
  }
  return root;
}

describe("parseProcStatCpu", () => {
  it("counts online CPUs and splits busy from idle ticks", () => {
    expect(
      parseProcStatCpu("cpu  17470 36 9771 66170 819 0 380 2583 0 0\ncpu0 1 0 0 0\ncpu1 1 0 0 0\n"),
    ).toEqual({
      busyTicks: 17470 + 36 + 9771 + 380,
      totalTicks: 17470 + 36 + 9771 + 380 + 66170 + 819 + 2583,
      cpuCount: 2,
    });
  });
});

describe("HostCpuSampler", () => {
  it("reports 0 cores first, then the cores busy between two real readings a second apart", async () => {
    const root = await procCopy();
    const sampler = new HostCpuSampler({ rootfs: root });
    await expect(sampler.sample()).resolves.toEqual({ cpuCores: 0, cpuCount: 2 });
    await copyFile(join(hostLaterRoot, "proc/stat"), join(root, "proc/stat"));
    const later = await sampler.sample();
    // busy +103 user +10 system; total adds +84 idle and +6 steal: 113 of 203 ticks on 2 CPUs.
    expect(later.cpuCores).toBeCloseTo((113 / 203) * 2, 12);
    expect(later.cpuCount).toBe(2);
  });
});

describe("host files", () => {
  it("reads memory as free(1) does", () => {
    expect(
      parseMeminfo("MemTotal:       24684092 kB\nMemFree:        22152352 kB\nMemAvailable:   23951324 kB\n"),
    ).toEqual({
      memoryTotalBytes: 24684092 * 1024,
      memoryAvailableBytes: 23951324 * 1024,
      memoryUsedBytes: (24684092 - 23951324) * 1024,
    });
  });

  it("estimates available memory on kernels without MemAvailable", () => {
    const memory = parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n");
    expect(memory.memoryAvailableBytes).toBe(400 * 1024);
  });

  it("reads the load averages", () => {
    expect(parseLoadavg("1.54 0.81 0.40 5/206 14233\n")).toEqual({ load1: 1.54, load5: 0.81, load15: 0.4 });
  });

  it("reads the size of a real filesystem", async () => {
    const disk = await readDiskUsage(fixturesRoot);
    expect(disk.diskTotalBytes).toBeGreaterThan(0);
    expect(disk.diskFreeBytes).toBeGreaterThan(0);
    expect(disk.diskFreeBytes).toBeLessThanOrEqual(disk.diskTotalBytes);
  });
});

describe("HostSampler", () => {
  it("puts the host figures of one moment into one sample", async () => {
    const root = await procCopy();
    const sampler = new HostSampler({ rootfs: root, diskPath: root, nowMs: () => 1_700_000_000_000 });
    const sample = await sampler.sample(7);
    expect(sample).toMatchObject({
      ts: 1_700_000_000_000,
      cpuCores: 0,
      cpuCount: 2,
      memoryTotalBytes: 24684092 * 1024,
      memoryAvailableBytes: 23951324 * 1024,
      load1: 1.54,
      load5: 0.81,
      load15: 0.4,
      containers: 7,
    });
    expect(sample.diskTotalBytes).toBeGreaterThan(0);
  });
});
