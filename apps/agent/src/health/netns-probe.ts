/**
 * HTTP and TCP checks from inside the container's network namespace, so they
 * reach `127.0.0.1:<port>` of the container itself: its ports need not be
 * published and it may have no address the host can reach (Docker's own
 * checks run in the container for the same reason). Node cannot `setns`, so
 * the check is a short child process that `nsenter --net=/proc/<pid>/ns/net`
 * puts into the namespace (nsenter execs it, so the pid spawned is the probe
 * itself and a kill ends it). Only the network namespace is entered: the
 * child still sees the host's filesystem, so the agent's own node runs it.
 *
 * The child is this same node with the dependency-free probe of
 * probe-program.ts: from source as `node -e <its source>` (tens of
 * milliseconds to start; tsx or vitest would take far longer), in the single
 * executable, which ignores `-e`, as its hidden subcommand. One function
 * serves both, so what runs from source is what ships.
 */
import { spawn } from "node:child_process";
import { isSea } from "node:sea";
import type { THealthCheckTest } from "@fleet/shared/domain/container-spec";
import type { ProbeOutcome } from "./health-state";
import { HEALTH_PROBE_COMMAND, runHealthProbe } from "./probe-program";

/**
 * The child's whole environment: nothing of the agent's (NODE_OPTIONS could
 * load loaders into it), and a PATH that finds util-linux's nsenter.
 */
// NODE_ENV too: where Next.js's types are in the program (the test
// workspace's typecheck), it is a required key of the environment.
const CHILD_ENV: NodeJS.ProcessEnv = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  NODE_ENV: "production",
};
/** What is kept of the child's stdout and stderr; it writes one short line, anything more is dropped. */
const MAX_CHILD_OUTPUT_BYTES = 4096;

// tsx compiles with esbuild's keepNames, which wraps named inner functions in
// a `__name(…)` helper defined outside the function; the stand-in keeps the
// function's source runnable on its own.
const PROBE_SCRIPT = `"use strict";var __name=(f)=>f;(${runHealthProbe.toString()})(process.argv.slice(1),{http:require("node:http"),net:require("node:net")});`;

export type NetworkTest = Exclude<THealthCheckTest, { type: "exec" }>;

export interface NetnsProbeRequest {
  /** Host pid of a process in the container (its init): whose network namespace to enter. */
  pid: number;
  test: NetworkTest;
  timeoutMs: number;
}

/** The probe's own command line: this program, as a probe, with the test's arguments. */
export function probeCommand(test: NetworkTest, timeoutMs: number): string[] {
  const args =
    test.type === "http"
      ? ["http", String(test.port), test.path, String(timeoutMs)]
      : ["tcp", String(test.port), String(timeoutMs)];
  // Not process.execPath: an upgraded agent keeps running from `<exe>.new`, a name the switch
  // renames away (upgrade/trial.ts); this link opens the very file this process runs, renamed or not.
  const self = `/proc/${process.pid}/exe`;
  return isSea() ? [self, HEALTH_PROBE_COMMAND, ...args] : [self, "-e", PROBE_SCRIPT, ...args];
}

/**
 * Runs one HTTP or TCP check in the namespace of `pid`. Settles with a
 * failure at `timeoutMs` (the child killed); an abort kills the child and
 * rejects with the signal's reason.
 */
export function runNetnsProbe(request: NetnsProbeRequest, signal?: AbortSignal): Promise<ProbeOutcome> {
  return runProbeChild(
    ["nsenter", `--net=/proc/${request.pid}/ns/net`, "--", ...probeCommand(request.test, request.timeoutMs)],
    request.timeoutMs,
    signal,
  );
}

/** Spawns the probe (or anything that answers like it) and reads its verdict; exported for tests without a namespace. */
export function runProbeChild(
  argv: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const [program, ...args] = argv as [string, ...string[]];
    const child = spawn(program, args, { env: CHILD_ENV, stdio: ["ignore", "pipe", "pipe"] });
    const output: Buffer[] = [];
    let outputBytes = 0;
    const keep = (chunk: Buffer) => {
      const room = MAX_CHILD_OUTPUT_BYTES - outputBytes;
      if (room <= 0) return;
      output.push(chunk.subarray(0, room));
      outputBytes += Math.min(room, chunk.length);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let settled = false;
    const settle = (outcome: ProbeOutcome | { error: unknown }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if ("error" in outcome) reject(outcome.error);
      else resolve(outcome);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      settle({ ok: false, message: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    const onAbort = () => {
      child.kill("SIGKILL");
      settle({ error: signal?.reason });
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", (error) => settle({ ok: false, message: `health probe: ${error.message}` }));
    child.once("close", (code, killedBy) => {
      const said = Buffer.concat(output).toString("utf8").trim();
      if (code === 0) settle({ ok: true, message: said });
      else
        settle({ ok: false, message: said || `health probe ended with ${killedBy ?? `exit code ${code}`}` });
    });
  });
}
