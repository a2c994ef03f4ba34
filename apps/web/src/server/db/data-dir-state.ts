// What a data directory says about who else uses it, read before the
// embedded server starts: the central that holds it (a lock file beside it),
// a postmaster still running on it (postmaster.pid), and whether the last
// server stopped cleanly (global/pg_control).
//
// A central killed with SIGKILL leaves all three behind: its lock names a dead
// process, its postgres goes on running (it was started in its own session so
// Ctrl-C reaches the central first), and if that postgres was killed too,
// postmaster.pid is stale and pg_control still says "in production".
import { open, readFile, readlink, realpath, rm } from "node:fs/promises";
import { EmbeddedPostgresError } from "./embedded-postgres-error";

export interface ProcessIdentity {
  pid: number;
  // Clock ticks after boot (/proc/<pid>/stat, field 22): tells a pid apart
  // from a later process that was given the same number.
  startTicks: number | null;
}

async function procStat(pid: number): Promise<{ state: string; startTicks: number } | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    // comm, the second field, is in parentheses and may hold spaces.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const state = fields[0] ?? "";
    const startTicks = Number(fields[19]);
    return { state, startTicks: Number.isFinite(startTicks) ? startTicks : Number.NaN };
  } catch {
    return null;
  }
}

export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A zombie answers kill(0) until its parent reaps it, and an orphan's new
  // parent may be a process that never does.
  const stat = await procStat(pid);
  return stat === null || stat.state !== "Z";
}

export async function currentProcess(): Promise<ProcessIdentity> {
  return { pid: process.pid, startTicks: (await procStat(process.pid))?.startTicks ?? null };
}

async function isSameProcessAlive(owner: ProcessIdentity): Promise<boolean> {
  if (!(await isAlive(owner.pid))) return false;
  if (owner.startTicks === null) return true;
  const stat = await procStat(owner.pid);
  return stat === null || stat.startTicks === owner.startTicks;
}

export class DataDirInUseError extends EmbeddedPostgresError {
  override name = "DataDirInUseError";
}

// Data directories this process holds: a second start in the same process is
// refused before the lock file, whose pid would be our own.
const heldHere = new Set<string>();

// The central's claim on a data directory: `<dataDir>.lock` naming the process
// (pid and start time). A claim by a dead process is taken over.
export async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  if (heldHere.has(dataDir)) {
    throw new DataDirInUseError(`embedded Postgres: ${dataDir} is already open in this process`);
  }
  const lockPath = `${dataDir}.lock`;
  const me = await currentProcess();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, "wx", 0o644);
      await handle.writeFile(`${JSON.stringify(me)}\n`);
      await handle.close();
      heldHere.add(dataDir);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        heldHere.delete(dataDir);
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = await readClaim(lockPath);
      if (owner && owner.pid !== process.pid && (await isSameProcessAlive(owner))) {
        throw new DataDirInUseError(
          `embedded Postgres: ${dataDir} is in use by process ${owner.pid} (lock ${lockPath}); stop that central first`,
        );
      }
      // Left behind by a process that is gone (or by this one, before a crash).
      await rm(lockPath, { force: true });
    }
  }
  throw new DataDirInUseError(`embedded Postgres: could not lock ${dataDir} (${lockPath} keeps coming back)`);
}

async function readClaim(lockPath: string): Promise<ProcessIdentity | null> {
  const text = await readFile(lockPath, "utf8").catch(() => "");
  try {
    const parsed = JSON.parse(text) as Partial<ProcessIdentity>;
    if (typeof parsed.pid === "number") {
      return {
        pid: parsed.pid,
        startTicks: typeof parsed.startTicks === "number" ? parsed.startTicks : null,
      };
    }
  } catch {
    // A claim cut short by a crash between create and write: nobody holds it.
  }
  return null;
}

export interface PostmasterPid {
  pid: number;
  port: number | null;
  // "starting", "ready", "stopping" or "standby" (line 8; absent early on).
  status: string | null;
}

export async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | null> {
  let text: string;
  try {
    text = await readFile(`${dataDir}/postmaster.pid`, "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0) return { pid: 0, port: null, status: null };
  const port = Number.parseInt(lines[3] ?? "", 10);
  return { pid, port: Number.isInteger(port) ? port : null, status: lines[7]?.trim() || null };
}

// Whether `pid` is a postmaster serving `dataDir`: postgres changes into its
// data directory, so its cwd names it even after a pid was reused.
export async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  if (!(await isAlive(pid))) return false;
  const comm = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim();
  if (comm !== "postgres") return false;
  const want = await realpath(dataDir).catch(() => dataDir);
  try {
    return (await readlink(`/proc/${pid}/cwd`)) === want;
  } catch {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    return cmdline.split("\0").includes(dataDir) || cmdline.split("\0").includes(want);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await sleep(50);
  }
  return !(await isAlive(pid));
}

// Stops a postmaster that is not our child: fast shutdown (clients are cut,
// a checkpoint is written), then immediate shutdown, then SIGKILL, each after
// a wait. Returns the signal that did it.
export async function stopPostmaster(pid: number, fastTimeoutMs = 30_000): Promise<NodeJS.Signals> {
  const steps: [NodeJS.Signals, number][] = [
    ["SIGINT", fastTimeoutMs],
    ["SIGQUIT", 10_000],
    ["SIGKILL", 10_000],
  ];
  for (const [signal, timeoutMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return signal;
      throw error;
    }
    if (await waitForExit(pid, timeoutMs)) return signal;
  }
  throw new EmbeddedPostgresError(`embedded Postgres: postgres (pid ${pid}) did not exit after SIGKILL`);
}

// pg_control's DBState (src/include/catalog/pg_control.h), a 4-byte enum at
// offset 16: after system_identifier (8), pg_control_version (4) and
// catalog_version_no (4).
const DB_STATES = [
  "starting up",
  "shut down",
  "shut down in recovery",
  "shutting down",
  "in crash recovery",
  "in archive recovery",
  "in production",
] as const;

export type ClusterState = (typeof DB_STATES)[number] | "unknown";

export async function readClusterState(dataDir: string): Promise<ClusterState> {
  try {
    const bytes = await readFile(`${dataDir}/global/pg_control`);
    return DB_STATES[bytes.readInt32LE(16)] ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function isCleanShutdown(state: ClusterState): boolean {
  return state === "shut down" || state === "shut down in recovery";
}
