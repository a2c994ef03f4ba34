import { describe, expect, it } from "vitest";
import { detectEngine, fingerprintFrom, ZEngineInfo, ZEngineVersion } from "./engine-info";

// Trimmed /version and /info answers of Docker 20.10 and Podman 4.3 on this machine.
const DOCKER_VERSION = {
  Platform: { Name: "" },
  Components: [
    { Name: "Engine", Version: "20.10.24+dfsg1", Details: { ApiVersion: "1.41" } },
    { Name: "containerd", Version: "1.6.20~ds1" },
    { Name: "runc", Version: "1.1.5+ds1" },
  ],
  Version: "20.10.24+dfsg1",
  ApiVersion: "1.41",
};
const PODMAN_VERSION = {
  Platform: { Name: "linux/amd64/debian-12" },
  Components: [
    { Name: "Podman Engine", Version: "4.3.1", Details: { APIVersion: "4.3.1" } },
    { Name: "Conmon", Version: "conmon version 2.1.6, commit: unknown" },
    { Name: "OCI Runtime (runc)", Version: "runc version 1.1.5+ds1" },
  ],
  Version: "4.3.1",
  ApiVersion: "1.41",
};
const INFO = {
  NCPU: 2,
  MemTotal: 25276510208,
  KernelVersion: "6.18.44-fc-v657",
  CgroupVersion: "1",
};

describe("engine info", () => {
  it("tells Docker from Podman", () => {
    expect(detectEngine(ZEngineVersion.parse(DOCKER_VERSION))).toBe("docker");
    expect(detectEngine(ZEngineVersion.parse(PODMAN_VERSION))).toBe("podman");
  });

  it("builds Docker's fingerprint, normalising x86_64 to amd64", () => {
    const info = ZEngineInfo.parse({
      ...INFO,
      OperatingSystem: "Debian GNU/Linux 12 (bookworm)",
      Architecture: "x86_64",
      DockerRootDir: "/var/lib/docker",
    });
    expect(fingerprintFrom(ZEngineVersion.parse(DOCKER_VERSION), info)).toEqual({
      engine: { name: "docker", version: "20.10.24+dfsg1", apiVersion: "1.41" },
      cpus: 2,
      memoryBytes: 25276510208,
      kernel: "6.18.44-fc-v657",
      os: "Debian GNU/Linux 12 (bookworm)",
      arch: "amd64",
      dataRoot: "/var/lib/docker",
      cgroupVersion: 1,
    });
  });

  it("builds Podman's fingerprint from the compat answers", () => {
    const info = ZEngineInfo.parse({
      ...INFO,
      OperatingSystem: "debian",
      Architecture: "amd64",
      DockerRootDir: "/var/lib/containers/storage",
      CgroupVersion: "2",
    });
    expect(fingerprintFrom(ZEngineVersion.parse(PODMAN_VERSION), info)).toMatchObject({
      engine: { name: "podman", version: "4.3.1", apiVersion: "1.41" },
      arch: "amd64",
      dataRoot: "/var/lib/containers/storage",
      cgroupVersion: 2,
    });
  });
});
