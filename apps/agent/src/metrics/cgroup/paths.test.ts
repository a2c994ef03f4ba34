import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProcessGoneError } from "../errors";
import { v1CgroupDirs, v1Pid, v1Root, v2CgroupDirs, v2Limited, v2Root } from "../testing/fixtures";
import {
  detectCgroupMode,
  detectHostCgroupMode,
  parseMountinfo,
  parseProcCgroup,
  resolveCgroupDirs,
  resolveCgroupDirsFrom,
} from "./paths";

const v1Mountinfo = readFileSync(join(v1Root, "proc/self/mountinfo"), "utf8");

describe("parseMountinfo", () => {
  it("lists each v1 controller mount and the controller-less cgroup2 tree of a hybrid host", () => {
    const mounts = parseMountinfo(v1Mountinfo);
    expect(mounts).toContainEqual({
      version: 1,
      mountPoint: "/sys/fs/cgroup/memory",
      root: "/",
      controllers: ["memory"],
    });
    expect(mounts).toContainEqual({
      version: 1,
      mountPoint: "/sys/fs/cgroup/cpu",
      root: "/",
      controllers: ["cpu"],
    });
    expect(mounts).toContainEqual({
      version: 1,
      mountPoint: "/sys/fs/cgroup/systemd",
      root: "/",
      controllers: ["name=systemd"],
    });
    expect(mounts).toContainEqual({ version: 2, mountPoint: "/sys/fs/cgroup/unified", root: "/" });
    // The tmpfs that holds the mount points is not a cgroup mount.
    expect(mounts).toHaveLength(10);
  });

  it("keeps co-mounted controllers together and drops mount flags", () => {
    const [mount] = parseMountinfo(
      "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,xattr,cpu,cpuacct",
    );
    expect(mount).toEqual({
      version: 1,
      mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
      root: "/",
      controllers: ["cpu", "cpuacct"],
    });
  });

  it("decodes the octal escapes the kernel puts in paths", () => {
    const [mount] = parseMountinfo("40 31 0:37 / /mnt/cgroup\\040v2 rw,relatime - cgroup2 cgroup2 rw");
    expect(mount?.mountPoint).toBe("/mnt/cgroup v2");
  });
});

describe("detectCgroupMode", () => {
  it("calls v1 controllers beside a cgroup2 tree hybrid", () => {
    expect(detectCgroupMode(parseMountinfo(v1Mountinfo))).toBe("hybrid");
  });

  it("tells pure v1 and pure v2 hosts apart", () => {
    const v1Only = parseMountinfo(v1Mountinfo).filter((mount) => mount.version === 1);
    expect(detectCgroupMode(v1Only)).toBe("v1");
    expect(detectCgroupMode(parseMountinfo(readFileSync(join(v2Root, "proc/self/mountinfo"), "utf8")))).toBe(
      "v2",
    );
  });

  it("refuses a host without any cgroup mount", () => {
    expect(() => detectCgroupMode([])).toThrow(/no cgroup filesystem/);
  });

  it("reads the mode of a host from its mountinfo", async () => {
    await expect(detectHostCgroupMode({ rootfs: v1Root })).resolves.toBe("hybrid");
    await expect(detectHostCgroupMode({ rootfs: v2Root })).resolves.toBe("v2");
  });
});

describe("parseProcCgroup", () => {
  it("reads v1 lines and the v2 line", () => {
    const lines = parseProcCgroup(readFileSync(join(v1Root, "proc", String(v1Pid), "cgroup"), "utf8"));
    expect(lines).toContainEqual({ hierarchyId: 4, controllers: ["memory"], path: "/fleet-metrics-fixture" });
    expect(lines).toContainEqual({ hierarchyId: 9, controllers: ["name=systemd"], path: "/" });
    expect(lines).toContainEqual({ hierarchyId: 0, controllers: [], path: "/" });
  });

  it("strips the marker of a cgroup removed under a lingering process", () => {
    expect(parseProcCgroup("0::/system.slice/docker-abc.scope (deleted)\n")).toEqual([
      { hierarchyId: 0, controllers: [], path: "/system.slice/docker-abc.scope" },
    ]);
  });
});

describe("resolveCgroupDirs", () => {
  it("finds each v1 controller directory of a process on a hybrid host", async () => {
    await expect(resolveCgroupDirs(v1Pid, { rootfs: v1Root })).resolves.toEqual(
      v1CgroupDirs("fleet-metrics-fixture"),
    );
  });

  it("finds the v2 directory of a process on a unified host", async () => {
    await expect(resolveCgroupDirs(v2Limited.pid, { rootfs: v2Root })).resolves.toEqual(
      v2CgroupDirs(v2Limited.engineId),
    );
  });

  it("maps a cgroup through a mount whose root is a subtree, as inside a container", () => {
    const mounts = parseMountinfo(
      "1190 1183 0:32 /docker/4f1e /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:15 - cgroup cgroup rw,memory",
    );
    const inside = resolveCgroupDirsFrom(mounts, parseProcCgroup("4:memory:/docker/4f1e/worker\n"));
    expect(inside).toEqual({
      version: 1,
      dirs: { cpu: null, cpuacct: null, memory: "/sys/fs/cgroup/memory/worker", pids: null, blkio: null },
    });
    const outside = resolveCgroupDirsFrom(mounts, parseProcCgroup("4:memory:/docker/77aa\n"));
    expect(outside.version === 1 && outside.dirs.memory).toBeNull();
  });

  it("gives cpu and cpuacct the same directory when they share a mount", () => {
    const mounts = parseMountinfo(
      "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw shared:8 - cgroup cgroup rw,cpu,cpuacct\n" +
        "26 24 0:23 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory",
    );
    const resolved = resolveCgroupDirsFrom(
      mounts,
      parseProcCgroup("3:cpu,cpuacct:/docker/4f1e\n2:memory:/docker/4f1e\n"),
      "/host",
    );
    expect(resolved).toEqual({
      version: 1,
      dirs: {
        cpu: "/host/sys/fs/cgroup/cpu,cpuacct/docker/4f1e",
        cpuacct: "/host/sys/fs/cgroup/cpu,cpuacct/docker/4f1e",
        memory: "/host/sys/fs/cgroup/memory/docker/4f1e",
        pids: null,
        blkio: null,
      },
    });
  });

  it("says the process is gone when its /proc entry is", async () => {
    await expect(resolveCgroupDirs(999_999_999, { rootfs: v1Root })).rejects.toBeInstanceOf(ProcessGoneError);
  });
});
