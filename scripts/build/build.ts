// Builds targets one at a time per target across processes (a lock file each),
// leaving current ones alone when asked to.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withLock } from "./lock";
import { REPO_ROOT } from "./paths";
import { TARGETS, type TTargetName } from "./targets";

function lockPath(target: TTargetName): string {
  const checkout = createHash("sha256").update(REPO_ROOT).digest("hex").slice(0, 12);
  return join(tmpdir(), `fleet-build-${checkout}-${target}.lock`);
}

export async function buildTargets(
  names: readonly TTargetName[],
  options: { ifStale: boolean; log?: (line: string) => void },
): Promise<void> {
  const say = options.log ?? ((line: string) => process.stderr.write(`build: ${line}\n`));
  for (const name of names) {
    const target = TARGETS[name];
    const started = Date.now();
    await withLock(
      lockPath(name),
      async () => {
        // Under the lock, so a build that just finished elsewhere counts.
        const reason = target.staleness();
        if (options.ifStale && reason === null) return;
        say(`${name}: building${reason ? ` (${reason})` : ""}`);
        for (const line of await target.build()) say(`  ${line}`);
        say(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      },
      { onWait: () => say(`${name}: waiting for another build of it to finish`) },
    );
  }
}
