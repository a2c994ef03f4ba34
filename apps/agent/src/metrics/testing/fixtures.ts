// Where the committed fixture trees are and what they hold, for the metrics tests.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TCgroupV1Dirs, TCgroupV2Dirs } from "../cgroup/paths";

export const fixturesRoot = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));

export const v1Root = join(fixturesRoot, "cgroup-v1");
export const v1Pid = Number(readFileSync(join(v1Root, "pid"), "utf8"));

export function v1CgroupDirs(name: string): TCgroupV1Dirs {
  const dir = (controller: string) => join(v1Root, "sys/fs/cgroup", controller, name);
  return {
    version: 1,
    dirs: {
      cpu: dir("cpu"),
      cpuacct: dir("cpuacct"),
      memory: dir("memory"),
      pids: dir("pids"),
      blkio: dir("blkio"),
    },
  };
}

export const v2Root = join(fixturesRoot, "cgroup-v2");
export const v2Unlimited = {
  pid: 2817,
  engineId: "bb9029460388dbabc518f27ea35b1bf0aef11f1bc430dea91b22b87ce94856f4",
} as const;
export const v2Limited = {
  pid: 3341,
  engineId: "902c94c04f8d1fbb630eddb6f847928c45e0f2d7633fae3abfae28ecba58c477",
} as const;

export function v2CgroupDirs(engineId: string): TCgroupV2Dirs {
  return { version: 2, dir: join(v2Root, "sys/fs/cgroup/system.slice", `docker-${engineId}.scope`) };
}

export const hostLaterRoot = join(fixturesRoot, "host-later");
export const kmsgRoot = join(fixturesRoot, "kmsg");
