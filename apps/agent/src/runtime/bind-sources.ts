/**
 * Bind mount sources as the host's filesystem has them. The central checks a
 * bind source as written, which a symlink defeats: a container with
 * `/srv/data` mounted read-write can create `/srv/data/r -> /`, and a second
 * container mounting `/srv/data/r` would get the host's root. Neither engine
 * resolves symlinks itself (both keep the source as given and the kernel
 * follows links at every start), so the agent does:
 *
 * - `resolveBindSources`, right before a create: the real path of every
 *   source must lie under an allowed prefix; the container is created with
 *   that real path, so the engine has no symlink left to follow.
 * - `assertCanonicalBindSource`, right before every start (the first one
 *   after create, and restarts): the path the engine holds must still be its
 *   own real path, i.e. no component was swapped for a symlink since.
 *
 * Paths are resolved in the agent's mount namespace; the engine mounts in
 * its own. They agree when the agent runs on the host as installed (or at
 * least sees every allowed prefix at the same path with the same content).
 *
 * What no check here can close: a component of the path swapped for a
 * symlink after the last check and before the runtime's mount(2) during the
 * engine's start (milliseconds, inside the engine). Closing that needs the
 * engine to mount from a held file descriptor, which the Engine API has no
 * way to ask for.
 *
 * May import: the driver contract, @fleet/shared, node built-ins.
 */
import { realpath as fsRealpath } from "node:fs/promises";
import { isBindPathAllowed, type TContainerSpec, type TMount } from "@fleet/shared/domain/container-spec";
import { DriverError } from "./driver";

/** `fs.promises.realpath`; tests may pass another. */
export type RealPath = (path: string) => Promise<string>;

function refused(source: string, why: string): DriverError {
  return new DriverError("bind-mount-refused", `bind mount of ${source} refused: ${why}`);
}

async function realPathOf(source: string, realpath: RealPath): Promise<string> {
  try {
    return await realpath(source);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Refused here rather than left to the engine: Podman creates a missing source at start.
    if (code === "ENOENT") throw refused(source, "bind source path does not exist");
    if (code === "ELOOP") throw refused(source, "too many levels of symbolic links");
    throw refused(source, `it cannot be resolved (${code ?? String(error)})`);
  }
}

/**
 * The spec with every bind source replaced by its real path, or a
 * `bind-mount-refused` DriverError naming the first source that does not
 * exist or whose real path lies outside `prefixes` (empty: none allowed).
 */
export async function resolveBindSources(
  spec: TContainerSpec,
  prefixes: readonly string[],
  realpath: RealPath = fsRealpath,
): Promise<TContainerSpec> {
  if (!spec.mounts.some((mount) => mount.type === "bind")) return spec;
  const mounts: TMount[] = [];
  for (const mount of spec.mounts) {
    if (mount.type !== "bind") {
      mounts.push(mount);
      continue;
    }
    if (prefixes.length === 0) throw refused(mount.source, "no host paths are allowed for bind mounts");
    const real = await realPathOf(mount.source, realpath);
    if (!isBindPathAllowed(real, prefixes)) {
      throw refused(
        mount.source,
        `it resolves to ${real}, outside the allowed host paths (${prefixes.join(", ")})`,
      );
    }
    mounts.push({ ...mount, source: real });
  }
  return { ...spec, mounts };
}

/** Throws `bind-mount-refused` unless `source` exists and is still its own real path. */
export async function assertCanonicalBindSource(
  source: string,
  realpath: RealPath = fsRealpath,
): Promise<void> {
  const real = await realPathOf(source, realpath);
  if (real !== source) {
    throw refused(source, `it now resolves to ${real}: a symlink took the place of part of the path`);
  }
}
