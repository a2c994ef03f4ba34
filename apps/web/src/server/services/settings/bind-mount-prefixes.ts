// The host paths bind mounts may use, and the one check every placement path
// applies: a bind mount's source must equal an allowed prefix or lie under it.
import type { TMountInput } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import { AppError } from "../../errors";

export const MAX_BIND_MOUNT_PREFIXES = 64;

/** An absolute host path, not `/` (that would allow every path), without `..`; a trailing `/` is dropped. */
export const ZBindMountPrefix = z
  .string()
  .trim()
  .max(4096)
  .superRefine((path, ctx) => {
    const problem = !path.startsWith("/")
      ? "must be an absolute path"
      : path.includes("\0")
        ? "must not contain NUL characters"
        : path.split("/").includes("..")
          ? "must not contain '..'"
          : /^\/+$/.test(path)
            ? "must not be / itself: that would allow every host path"
            : null;
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform((path) => path.replace(/\/+$/, "").replace(/\/{2,}/g, "/"));

export const ZBindMountPrefixes = z
  .array(ZBindMountPrefix)
  .max(MAX_BIND_MOUNT_PREFIXES)
  .transform((prefixes) => [...new Set(prefixes)]);

/** `/srv/data` allows `/srv/data` and `/srv/data/x`, not `/srv/database`. */
export function isBindPathAllowed(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Throws FORBIDDEN naming the first bind mount outside every allowed prefix. */
export function assertBindMountsAllowed(mounts: readonly TMountInput[], prefixes: readonly string[]): void {
  for (const mount of mounts) {
    if (mount.type !== "bind" || isBindPathAllowed(mount.source, prefixes)) continue;
    const allowed =
      prefixes.length === 0
        ? "no host paths are allowed"
        : `allowed host path prefixes are ${prefixes.join(", ")}`;
    throw new AppError(
      "FORBIDDEN",
      `bind mount of ${mount.source} is not allowed: ${allowed} (an administrator sets them in Settings)`,
    );
  }
}
