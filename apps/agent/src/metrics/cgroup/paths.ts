import { join, posix } from "node:path";
import { errnoCode, ProcessGoneError } from "../errors";
import { readKernelFile } from "./cgroup-files";

/**
 * Where the host's files are. `rootfs` prefixes every absolute path (a fixture
 * tree in tests, `/host` when the agent runs in a container with the host's root
 * mounted there); `procRoot` defaults to `<rootfs>/proc`.
 */
export type TProcFsOptions = { rootfs?: string; procRoot?: string };

export function procRootOf(options: TProcFsOptions = {}): string {
  return options.procRoot ?? join(options.rootfs ?? "/", "proc");
}

export type TCgroupMount =
  | { version: 1; mountPoint: string; root: string; controllers: string[] }
  | { version: 2; mountPoint: string; root: string };

// Super options of a v1 cgroup mount that are flags, not controllers.
const V1_MOUNT_FLAGS = new Set([
  "rw",
  "ro",
  "xattr",
  "noprefix",
  "clone_children",
  "cpuset_v2_mode",
  "favordynmods",
]);

function decodeMountinfoField(field: string): string {
  // The kernel escapes space, tab, newline and backslash as \ooo octal.
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * The cgroup mounts listed in a mountinfo text (proc(5)): `id parent major:minor
 * root mountpoint options [optional...] - fstype source superoptions`.
 */
export function parseMountinfo(text: string): TCgroupMount[] {
  const mounts: TCgroupMount[] = [];
  for (const line of text.split("\n")) {
    const separator = line.indexOf(" - ");
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(" ");
    const after = line.slice(separator + 3).split(" ");
    const [fsType, , superOptions = ""] = after;
    const root = before[3];
    const mountPoint = before[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (fsType === "cgroup2") {
      mounts.push({
        version: 2,
        mountPoint: decodeMountinfoField(mountPoint),
        root: decodeMountinfoField(root),
      });
    } else if (fsType === "cgroup") {
      const controllers = superOptions
        .split(",")
        .filter(
          (option) => !V1_MOUNT_FLAGS.has(option) && (!option.includes("=") || option.startsWith("name=")),
        );
      mounts.push({
        version: 1,
        mountPoint: decodeMountinfoField(mountPoint),
        root: decodeMountinfoField(root),
        controllers,
      });
    }
  }
  return mounts;
}

export type TProcCgroupLine = { hierarchyId: number; controllers: string[]; path: string };

/** `/proc/<pid>/cgroup`: v1 lines `id:controller,...:path`, the v2 line `0::path`. */
export function parseProcCgroup(text: string): TProcCgroupLine[] {
  const lines: TProcCgroupLine[] = [];
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    // A process whose cgroup was removed while it lingers as a zombie shows " (deleted)".
    const path = line.slice(second + 1).replace(/ \(deleted\)$/, "");
    lines.push({
      hierarchyId: Number(line.slice(0, first)),
      controllers: controllers === "" ? [] : controllers.split(","),
      path,
    });
  }
  return lines;
}

export type TCgroupMode = "v1" | "v2" | "hybrid";

/** Hybrid: v1 controllers plus a controller-less cgroup2 tree (systemd's "unified"). */
export function detectCgroupMode(mounts: readonly TCgroupMount[]): TCgroupMode {
  const hasV1 = mounts.some((mount) => mount.version === 1);
  const hasV2 = mounts.some((mount) => mount.version === 2);
  if (hasV1 && hasV2) return "hybrid";
  if (hasV1) return "v1";
  if (hasV2) return "v2";
  throw new Error("no cgroup filesystem is mounted");
}

export const V1_CONTROLLERS = ["cpu", "cpuacct", "memory", "pids", "blkio"] as const;
export type TCgroupV1Controller = (typeof V1_CONTROLLERS)[number];

/** A null directory means the controller is not mounted or the cgroup is outside the mount. */
export type TCgroupV1Dirs = { version: 1; dirs: Record<TCgroupV1Controller, string | null> };
export type TCgroupV2Dirs = { version: 2; dir: string };
export type TCgroupDirs = TCgroupV1Dirs | TCgroupV2Dirs;

/**
 * The directory that holds `cgroupPath` under a mount whose root is `mountRoot`.
 * The root is not "/" when the mount is a bind mount of a subtree or was made
 * inside a cgroup namespace; a cgroup outside that subtree is not reachable.
 */
function dirUnderMount(rootfs: string, mount: TCgroupMount, cgroupPath: string): string | null {
  const root = mount.root;
  let relative: string;
  if (root === "/") relative = cgroupPath;
  else if (cgroupPath === root) relative = "/";
  else if (cgroupPath.startsWith(`${root}/`)) relative = cgroupPath.slice(root.length);
  else return null;
  return join(rootfs, mount.mountPoint, posix.normalize(relative));
}

function isUnder(root: string, cgroupPath: string): boolean {
  return root === "/" || cgroupPath === root || cgroupPath.startsWith(`${root}/`);
}

/** Of the mounts that can reach `cgroupPath`, the one with the deepest root. */
function bestMount<T extends TCgroupMount>(candidates: readonly T[], cgroupPath: string): T | undefined {
  let best: T | undefined;
  for (const mount of candidates) {
    if (!isUnder(mount.root, cgroupPath)) continue;
    if (best === undefined || mount.root.length > best.root.length) best = mount;
  }
  return best;
}

/** Pure resolution from already-parsed mountinfo and /proc/<pid>/cgroup. */
export function resolveCgroupDirsFrom(
  mounts: readonly TCgroupMount[],
  procCgroup: readonly TProcCgroupLine[],
  rootfs = "/",
): TCgroupDirs {
  const mode = detectCgroupMode(mounts);
  if (mode === "v2") {
    const line = procCgroup.find((entry) => entry.hierarchyId === 0 && entry.controllers.length === 0);
    if (line === undefined) throw new Error("process has no cgroup v2 entry in /proc/<pid>/cgroup");
    const v2Mounts = mounts.filter((mount) => mount.version === 2);
    const mount = bestMount(v2Mounts, line.path);
    const dir = mount === undefined ? null : dirUnderMount(rootfs, mount, line.path);
    if (dir === null) throw new Error(`cgroup ${line.path} is outside every mounted cgroup2 tree`);
    return { version: 2, dir };
  }
  const dirs = {} as Record<TCgroupV1Controller, string | null>;
  for (const controller of V1_CONTROLLERS) {
    dirs[controller] = null;
    const line = procCgroup.find((entry) => entry.controllers.includes(controller));
    if (line === undefined) continue;
    const candidates = mounts.filter(
      (mount): mount is Extract<TCgroupMount, { version: 1 }> =>
        mount.version === 1 && mount.controllers.includes(controller),
    );
    const mount = bestMount(candidates, line.path);
    if (mount !== undefined) dirs[controller] = dirUnderMount(rootfs, mount, line.path);
  }
  return { version: 1, dirs };
}

export async function readCgroupMounts(options: TProcFsOptions = {}): Promise<TCgroupMount[]> {
  return parseMountinfo(await readKernelFile(join(procRootOf(options), "self", "mountinfo")));
}

export async function detectHostCgroupMode(options: TProcFsOptions = {}): Promise<TCgroupMode> {
  return detectCgroupMode(await readCgroupMounts(options));
}

export async function readProcCgroup(pid: number, options: TProcFsOptions = {}): Promise<TProcCgroupLine[]> {
  try {
    return parseProcCgroup(await readKernelFile(join(procRootOf(options), String(pid), "cgroup")));
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ESRCH") throw new ProcessGoneError(pid);
    throw error;
  }
}

/**
 * The cgroup directories of a process. Pass `mounts` to skip re-reading
 * mountinfo (it does not change while the agent runs).
 */
export async function resolveCgroupDirs(
  pid: number,
  options: TProcFsOptions & { mounts?: readonly TCgroupMount[] } = {},
): Promise<TCgroupDirs> {
  const [mounts, procCgroup] = await Promise.all([
    options.mounts ?? readCgroupMounts(options),
    readProcCgroup(pid, options),
  ]);
  return resolveCgroupDirsFrom(mounts, procCgroup, options.rootfs ?? "/");
}
