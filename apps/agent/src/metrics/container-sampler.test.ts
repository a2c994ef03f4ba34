import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TSamplerClock } from "./container-sampler";
import { ContainerSampler } from "./container-sampler";
import { v1Pid, v1Root, v2Limited, v2Root, v2Unlimited } from "./testing/fixtures";

const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function copyOfV1(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "fleet-sampler-"));
  scratch.push(root);
  await cp(v1Root, root, { recursive: true });
  return root;
}

function manualClock(): TSamplerClock & { advanceMs(ms: number): void } {
  let nowMs = 1_700_000_000_000;
  let monotonicNs = 5_000_000_000n;
  return {
    nowMs: () => nowMs,
    monotonicNs: () => monotonicNs,
    advanceMs(ms) {
      nowMs += ms;
      monotonicNs += BigInt(ms) * 1_000_000n;
    },
  };
}

const cpuacctUsage = (root: string) =>
  join(root, "sys/fs/cgroup/cpuacct/fleet-metrics-fixture/cpuacct.usage");

describe("ContainerSampler", () => {
  it("samples a container from its pid: cgroup stats plus network counters", async () => {
    const sampler = new ContainerSampler({ rootfs: v1Root, clock: manualClock() });
    const sweep = await sampler.sample([{ containerId: "ctr-1", pid: v1Pid }]);
    expect(sweep.gone).toEqual([]);
    expect(sweep.failed).toEqual([]);
    expect(sweep.samples).toEqual([
      {
        containerId: "ctr-1",
        ts: 1_700_000_000_000,
        cpuCores: 0,
        cpuUsageNs: 779565886,
        cpuPeriods: 24,
        cpuThrottledPeriods: 14,
        cpuThrottledNs: 574939094,
        memoryUsageBytes: 3874816,
        memoryWorkingSetBytes: 729088,
        memoryLimitBytes: 67108864,
        memoryFailcnt: 0,
        oomKills: 0,
        pidsCurrent: 2,
        pidsLimit: 50,
        netRxBytes: 852,
        netTxBytes: 852,
        netRxPackets: 10,
        netTxPackets: 10,
        blkReadBytes: 4194304,
        blkWriteBytes: 4194304,
      },
    ]);
  });

  it("turns the CPU counter into cores used since the previous sample", async () => {
    const root = await copyOfV1();
    const clock = manualClock();
    const sampler = new ContainerSampler({ rootfs: root, clock });
    await sampler.sample([{ containerId: "ctr-1", pid: v1Pid }]);
    clock.advanceMs(2000);
    await writeFile(cpuacctUsage(root), `${779565886 + 500_000_000}\n`);
    const [sample] = (await sampler.sample([{ containerId: "ctr-1", pid: v1Pid }])).samples;
    expect(sample?.cpuCores).toBeCloseTo(0.25, 12);
    expect(sample?.ts).toBe(1_700_000_002_000);
  });

  it("starts over when the pid of a container changes", async () => {
    const root = await copyOfV1();
    const restartedPid = 424242;
    await mkdir(join(root, "proc", String(restartedPid), "net"), { recursive: true });
    await cp(
      join(root, "proc", String(v1Pid), "net/dev"),
      join(root, "proc", String(restartedPid), "net/dev"),
    );
    await writeFile(
      join(root, "proc", String(restartedPid), "cgroup"),
      "8:pids:/fleet-metrics-unlimited\n7:blkio:/fleet-metrics-unlimited\n4:memory:/fleet-metrics-unlimited\n" +
        "2:cpuacct:/fleet-metrics-unlimited\n1:cpu:/fleet-metrics-unlimited\n0::/\n",
    );
    const clock = manualClock();
    const sampler = new ContainerSampler({ rootfs: root, clock });
    await sampler.sample([{ containerId: "ctr-1", pid: v1Pid }]);
    clock.advanceMs(1000);
    const [sample] = (await sampler.sample([{ containerId: "ctr-1", pid: restartedPid }])).samples;
    // The restarted container's counter (0) is lower than the old one: no rate is invented.
    expect(sample).toMatchObject({ cpuCores: 0, cpuUsageNs: 0, pidsCurrent: 1, pidsLimit: null });
  });

  it("reports a container whose cgroup vanished as gone and still samples the others", async () => {
    const root = await copyOfV1();
    const sampler = new ContainerSampler({ rootfs: root, clock: manualClock() });
    await sampler.sample([{ containerId: "ctr-1", pid: v1Pid }]);
    await rm(join(root, "sys/fs/cgroup/memory/fleet-metrics-fixture"), { recursive: true });
    const sweep = await sampler.sample([
      { containerId: "ctr-1", pid: v1Pid },
      { containerId: "ctr-exited", pid: 999_999_999 },
    ]);
    expect(sweep.samples).toEqual([]);
    expect(sweep.gone.map((entry) => entry.containerId)).toEqual(["ctr-1", "ctr-exited"]);
    expect(sweep.gone[0]?.reason).toMatch(/fleet-metrics-fixture no longer exists/);
  });

  it("keeps other failures apart from gone containers", async () => {
    const root = await copyOfV1();
    const memoryStat = join(root, "sys/fs/cgroup/memory/fleet-metrics-fixture/memory.stat");
    await rm(memoryStat);
    await mkdir(memoryStat);
    const sweep = await new ContainerSampler({ rootfs: root }).sample([{ containerId: "ctr-1", pid: v1Pid }]);
    expect(sweep.gone).toEqual([]);
    expect(sweep.failed).toHaveLength(1);
    expect(sweep.failed[0]?.error.message).toMatch(/EISDIR/);
  });

  it("samples several containers of a cgroup v2 host in one sweep, in the order asked", async () => {
    const sampler = new ContainerSampler({ rootfs: v2Root, clock: manualClock() });
    const sweep = await sampler.sample([
      { containerId: "limited", pid: v2Limited.pid },
      { containerId: "unlimited", pid: v2Unlimited.pid },
    ]);
    expect(
      sweep.samples.map((sample) => [
        sample.containerId,
        sample.memoryLimitBytes,
        sample.cpuThrottledPeriods,
      ]),
    ).toEqual([
      ["limited", 67108864, 100],
      ["unlimited", null, 0],
    ]);
  });
});
