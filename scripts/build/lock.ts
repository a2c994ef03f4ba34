/**
 * A lock file so two processes (two test files, `npm run up` and a test run)
 * do not build the same target at once. The holder's pid is in the file; a
 * lock whose holder is gone is taken over. Correctness does not rest on it:
 * builds write under temporary names and rename, so at worst work is doubled.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";

function holderAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, "utf8").trim());
  } catch {
    return true; // just created, pid not written yet: treat as held
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function withLock<T>(
  path: string,
  run: () => Promise<T>,
  options: { timeoutMs?: number; onWait?: () => void } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (!holderAlive(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${path}`);
    if (!waited) options.onWait?.();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    return await run();
  } finally {
    rmSync(path, { force: true });
  }
}
