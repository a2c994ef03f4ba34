// Real cgroup v1 directories made by hand for the integration tests: what an
// engine does for a container, minus the engine.
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { TCgroupV1Controller, TCgroupV1Dirs } from "../cgroup/paths";
import { detectCgroupMode, readCgroupMounts, V1_CONTROLLERS } from "../cgroup/paths";
import { errnoCode } from "../errors";

export type TV1MountPoints = Record<TCgroupV1Controller, string>;

export type TV1Probe = { writable: true; mountPoints: TV1MountPoints } | { writable: false; reason: string };

/** Whether this host lets us create v1 cgroups in every controller the readers use. */
export async function probeV1Cgroups(): Promise<TV1Probe> {
  let mounts: Awaited<ReturnType<typeof readCgroupMounts>>;
  try {
    mounts = await readCgroupMounts();
  } catch (error) {
    return { writable: false, reason: `cannot read /proc/self/mountinfo: ${String(error)}` };
  }
  if (mounts.length === 0 || detectCgroupMode(mounts) === "v2") {
    return { writable: false, reason: "this host has no cgroup v1 controllers (pure cgroup v2)" };
  }
  const mountPoints = {} as TV1MountPoints;
  for (const controller of V1_CONTROLLERS) {
    const mount = mounts.find((entry) => entry.version === 1 && entry.controllers.includes(controller));
    if (mount === undefined)
      return { writable: false, reason: `the v1 ${controller} controller is not mounted` };
    mountPoints[controller] = mount.mountPoint;
  }
  const probe = `fleet-metrics-probe-${process.pid}`;
  for (const controller of V1_CONTROLLERS) {
    const dir = join(mountPoints[controller], probe);
    try {
      await mkdir(dir);
      await rmdir(dir);
    } catch (error) {
      return {
        writable: false,
        reason: `cannot create a cgroup under ${mountPoints[controller]}: ${errnoCode(error)}`,
      };
    }
  }
  return { writable: true, mountPoints };
}

export type THandMadeLimits = {
  memoryBytes?: number;
  cpuQuotaUs?: number;
  cpuShares?: number;
  pidsMax?: number;
};

export class HandMadeCgroup {
  private constructor(
    readonly name: string,
    readonly cgroup: TCgroupV1Dirs & { dirs: Record<TCgroupV1Controller, string> },
  ) {}

  static async create(
    mountPoints: TV1MountPoints,
    name: string,
    limits: THandMadeLimits = {},
  ): Promise<HandMadeCgroup> {
    const dirs = {} as Record<TCgroupV1Controller, string>;
    for (const controller of V1_CONTROLLERS) {
      dirs[controller] = join(mountPoints[controller], name);
      await mkdir(dirs[controller]);
    }
    const cgroup = new HandMadeCgroup(name, { version: 1, dirs });
    if (limits.memoryBytes !== undefined) {
      await writeFile(join(dirs.memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
      // As the engines do with MemorySwap = Memory; absent without swap accounting.
      await writeFile(join(dirs.memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes)).catch(
        (error: unknown) => {
          if (errnoCode(error) !== "ENOENT") throw error;
        },
      );
    }
    if (limits.cpuQuotaUs !== undefined) {
      await writeFile(join(dirs.cpu, "cpu.cfs_quota_us"), String(limits.cpuQuotaUs));
    }
    if (limits.cpuShares !== undefined) {
      await writeFile(join(dirs.cpu, "cpu.shares"), String(limits.cpuShares));
    }
    if (limits.pidsMax !== undefined) await writeFile(join(dirs.pids, "pids.max"), String(limits.pidsMax));
    return cgroup;
  }

  async addProcess(pid: number): Promise<void> {
    for (const dir of Object.values(this.cgroup.dirs))
      await writeFile(join(dir, "cgroup.procs"), String(pid));
  }

  /** Kills whatever still runs inside, then removes the directories, as an engine does on exit. */
  async remove(): Promise<void> {
    for (const dir of Object.values(this.cgroup.dirs)) {
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const pids = await readPids(dir);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // Already gone.
          }
        }
        await sleep(20);
      }
      try {
        await rmdir(dir);
      } catch (error) {
        if (errnoCode(error) !== "ENOENT") throw error;
      }
    }
  }
}

async function readPids(dir: string): Promise<number[]> {
  try {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8");
    return text.split("\n").filter(Boolean).map(Number);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw error;
  }
}
