import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { ContainerSampler } from "./container-sampler";
import { HandMadeCgroup, probeV1Cgroups } from "./testing/hand-made-cgroup";

// One sweep over many real cgroups: the cost of reading the kernel's files
// directly, which is what the agent pays every metrics interval.
const CGROUPS = 50;
const probe = await probeV1Cgroups();
const skipReason = probe.writable ? "" : ` (skipped: ${probe.reason})`;

describe(`a sweep over ${CGROUPS} real cgroups`, () => {
  const cgroups: HandMadeCgroup[] = [];
  const sleepers: ChildProcess[] = [];

  afterAll(async () => {
    for (const sleeper of sleepers) sleeper.kill("SIGKILL");
    await Promise.all(cgroups.map((cgroup) => cgroup.remove()));
  });

  it.skipIf(!probe.writable)(`reads every container and reports how long it took${skipReason}`, async () => {
    if (!probe.writable) return;
    const targets = [];
    for (let index = 0; index < CGROUPS; index += 1) {
      const cgroup = await HandMadeCgroup.create(
        probe.mountPoints,
        `fleet-metrics-sweep-${process.pid}-${index}`,
        {
          memoryBytes: 64 * 1024 * 1024,
          cpuQuotaUs: 50_000,
          pidsMax: 50,
        },
      );
      cgroups.push(cgroup);
      const sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
      sleepers.push(sleeper);
      await cgroup.addProcess(sleeper.pid!);
      targets.push({ containerId: `ctr-${index}`, pid: sleeper.pid! });
    }

    const sampler = new ContainerSampler();
    let started = performance.now();
    const first = await sampler.sample(targets);
    const firstMs = performance.now() - started;
    const steadyMs: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      started = performance.now();
      const sweep = await sampler.sample(targets);
      steadyMs.push(performance.now() - started);
      expect(sweep.samples).toHaveLength(CGROUPS);
    }
    expect(first.samples).toHaveLength(CGROUPS);
    expect(first.gone).toEqual([]);
    expect(first.failed).toEqual([]);
    expect(first.samples.every((sample) => sample.memoryLimitBytes === 64 * 1024 * 1024)).toBe(true);
    steadyMs.sort((a, b) => a - b);
    const medianMs = steadyMs[Math.floor(steadyMs.length / 2)]!;
    console.log(
      JSON.stringify({
        metric: "container-sampler-sweep",
        cgroups: CGROUPS,
        firstSweepMs: Number(firstMs.toFixed(2)),
        medianSweepMs: Number(medianMs.toFixed(2)),
      }),
    );
    // Generous: the sweep must stay far below the default 5 s metrics interval.
    expect(medianMs).toBeLessThan(500);
  });
});
