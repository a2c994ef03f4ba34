/**
 * One `fleet-agent` process for the footprint benchmark, either the built executable or
 * the agent run from source through tsx, and what it costs the machine: its whole process
 * tree (tsx keeps an esbuild service beside node), read from /proc.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";

export type TAgentKind = "executable" | "tsx";

export interface AgentProcess {
  kind: TAgentKind;
  child: ChildProcess;
  /** Wall-clock ms from spawning until the agent logged "connected to the central". */
  connected: Promise<number>;
  outputTail(): string;
  stop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

export function spawnAgent(options: {
  kind: TAgentKind;
  /** The executable, or node's path for tsx. */
  command: string;
  /** For tsx: the bin script first. */
  prefixArgs: string[];
  args: string[];
  cwd: string;
  nodeOptions?: string;
}): AgentProcess {
  const spawnedAt = Date.now();
  const child = spawn(options.command, [...options.prefixArgs, ...options.args, "--log-level", "info"], {
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
    // As systemd would: only what the agent needs, plus node options to try (heap flags).
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...(options.nodeOptions ? { NODE_OPTIONS: options.nodeOptions } : {}),
    } as unknown as NodeJS.ProcessEnv,
  });
  let tail = "";
  let pending = "";
  let resolveConnected: (ms: number) => void = () => {};
  let rejectConnected: (error: Error) => void = () => {};
  const connected = new Promise<number>((resolve, reject) => {
    resolveConnected = resolve;
    rejectConnected = reject;
  });
  // Awaited by the caller; this only keeps a failure after a stop from counting as unhandled.
  connected.catch(() => {});
  const timer = setTimeout(
    () => rejectConnected(new Error(`the ${options.kind} agent did not connect within 60 s`)),
    CONNECT_TIMEOUT_MS,
  );
  child.stdout?.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-8000);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.includes('"connected to the central"')) continue;
      const { time } = JSON.parse(line) as { time: number };
      clearTimeout(timer);
      resolveConnected(time - spawnedAt);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8000);
  });
  child.once("exit", (code, signal) => {
    clearTimeout(timer);
    rejectConnected(new Error(`the ${options.kind} agent exited (code ${code}, signal ${signal})`));
  });
  return {
    kind: options.kind,
    child,
    connected,
    outputTail: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(kill);
    },
  };
}

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  ticksPerSecond ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  return ticksPerSecond;
}

/** Pids of `root` and everything under it. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), pid]);
    } catch {
      // Gone since the listing.
    }
  }
  const tree: number[] = [];
  const visit = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}

export interface TTreeUsage {
  processes: number;
  rssBytes: number;
  /** The parts of RSS: memory the processes wrote (heap, stacks), and mapped files (their code). */
  rssAnonBytes: number;
  rssFileBytes: number;
  /** User + system CPU so far, summed over the tree. */
  cpuMs: number;
}

export function treeUsage(root: number): TTreeUsage {
  let rssBytes = 0;
  let rssAnonBytes = 0;
  let rssFileBytes = 0;
  let cpuMs = 0;
  let processes = 0;
  for (const pid of processTree(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are the 14th and 15th fields of the whole line.
      cpuMs += ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
      rssBytes += kb("VmRSS") * 1024;
      rssAnonBytes += kb("RssAnon") * 1024;
      rssFileBytes += kb("RssFile") * 1024;
      processes++;
    } catch {
      // Exited between the listing and the read.
    }
  }
  return { processes, rssBytes, rssAnonBytes, rssFileBytes, cpuMs };
}

/** Median wall time of `runs` runs of `command --version` (process start to exit). */
export function versionStartMs(command: string, prefixArgs: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(command, [...prefixArgs, "--version"], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${command} --version failed: ${result.stderr}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
