// The central's check of bind mounts against the administrator's allowlist,
// applied by every placement path to the source as written. The agent applies
// the same rule (`isBindPathAllowed`) again to the real path on its host,
// where symlinks can be resolved.
import { isBindPathAllowed, type TMountInput } from "@fleet/shared/domain/container-spec";
import { AppError } from "../../errors";

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
