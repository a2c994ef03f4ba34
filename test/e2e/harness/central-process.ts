/**
 * The central as its own process, started the way a person starts it, for
 * tests that must kill it (SIGKILL) and start it again. `centralCommand()` is
 * that one command; everything else here only starts it, waits for it and
 * stops it.
 *
 * May import: node built-ins, the build (scripts/build), the harness's ports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { buildTargets } from "../../../scripts/build/build";
import { REPO_ROOT } from "../../../scripts/build/paths";

/** How a person starts the central: `npm start` runs the built server (node apps/web/dist/server.js). */
export function centralCommand(): { command: string; args: string[] } {
  return { command: "npm", args: ["start"] };
}

/** The build `centralCommand()` runs, redone when its sources changed (the dashboard's is the e2e globalSetup's). */
export async function ensureCentralBuild(): Promise<void> {
  await buildTargets(["central"], {
    ifStale: true,
    log: (line: string) => process.stderr.write(`central-process: ${line}\n`),
  });
}

export interface CentralProcess {
  url: string;
  /** The process group's leader (npm); the server itself is a child of it. */
  pid: number;
  output(): string;
  /** SIGKILL to the whole process group, as an OOM killer or `kill -9` of a service would. */
  killHard(): Promise<void>;
  /** SIGTERM to the server and a wait until it has stopped its database. */
  stop(): Promise<void>;
}

export interface StartCentralProcessOptions {
  port: number;
  fleetDataDir: string;
  /** Added to a copy of this process's environment without DATABASE_URL or any FLEET_ variable. */
  env: Record<string, string>;
  timeoutMs?: number;
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === "DATABASE_URL" || key.startsWith("FLEET_")) delete env[key];
  }
  return env;
}

/** Where the central that holds the embedded database says it is: its pid, from the data directory's lock. */
export function embeddedDatabaseHolder(fleetDataDir: string): number | null {
  const lock = `${fleetDataDir}/postgres.lock`;
  if (!existsSync(lock)) return null;
  try {
    return (JSON.parse(readFileSync(lock, "utf8")) as { pid: number }).pid;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startCentralProcess(options: StartCentralProcessOptions): Promise<CentralProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const { command, args } = centralCommand();
  const child: ChildProcess = spawn(command, args, {
    cwd: REPO_ROOT,
    env: {
      ...baseEnv(),
      PORT: String(options.port),
      HOST: "127.0.0.1",
      FLEET_DATA_DIR: options.fleetDataDir,
      FLEET_PUBLIC_URL: url,
      ...options.env,
    },
    // Its own process group, so a hard kill takes npm and the server together.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-64 * 1024);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = once(child, "exit");
  const pid = child.pid ?? 0;

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the central exited (${child.exitCode ?? child.signalCode}) before it answered:\n${output}`,
      );
    }
    const healthy = await fetch(`${url}/api/trpc/health`)
      .then((response) => response.ok)
      .catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      process.kill(-pid, "SIGKILL");
      throw new Error(`the central did not answer on ${url} in time:\n${output}`);
    }
    await sleep(200);
  }

  return {
    url,
    pid,
    output: () => output,
    async killHard() {
      process.kill(-pid, "SIGKILL");
      await exited;
    },
    async stop() {
      const server = embeddedDatabaseHolder(options.fleetDataDir);
      if (server) process.kill(server, "SIGTERM");
      else process.kill(-pid, "SIGTERM");
      await exited;
      // The database's lock goes last, once its server has stopped.
      for (let i = 0; i < 300 && embeddedDatabaseHolder(options.fleetDataDir) !== null; i++) await sleep(100);
    },
  };
}
