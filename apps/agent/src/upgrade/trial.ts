/**
 * The switch from the running agent (A) to a staged binary (B, `<exe>.new`),
 * run by A after it has closed its link (its containers keep running; B
 * adopts them as any restarted agent does).
 *
 * A starts B detached, with the same arguments and inherited stdout/stderr
 * (the same log destination), and `FLEET_AGENT_TRIAL` naming a file B writes
 * once the central accepted its hello. Until then only B talks to the central
 * and touches the state dir: A has stopped everything but this wait.
 *
 * - B signals in time: A renames `<exe>.new` over `<exe>` (one atomic rename
 *   on the same filesystem). Run in the background, B simply goes on and A
 *   exits 0. Under systemd (INVOCATION_ID set; the unit has KillMode=process
 *   and Restart=always), B would outlive A beside the unit's next start of the
 *   same binary, so A stops B (SIGTERM: it closes its link, containers keep
 *   running) and exits for systemd to start `<exe>`, which is now B.
 * - B exits, or stays silent past the deadline: A kills B, deletes the staged
 *   file and dials again itself, reporting why (`agent.upgrade-failed`).
 *
 * May import: node built-ins.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** In B's environment: the file to write once connected. */
export const TRIAL_ENV = "FLEET_AGENT_TRIAL";
/** In B's environment: the path B will be known by once kept (it runs as `<exe>.new` until then). */
export const EXECUTABLE_ENV = "FLEET_AGENT_EXECUTABLE";
/** Overrides the trial deadline (tests use a few seconds). */
export const TRIAL_DEADLINE_ENV = "FLEET_AGENT_UPGRADE_DEADLINE_MS";
export const DEFAULT_TRIAL_DEADLINE_MS = 60_000;
export const TRIAL_OK = "connected\n";

export type TTrialOutcome = { ok: true; child: ChildProcess } | { ok: false; reason: string };

export interface TrialOptions {
  executable: string;
  staged: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  stateDir: string;
  deadlineMs: number;
  pollMs?: number;
}

export function trialFileOf(stateDir: string): string {
  return join(stateDir, "upgrade-trial");
}

/** Starts B and waits for its signal, its exit or the deadline. */
export async function runTrial(opts: TrialOptions): Promise<TTrialOutcome> {
  const signalFile = trialFileOf(opts.stateDir);
  await rm(signalFile, { force: true });
  let child: ChildProcess;
  try {
    child = spawn(opts.staged, opts.args, {
      env: { ...opts.env, [TRIAL_ENV]: signalFile, [EXECUTABLE_ENV]: opts.executable },
      stdio: ["ignore", "inherit", "inherit"],
      detached: true,
    });
  } catch (error) {
    return { ok: false, reason: `the new binary could not be started: ${(error as Error).message}` };
  }
  let exited: string | null = null;
  child.once("error", (error) => {
    exited = `the new binary could not be started: ${error.message}`;
  });
  child.once("exit", (code, signal) => {
    exited = `the new binary exited (${signal ?? `code ${code}`}) before it connected`;
  });
  const deadline = Date.now() + opts.deadlineMs;
  const pollMs = opts.pollMs ?? 200;
  for (;;) {
    if ((await readFile(signalFile, "utf8").catch(() => "")) === TRIAL_OK) break;
    if (exited !== null) return fail(opts, child, exited);
    if (Date.now() >= deadline)
      return fail(opts, child, `the new binary did not connect within ${opts.deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  await rm(signalFile, { force: true });
  try {
    await rename(opts.staged, opts.executable);
  } catch (error) {
    return fail(
      opts,
      child,
      `the new binary connected but could not replace ${opts.executable}: ${(error as Error).message}`,
    );
  }
  child.unref();
  return { ok: true, child };
}

async function fail(opts: TrialOptions, child: ChildProcess, reason: string): Promise<TTrialOutcome> {
  // No pid: it never started, and no exit will come.
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await gone;
  }
  await rm(opts.staged, { force: true });
  await rm(trialFileOf(opts.stateDir), { force: true });
  return { ok: false, reason };
}

/** Under systemd the unit starts `<exe>` again once A exits; B must not run beside it. */
export async function stopTrialChild(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await gone;
  clearTimeout(timer);
}
