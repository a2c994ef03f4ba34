/**
 * Reads which engine answers and what it says about the host, from `/version`
 * and `/info`. Docker and Podman differ here: Podman names itself in
 * `Components` ("Podman Engine") and `Platform.Name`, Docker leaves
 * `Platform.Name` empty; Docker reports `Architecture` as the kernel does
 * ("x86_64"), Podman as Go does ("amd64"), so it is normalised to Go's names
 * (the ones image platforms use).
 */
import { z } from "zod";
import type { DriverFingerprint } from "../container-driver";

export const ZEngineVersion = z
  .object({
    Version: z.string().optional(),
    ApiVersion: z.string().optional(),
    Platform: z.object({ Name: z.string().optional() }).loose().optional(),
    Components: z.array(z.object({ Name: z.string(), Version: z.string().optional() }).loose()).nullish(),
  })
  .loose();
export type TEngineVersion = z.infer<typeof ZEngineVersion>;

export const ZEngineInfo = z
  .object({
    NCPU: z.number().optional(),
    MemTotal: z.number().optional(),
    KernelVersion: z.string().optional(),
    OperatingSystem: z.string().optional(),
    Architecture: z.string().optional(),
    DockerRootDir: z.string().optional(),
    CgroupVersion: z.string().optional(),
  })
  .loose();
export type TEngineInfo = z.infer<typeof ZEngineInfo>;

export type EngineName = DriverFingerprint["engine"]["name"];

export function detectEngine(version: TEngineVersion): EngineName {
  const names = [version.Platform?.Name ?? "", ...(version.Components ?? []).map((c) => c.Name)];
  return names.some((name) => /podman/i.test(name)) ? "podman" : "docker";
}

const ARCH_ALIASES: Record<string, string> = { x86_64: "amd64", aarch64: "arm64", armv7l: "arm" };

export function normaliseArch(arch: string): string {
  return ARCH_ALIASES[arch] ?? arch;
}

export function fingerprintFrom(version: TEngineVersion, info: TEngineInfo): DriverFingerprint {
  const name = detectEngine(version);
  const engineComponent = (version.Components ?? []).find((c) => /engine/i.test(c.Name));
  return {
    engine: {
      name,
      version: engineComponent?.Version ?? version.Version ?? "unknown",
      apiVersion: version.ApiVersion ?? "unknown",
    },
    cpus: info.NCPU ?? 0,
    memoryBytes: info.MemTotal ?? 0,
    kernel: info.KernelVersion ?? "unknown",
    os: info.OperatingSystem ?? "unknown",
    arch: normaliseArch(info.Architecture ?? "unknown"),
    dataRoot: info.DockerRootDir ?? "",
    cgroupVersion: info.CgroupVersion === "2" ? 2 : 1,
  };
}
