import type { TCgroupLimits, TCgroupStats } from "./cgroup-stats";
import type { TCgroupDirs } from "./paths";
import * as v1 from "./v1";
import * as v2 from "./v2";

export function readCgroupStats(cgroup: TCgroupDirs): Promise<TCgroupStats> {
  return cgroup.version === 1 ? v1.readCgroupStats(cgroup) : v2.readCgroupStats(cgroup);
}

export function readCgroupLimits(cgroup: TCgroupDirs): Promise<TCgroupLimits> {
  return cgroup.version === 1 ? v1.readCgroupLimits(cgroup) : v2.readCgroupLimits(cgroup);
}
