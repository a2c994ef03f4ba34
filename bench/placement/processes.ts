/**
 * What the placement benchmark runs beside itself: central replicas as child processes
 * (central-worker.ts) and the simulated hosts in worker threads (agent-worker.ts), each
 * with a way to wait for its next report; and CPU seconds of a process read from /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { reportQueue, startReportingWorker } from "../common/worker-thread";
import type { AgentWorkerCommand, AgentWorkerData, AgentWorkerReport } from "./agent-worker";
import type { CentralWorkerCommand, CentralWorkerConfig, CentralWorkerReport } from "./central-worker";

// USER_HZ: the unit of /proc/<pid>/stat's times on Linux (100 on every common build).
const CLOCK_TICKS_PER_SECOND = 100;
const CLOSE_TIMEOUT_MS = 15_000;

/** utime + stime of one live process, in seconds (NaN once it is gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3; utime, stime are 14, 15.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Reports in arrival order, taken by kind; a failure report or a crash fails every wait. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface CentralProcess {
  pid: number;
  url: string;
  replicaId: string;
  stats(): Promise<Extract<CentralWorkerReport, { kind: "stats" }>>;
  close(): Promise<void>;
}

/** `cpuProfileDir`: where the central writes a V8 CPU profile as it exits (null: none). */
export async function startCentralProcess(
  config: CentralWorkerConfig,
  cpuProfileDir: string | null,
): Promise<CentralProcess> {
  const entry = new URL("./central-worker.ts", import.meta.url).pathname;
  // stdout goes to our stderr: our stdout ends with the benchmark's JSON line.
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : []),
      ...["--import", import.meta.resolve("tsx"), entry, JSON.stringify(config)],
    ],
    { stdio: ["ignore", 2, 2, "ipc"] },
  );
  const queue = reportQueue<CentralWorkerReport>();
  child.on("message", (report: CentralWorkerReport) => {
    if (report.kind === "failed")
      queue.fail(new Error(`central ${config.replicaId} failed: ${report.error}`));
    else queue.push(report);
  });
  child.on("error", (error) => queue.fail(error));
  child.on("exit", (code, signal) =>
    queue.fail(new Error(`central ${config.replicaId} exited (${code ?? signal})`)),
  );
  const command = (message: CentralWorkerCommand) => child.send(message);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    if (child.connected) command({ kind: "close" });
    if ((await withTimeout(exited, CLOSE_TIMEOUT_MS)) === undefined) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    const { url } = await queue.next("ready");
    return {
      pid: child.pid as number,
      url,
      replicaId: config.replicaId,
      stats: () => {
        command({ kind: "stats" });
        return queue.next("stats");
      },
      close: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface AgentWorker {
  next<K extends Exclude<AgentWorkerReport["kind"], "failed">>(
    kind: K,
  ): Promise<Extract<AgentWorkerReport, { kind: K }>>;
  command(command: AgentWorkerCommand): void;
  close(): Promise<void>;
}

export function startAgentWorker(data: AgentWorkerData): AgentWorker {
  const { worker, next, command } = startReportingWorker<AgentWorkerReport, AgentWorkerCommand>(
    new URL("./agent-worker.ts", import.meta.url),
    data,
  );
  return {
    next,
    command,
    async close() {
      worker.postMessage({ kind: "close" } satisfies AgentWorkerCommand);
      await withTimeout(
        next("closed").catch(() => undefined),
        CLOSE_TIMEOUT_MS,
      );
      await worker.terminate();
    },
  };
}
