/**
 * The real `fleet` command line (`apps/cli/bin/fleet.js`) in a child process,
 * as a person runs it from the root namespace: a config home of its own
 * (`XDG_CONFIG_HOME`), so `fleet login` writes there and nowhere else, and
 * nothing of this process's environment but PATH. Each run is printed with
 * its exit code and time (`fleet e2e cli: $ fleet …`), and one that outlives
 * its timeout is SIGKILLed and reported with its output.
 *
 * May import: node built-ins, ./dashboard-build (the checkout's root).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../../../scripts/build/paths";

const CLI_BIN = join(REPO_ROOT, "apps/cli/bin/fleet.js");
const DEFAULT_TIMEOUT_MS = 60_000;

export interface CliResult {
  args: readonly string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A `fleet` process still running (say, `logs -f`), its output as it comes. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the whole run once the process exited. */
  exited(): Promise<CliResult>;
  /** SIGINT, as Ctrl-C; resolves when it exited. */
  interrupt(): Promise<CliResult>;
  /** SIGKILL if still running; for cleanup after a failure. */
  kill(): void;
}

export interface FleetCli {
  /** The config home (`$XDG_CONFIG_HOME`, also `$HOME`). */
  home: string;
  run(args: readonly string[], options?: { timeoutMs?: number }): Promise<CliResult>;
  spawn(args: readonly string[]): CliProcess;
}

/** A way to run `fleet`, with `home` (created here) as its config home. */
export async function fleetCli(home: string): Promise<FleetCli> {
  await mkdir(home, { recursive: true });
  const start = (args: readonly string[]): CliProcess => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: home,
      env: {
        NODE_ENV: "production",
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        XDG_CONFIG_HOME: home,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exit = new Promise<CliResult>((resolve, reject) => {
      child.once("error", reject);
      // "close", not "exit": the pipes are drained by then.
      child.once("close", (code, signal) => {
        const result = { args, code, signal, stdout, stderr, ms: Math.round(performance.now() - started) };
        process.stderr.write(`fleet e2e cli: ${describeRun(result)}\n`);
        resolve(result);
      });
    });
    return {
      child,
      stdout: () => stdout,
      stderr: () => stderr,
      exited: () => exit,
      interrupt() {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
        return exit;
      },
      kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      },
    };
  };
  return {
    home,
    async run(args, options = {}) {
      const running = start(args);
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        running.kill();
      }, timeoutMs);
      const result = await running.exited();
      clearTimeout(timer);
      if (timedOut) throw new Error(`still running after ${timeoutMs} ms, killed:\n${cliOutput(result)}`);
      return result;
    },
    spawn: start,
  };
}

/** `$ fleet ps --json (exit 0, 1.02 s)`, with a token given on the command line left out. */
export function describeRun(result: CliResult): string {
  const how = result.signal ? `signal ${result.signal}` : `exit ${result.code}`;
  const args = result.args.map((arg, index) => (result.args[index - 1] === "--token" ? "<token>" : arg));
  return `$ fleet ${args.join(" ")} (${how}, ${(result.ms / 1000).toFixed(2)} s)`;
}

/** The command, its exit and its output, for a failure message. */
export function cliOutput(result: CliResult): string {
  return `${describeRun(result)}\n--- stdout:\n${result.stdout.slice(-4000)}\n--- stderr:\n${result.stderr.slice(-4000)}`;
}

/**
 * An aligned table as the CLI prints it (headers, then rows; three spaces
 * between columns, the last unpadded) as one record per row by header: each
 * column starts where its header does.
 */
export function parseTable(text: string, headers: readonly string[]): Record<string, string>[] {
  const [header, ...rows] = text.trimEnd().split("\n");
  if (header === undefined) throw new Error("no table: the output is empty");
  const starts: number[] = [];
  let from = 0;
  for (const name of headers) {
    const at = header.indexOf(name, from);
    if (at < 0 || (starts.length === 0 && at !== 0)) throw new Error(`no ${name} column in: ${header}`);
    starts.push(at);
    from = at + name.length;
  }
  return rows.map((row) =>
    Object.fromEntries(
      headers.map((name, column) => [
        name,
        row.slice(starts[column], starts[column + 1] ?? row.length).trim(),
      ]),
    ),
  );
}
