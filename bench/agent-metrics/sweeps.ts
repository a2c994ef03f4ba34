/**
 * The ways to read one round of metrics for every container, and the clocks around them:
 * wall time per sweep, CPU of this process (the would-be agent) and CPU of the engine's
 * own processes, which is where the stats API spends most of its effort.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { ContainerSampler } from "@fleet/agent/metrics/container-sampler";
import type { TestEngine } from "@fleet/test/harness/engines";
import type Dockerode from "dockerode";
import type { TSleepingContainer } from "./sleeping-containers";

export const SWEEP_KINDS = [
  "cgroupfs",
  "engine_stats",
  "engine_stats_one_shot",
  "engine_stats_sequential_one_shot",
] as const;
export type TSweepKind = (typeof SWEEP_KINDS)[number];

export type TSweep = () => Promise<void>;

/**
 * Builds the sweep functions over `containers`. Every sweep checks that it read all of
 * them, so a fast sweep can never be a sweep that read nothing.
 */
export function makeSweeps(
  containers: readonly TSleepingContainer[],
  sampler: ContainerSampler,
): Record<TSweepKind, TSweep> {
  const targets = containers.map(({ containerId, pid }) => ({ containerId, pid }));
  return {
    cgroupfs: async () => {
      const sweep = await sampler.sample(targets);
      if (sweep.samples.length !== targets.length) {
        const problems = [...sweep.gone.map((g) => g.reason), ...sweep.failed.map((f) => f.error.message)];
        throw new Error(`cgroupfs sweep read ${sweep.samples.length}/${targets.length}: ${problems[0]}`);
      }
    },
    // What an agent that used the API would do: ask for every container at once. Without
    // one-shot, dockerd waits for a second collector tick to fill in precpu_stats.
    engine_stats: async () => {
      checkStats(await Promise.all(containers.map((c) => c.handle.stats({ stream: false }))));
    },
    engine_stats_one_shot: async () => {
      checkStats(
        await Promise.all(containers.map((c) => c.handle.stats({ stream: false, "one-shot": true }))),
      );
    },
    engine_stats_sequential_one_shot: async () => {
      const all: Dockerode.ContainerStats[] = [];
      for (const c of containers) all.push(await c.handle.stats({ stream: false, "one-shot": true }));
      checkStats(all);
    },
  };
}

function checkStats(all: Dockerode.ContainerStats[]): void {
  const empty = all.filter((s) => !(s.memory_stats?.usage && s.memory_stats.usage > 0));
  if (empty.length > 0) throw new Error(`engine stats: ${empty.length}/${all.length} without memory usage`);
}

export type TMeasurement = {
  wallMs: number[];
  processCpuMs: number;
  engineCpuMs: number;
};

export function emptyMeasurement(): TMeasurement {
  return { wallMs: [], processCpuMs: 0, engineCpuMs: 0 };
}

/** Runs one sweep and adds its wall time and CPU to `into`. */
export async function measure(sweep: TSweep, engineCpu: EngineCpuMeter, into: TMeasurement): Promise<number> {
  const engineBefore = engineCpu.readMs();
  const processBefore = process.cpuUsage();
  const startedAt = performance.now();
  await sweep();
  const wallMs = performance.now() - startedAt;
  const processUsed = process.cpuUsage(processBefore);
  into.processCpuMs += (processUsed.user + processUsed.system) / 1000;
  into.engineCpuMs += engineCpu.readMs() - engineBefore;
  into.wallMs.push(wallMs);
  return wallMs;
}

/**
 * CPU time of the engine's long-lived processes: the daemons and, for dockerd, one
 * containerd shim per container (which answers containerd's stats calls). They are
 * found by their command line naming the engine's directory; short-lived helpers
 * (runc) are not counted, so this is a lower bound.
 */
export class EngineCpuMeter {
  readonly #pids: number[];
  readonly #msPerTick: number;

  constructor(engine: TestEngine) {
    this.#pids = processesNaming(engine.dataDir);
    this.#msPerTick = 1000 / clockTicksPerSecond();
  }

  get processCount(): number {
    return this.#pids.length;
  }

  readMs(): number {
    let ticks = 0;
    for (const pid of this.#pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // exited: its time is lost to us either way
      }
    }
    return ticks * this.#msPerTick;
  }
}

function processesNaming(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(dir)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function clockTicksPerSecond(): number {
  const answer = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(answer.stdout?.trim());
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}
