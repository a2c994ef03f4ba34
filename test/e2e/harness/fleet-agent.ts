/**
 * The real `fleet-agent` of one fleet host, run inside that host's network
 * namespace (`nsenter --net`, which keeps /sys and the cgroup hierarchies in
 * view) against that host's engine, with a state dir that outlives the
 * process: killed and started again, it comes back as the same host.
 *
 * May import: node built-ins, ../../harness, ./agent.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../../scripts/build/paths";
import type { TestEngine } from "../../harness/engines";
import type { TestNetns } from "../../harness/netns";
import type { JoinCommand } from "./agent";

const AGENT_BIN = join(REPO_ROOT, "apps/agent/bin/fleet-agent.js");
const STOP_GRACE_MS = 15_000;

export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FleetAgentProcess {
  name: string;
  stateDir: string;
  /** The running process, or null before start and after it exited. */
  readonly child: ChildProcess | null;
  /** Starts the process (again, with the same arguments and state dir). */
  start(): void;
  /** Resolves when the current process exits (at once if none runs). */
  exited(): Promise<AgentExit>;
  /** SIGKILL, as a crash or the OOM killer would; containers are left as they are. */
  kill(): Promise<AgentExit>;
  /** SIGTERM (SIGKILL after 15 s); the agent leaves its containers running. Idempotent. */
  stop(): Promise<void>;
  /** Output of every run so far (JSON log lines, last 200 kB), for failure messages. */
  output(): string;
}

export function fleetAgentProcess(options: {
  netns: TestNetns;
  engine: TestEngine;
  join: JoinCommand;
  name: string;
  stateDir: string;
  /** Extra flags after the join command's, e.g. `--label engine=podman`. */
  args?: string[];
}): FleetAgentProcess {
  const { netns, engine, join: joinCommand, name, stateDir } = options;
  const argv = [
    process.execPath,
    AGENT_BIN,
    ...["--server", joinCommand.server, "--join-token", joinCommand.joinToken],
    ...(joinCommand.serverPin ? ["--server-pin", joinCommand.serverPin] : []),
    ...joinCommand.labels.flatMap((label) => ["--label", label]),
    ...["--engine", engine.dockerHost, "--cgroup-parent", engine.cgroupParent],
    ...["--state-dir", stateDir, "--name", name, "--log-level", "info"],
    ...(options.args ?? []),
  ];
  let child: ChildProcess | null = null;
  let exit: Promise<AgentExit> = Promise.resolve({ code: null, signal: null });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };

  return {
    name,
    stateDir,
    get child() {
      return child;
    },
    start() {
      if (child) throw new Error(`agent ${name} is already running`);
      output += `--- start ${new Date().toISOString()}\n`;
      // The state dir's parent is the run dir, never the checkout.
      const started = netns.spawn(argv, { stdio: ["ignore", "pipe", "pipe"], cwd: join(stateDir, "..") });
      started.stdout?.on("data", keep);
      started.stderr?.on("data", keep);
      child = started;
      exit = new Promise<AgentExit>((resolve) => {
        started.once("exit", (code, signal) => {
          output += `--- exit code=${code} signal=${signal}\n`;
          if (child === started) child = null;
          resolve({ code, signal });
        });
      });
    },
    exited: () => exit,
    async kill() {
      child?.kill("SIGKILL");
      return exit;
    },
    async stop() {
      const running = child;
      if (!running) return;
      running.kill("SIGTERM");
      const timer = setTimeout(() => running.kill("SIGKILL"), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    },
    output: () => output,
  };
}
