import type { TContainerSample } from "@fleet/shared/domain/metrics";
import type { TCgroupStats } from "./cgroup/cgroup-stats";
import type { TCgroupDirs, TCgroupMount, TProcFsOptions } from "./cgroup/paths";
import { readCgroupMounts, resolveCgroupDirs } from "./cgroup/paths";
import { readCgroupStats } from "./cgroup/read-cgroup";
import { isGoneError } from "./errors";
import { readNetCounters } from "./network";

export type TSampleTarget = { containerId: string; pid: number };

export type TContainerSweep = {
  samples: TContainerSample[];
  /** Containers whose process or cgroup vanished: they exited since the caller listed them. */
  gone: { containerId: string; reason: string }[];
  /** Containers that could not be read for another reason (permissions, unexpected files). */
  failed: { containerId: string; error: Error }[];
};

export type TSamplerClock = {
  nowMs: () => number;
  /** A monotonic clock in nanoseconds, for CPU rates that survive wall-clock jumps. */
  monotonicNs: () => bigint;
};

const systemClock: TSamplerClock = { nowMs: () => Date.now(), monotonicNs: () => process.hrtime.bigint() };

type TCachedContainer = {
  pid: number;
  dirs: TCgroupDirs;
  previous?: { cpuUsageNs: number; monotonicNs: bigint };
};

/**
 * Samples many containers in one sweep, all reads in parallel. Cgroup directories
 * are resolved once per container and kept until its pid changes (a restart).
 */
export class ContainerSampler {
  readonly #options: TProcFsOptions;
  readonly #clock: TSamplerClock;
  readonly #cache = new Map<string, TCachedContainer>();
  #mounts: Promise<TCgroupMount[]> | undefined;

  constructor(options: TProcFsOptions & { clock?: TSamplerClock } = {}) {
    this.#options = { rootfs: options.rootfs, procRoot: options.procRoot };
    this.#clock = options.clock ?? systemClock;
  }

  async sample(targets: readonly TSampleTarget[]): Promise<TContainerSweep> {
    const sweep: TContainerSweep = { samples: [], gone: [], failed: [] };
    const wanted = new Set(targets.map((target) => target.containerId));
    for (const containerId of this.#cache.keys()) {
      if (!wanted.has(containerId)) this.#cache.delete(containerId);
    }
    const outcomes = await Promise.allSettled(targets.map((target) => this.#sampleOne(target)));
    outcomes.forEach((outcome, index) => {
      const { containerId } = targets[index]!;
      if (outcome.status === "fulfilled") {
        sweep.samples.push(outcome.value);
        return;
      }
      this.#cache.delete(containerId);
      const error: unknown = outcome.reason;
      if (isGoneError(error)) sweep.gone.push({ containerId, reason: error.message });
      else sweep.failed.push({ containerId, error: asError(error) });
    });
    return sweep;
  }

  /** Drops the cached mount table, e.g. after the engine mounted a new cgroup hierarchy. */
  refreshMounts(): void {
    this.#mounts = undefined;
    this.#cache.clear();
  }

  async #sampleOne(target: TSampleTarget): Promise<TContainerSample> {
    const cached = await this.#resolve(target);
    const [[stats, monotonicNs], net] = await Promise.all([
      readCgroupStats(cached.dirs).then((result): [TCgroupStats, bigint] => [
        result,
        this.#clock.monotonicNs(),
      ]),
      readNetCounters(target.pid, this.#options),
    ]);
    const previous = cached.previous;
    cached.previous = { cpuUsageNs: stats.cpuUsageNs, monotonicNs };
    let cpuCores = 0;
    if (previous !== undefined) {
      const elapsedNs = Number(monotonicNs - previous.monotonicNs);
      const usedNs = stats.cpuUsageNs - previous.cpuUsageNs;
      // A counter that went backwards means a different cgroup: no rate this time.
      if (elapsedNs > 0 && usedNs >= 0) cpuCores = usedNs / elapsedNs;
    }
    return {
      containerId: target.containerId,
      ts: this.#clock.nowMs(),
      cpuCores,
      cpuUsageNs: stats.cpuUsageNs,
      cpuPeriods: stats.cpuPeriods,
      cpuThrottledPeriods: stats.cpuThrottledPeriods,
      cpuThrottledNs: stats.cpuThrottledNs,
      memoryUsageBytes: stats.memoryUsageBytes,
      memoryWorkingSetBytes: stats.memoryWorkingSetBytes,
      memoryLimitBytes: stats.memoryLimitBytes,
      memoryFailcnt: stats.memoryFailcnt,
      oomKills: stats.oomKills,
      pidsCurrent: stats.pidsCurrent,
      pidsLimit: stats.pidsLimit,
      netRxBytes: net.rxBytes,
      netTxBytes: net.txBytes,
      netRxPackets: net.rxPackets,
      netTxPackets: net.txPackets,
      blkReadBytes: stats.blkReadBytes,
      blkWriteBytes: stats.blkWriteBytes,
    };
  }

  async #resolve(target: TSampleTarget): Promise<TCachedContainer> {
    const cached = this.#cache.get(target.containerId);
    if (cached !== undefined && cached.pid === target.pid) return cached;
    if (this.#mounts === undefined) {
      const mounts = readCgroupMounts(this.#options);
      // A failed read is retried on the next sweep instead of being remembered.
      mounts.catch(() => {
        if (this.#mounts === mounts) this.#mounts = undefined;
      });
      this.#mounts = mounts;
    }
    const mounts = await this.#mounts;
    const dirs = await resolveCgroupDirs(target.pid, { ...this.#options, mounts });
    const fresh: TCachedContainer = { pid: target.pid, dirs };
    this.#cache.set(target.containerId, fresh);
    return fresh;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
