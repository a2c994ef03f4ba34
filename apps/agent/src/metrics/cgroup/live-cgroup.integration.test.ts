import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { ContainerSampler } from "../container-sampler";
import { HandMadeCgroup, probeV1Cgroups } from "../testing/hand-made-cgroup";
import { resolveCgroupDirs } from "./paths";
import { readCgroupLimits } from "./read-cgroup";

// A real v1 cgroup with the limits an engine would set, a busy loop in it, and
// the real readers against the real kernel files.
const probe = await probeV1Cgroups();
const skipReason = probe.writable ? "" : ` (skipped: ${probe.reason})`;

describe("a hand-made cgroup v1 with limits", () => {
  let cgroup: HandMadeCgroup | undefined;
  let busyLoop: ChildProcess | undefined;

  afterAll(async () => {
    busyLoop?.kill("SIGKILL");
    await cgroup?.remove();
  });

  it.skipIf(!probe.writable)(
    `measures 0.2 CPU of a busy loop held to cpu.cfs_quota_us 20000, then sees the cgroup go${skipReason}`,
    async () => {
      if (!probe.writable) return;
      cgroup = await HandMadeCgroup.create(probe.mountPoints, `fleet-metrics-live-${process.pid}`, {
        memoryBytes: 64 * 1024 * 1024,
        cpuQuotaUs: 20_000,
        // Ten times the default weight, so that on a busy host the loop still gets
        // the whole quota and the measurement shows the quota, not the contention.
        cpuShares: 10_240,
        pidsMax: 50,
      });
      // v1 charges memory where it was first touched: exec once inside so the loop's pages count here.
      busyLoop = spawn("sh", ["-c", 'sleep 0.2; exec sh -c "while :; do :; done"'], { stdio: "ignore" });
      const pid = busyLoop.pid!;
      await cgroup.addProcess(pid);

      await expect(resolveCgroupDirs(pid)).resolves.toEqual(cgroup.cgroup);
      await expect(readCgroupLimits(cgroup.cgroup)).resolves.toEqual({
        memoryLimitBytes: 67108864,
        memorySwapLimitBytes: 67108864,
        cpuQuotaUs: 20000,
        cpuPeriodUs: 100000,
        cpuShares: 10240,
        cpuWeight: null,
        pidsLimit: 50,
      });

      const sampler = new ContainerSampler();
      const target = { containerId: "live", pid };
      await sleep(400);
      const first = await sampler.sample([target]);
      expect(first.samples[0]?.cpuCores).toBe(0);
      await sleep(2000);
      const second = await sampler.sample([target]);
      const sample = second.samples[0]!;
      console.log(JSON.stringify({ metric: "live-cgroup-cpu-cores", quota: 0.2, measured: sample.cpuCores }));
      expect(sample.cpuCores).toBeGreaterThan(0.2 - 0.06);
      expect(sample.cpuCores).toBeLessThan(0.2 + 0.06);
      expect(sample.cpuThrottledPeriods).toBeGreaterThan(0);
      expect(sample.cpuThrottledPeriods).toBeGreaterThan(first.samples[0]!.cpuThrottledPeriods);
      expect(sample).toMatchObject({ memoryLimitBytes: 67108864, pidsLimit: 50, pidsCurrent: 1 });
      expect(sample.memoryUsageBytes).toBeGreaterThan(0);

      busyLoop.kill("SIGKILL");
      await cgroup.remove();
      const after = await sampler.sample([target]);
      expect(after.samples).toEqual([]);
      expect(after.gone.map((entry) => entry.containerId)).toEqual(["live"]);
    },
  );
});
