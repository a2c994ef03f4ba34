import { statfs } from "node:fs/promises";
import { join } from "node:path";
import type { THostSample } from "@fleet/shared/domain/metrics";
import { readKernelFile } from "./cgroup/cgroup-files";
import type { TProcFsOptions } from "./cgroup/paths";
import { procRootOf } from "./cgroup/paths";

/** Aggregate CPU time from /proc/stat, in USER_HZ ticks, and the number of online CPUs. */
export type TProcStatCpu = { busyTicks: number; totalTicks: number; cpuCount: number };

/**
 * First line `cpu user nice system idle iowait irq softirq steal guest guest_nice`.
 * guest time is already inside user/nice, so it is left out of the total; steal is
 * time that passed without us running, so it counts in the total but not as busy.
 */
export function parseProcStatCpu(text: string): TProcStatCpu {
  let cpuCount = 0;
  let aggregate: number[] | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("cpu ")) aggregate = line.trim().split(/\s+/).slice(1).map(Number);
    else if (/^cpu\d+ /.test(line)) cpuCount += 1;
  }
  if (aggregate === undefined) throw new Error("/proc/stat has no aggregate cpu line");
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = aggregate;
  const busyTicks = user + nice + system + irq + softirq;
  return { busyTicks, totalTicks: busyTicks + idle + iowait + steal, cpuCount };
}

/** Keeps the previous /proc/stat reading and reports the cores used since then. */
export class HostCpuSampler {
  #previous: TProcStatCpu | undefined;
  readonly #procRoot: string;

  constructor(options: TProcFsOptions = {}) {
    this.#procRoot = procRootOf(options);
  }

  async sample(): Promise<{ cpuCores: number; cpuCount: number }> {
    const current = parseProcStatCpu(await readKernelFile(join(this.#procRoot, "stat")));
    const previous = this.#previous;
    this.#previous = current;
    if (previous === undefined) return { cpuCores: 0, cpuCount: current.cpuCount };
    const totalDelta = current.totalTicks - previous.totalTicks;
    const busyDelta = current.busyTicks - previous.busyTicks;
    const cpuCores = totalDelta > 0 && busyDelta >= 0 ? (busyDelta / totalDelta) * current.cpuCount : 0;
    return { cpuCores, cpuCount: current.cpuCount };
  }
}

export type THostMemory = { memoryTotalBytes: number; memoryAvailableBytes: number; memoryUsedBytes: number };

/** /proc/meminfo lines `Key:   1234 kB`; used = total − available, as free(1) counts it. */
export function parseMeminfo(text: string): THostMemory {
  const kib = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (match) kib.set(match[1]!, Number(match[2]));
  }
  const total = (kib.get("MemTotal") ?? 0) * 1024;
  // MemAvailable exists since Linux 3.14; before that, estimate it as free(1) did.
  const available =
    (kib.get("MemAvailable") ??
      (kib.get("MemFree") ?? 0) + (kib.get("Buffers") ?? 0) + (kib.get("Cached") ?? 0)) * 1024;
  return {
    memoryTotalBytes: total,
    memoryAvailableBytes: available,
    memoryUsedBytes: Math.max(0, total - available),
  };
}

export function parseLoadavg(text: string): { load1: number; load5: number; load15: number } {
  const [load1 = 0, load5 = 0, load15 = 0] = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return { load1, load5, load15 };
}

/** Size and space available to unprivileged writers (df's "Avail") of the filesystem holding `path`. */
export async function readDiskUsage(
  path: string,
): Promise<{ diskTotalBytes: number; diskFreeBytes: number }> {
  const stats = await statfs(path);
  return { diskTotalBytes: stats.blocks * stats.bsize, diskFreeBytes: stats.bavail * stats.bsize };
}

export type THostSamplerOptions = TProcFsOptions & {
  /** A path on the filesystem that holds the engine's data root. */
  diskPath: string;
  nowMs?: () => number;
};

export class HostSampler {
  readonly #cpu: HostCpuSampler;
  readonly #procRoot: string;
  readonly #diskPath: string;
  readonly #nowMs: () => number;

  constructor(options: THostSamplerOptions) {
    this.#cpu = new HostCpuSampler(options);
    this.#procRoot = procRootOf(options);
    this.#diskPath = options.diskPath;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  async sample(containers: number): Promise<THostSample> {
    const [cpu, meminfo, loadavg, disk] = await Promise.all([
      this.#cpu.sample(),
      readKernelFile(join(this.#procRoot, "meminfo")),
      readKernelFile(join(this.#procRoot, "loadavg")),
      readDiskUsage(this.#diskPath),
    ]);
    return {
      ts: this.#nowMs(),
      ...cpu,
      ...parseMeminfo(meminfo),
      ...parseLoadavg(loadavg),
      ...disk,
      containers,
    };
  }
}
