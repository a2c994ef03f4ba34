/**
 * The real `fleet-agent` process, started from the join command the dashboard
 * shows (as a person would paste it on a new host), pointed at a test engine.
 *
 * May import: node built-ins, ../../harness.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../../scripts/build/paths";
import type { TestEngine } from "../../harness/engines";

const AGENT_BIN = join(REPO_ROOT, "apps/agent/bin/fleet-agent.js");

export interface JoinCommand {
  server: string;
  joinToken: string;
  /** `sha256//…` when the central's key is pinned. */
  serverPin: string | null;
  labels: string[];
}

/** Splits a POSIX shell line into words: enough for the join command (plain words, '…' and "…" quotes, \ escapes). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  // Separate from `word`: '' is a word of its own.
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    const next = line.charAt(i + 1);
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && next !== "" && '"\\$`'.includes(next)) word += line.charAt(++i);
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "\\" && next !== "") word += line.charAt(++i);
      else word += ch;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * What the agent needs from the command the dashboard shows: the server (the
 * origin the install script is fetched from), `--join-token`,
 * `--server-pin` and every `--label`. Takes a plain `fleet-agent --server …`
 * line too.
 */
export function parseJoinCommand(command: string): JoinCommand {
  // The command may be wrapped over lines with trailing backslashes.
  const words = shellWords(command.replace(/\\\r?\n/g, " "));
  const labels: string[] = [];
  let server = words
    .find((word) => /^https:\/\/[^/]+\/install\.sh$/.test(word))
    ?.replace(/\/install\.sh$/, "");
  let joinToken: string | undefined;
  let serverPin: string | null = null;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const [flag, inline] =
      word.startsWith("--") && word.includes("=") ? word.split(/=(.*)/s) : [word, undefined];
    const value = () => inline ?? words[++i];
    if (flag === "--server") server = value();
    else if (flag === "--join-token") joinToken = value();
    else if (flag === "--server-pin") serverPin = value() ?? null;
    else if (flag === "--label") {
      const label = value();
      if (label) labels.push(label);
    }
  }
  if (!server || !joinToken) {
    throw new Error(`the join command lacks --server or --join-token: ${command}`);
  }
  return { server, joinToken, serverPin, labels };
}

export interface E2eAgent {
  process: ChildProcess;
  name: string;
  /** stdout and stderr so far (JSON log lines), for failure messages. */
  output(): string;
  /** SIGTERM (SIGKILL after 15 s), then removes its state dir. Idempotent. */
  stop(): Promise<void>;
}

export async function spawnAgent(options: {
  join: JoinCommand;
  engine: TestEngine;
  name: string;
}): Promise<E2eAgent> {
  const { join: joinCommand, engine, name } = options;
  const stateDir = await mkdtemp(join(tmpdir(), "fleet-e2e-agent-"));
  const args = [
    AGENT_BIN,
    ...["--server", joinCommand.server, "--join-token", joinCommand.joinToken],
    ...(joinCommand.serverPin ? ["--server-pin", joinCommand.serverPin] : []),
    ...joinCommand.labels.flatMap((label) => ["--label", label]),
    ...["--engine", engine.dockerHost, "--cgroup-parent", engine.cgroupParent],
    ...["--state-dir", stateDir, "--name", name, "--log-level", "info"],
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], cwd: tmpdir() });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // The agent must not outlive a test process that dies without its afterAll.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(stateDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return { process: child, name, output: () => output, stop };
}
