// Vitest globalSetup of the integration project: makes one PostgreSQL server
// available to every integration test file, whose admin URL test files get with
// `inject("postgresAdminUrl")` (see ./postgres.ts, which creates a database per
// file on it).
//
// TEST_DATABASE_URL, when set, names such a server (a role that may CREATE
// DATABASE). Otherwise a throwaway PostgreSQL is started from the installed
// binaries in a fresh temp dir, tuned for speed over durability, and removed
// at teardown.

import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { findFreePort } from "./ports";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

const PREFERRED_MAJOR = "15";

export function findPostgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const ordered = [PREFERRED_MAJOR, ...majors.filter((major) => major !== PREFERRED_MAJOR)];
  for (const major of ordered) {
    const dir = join(root, major, "bin");
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  throw new Error(
    "integration tests need PostgreSQL server binaries (initdb, pg_ctl under /usr/lib/postgresql/<major>/bin): " +
      "run scripts/install-host-deps, or set TEST_DATABASE_URL to a server where databases may be created",
  );
}

// initdb and postgres refuse to run as root: they run as `postgres` then.
function postgresUserIds(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error("initdb refuses to run as root and there is no `postgres` user to run it as");
  }
  return { uid: Number(uid), gid: Number(gid) };
}

export interface PostgresDir {
  baseDir: string;
  dataDir: string;
  logFile: string;
  /** Runs one of the server's binaries (as `postgres` when this process is root); its stdout. */
  run(binary: string, args: string[]): string;
}

/** A fresh temp dir for a private PostgreSQL server (`<prefix>…`), and a way to run its binaries. */
export function preparePostgresDir(binDir: string, prefix: string): PostgresDir {
  const baseDir = mkdtempSync(join(tmpdir(), prefix));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresUserIds();
    chownSync(baseDir, uid, gid);
  }
  return {
    baseDir,
    dataDir: join(baseDir, "data"),
    logFile: join(baseDir, "postgres.log"),
    run(binary, args) {
      const command = asRoot ? "runuser" : join(binDir, binary);
      const fullArgs = asRoot ? ["-u", "postgres", "--", join(binDir, binary), ...args] : args;
      return execFileSync(command, fullArgs, { cwd: baseDir, stdio: "pipe", encoding: "utf8" });
    },
  };
}

export interface ThrowawayPostgres {
  url: string;
  stop(): void;
}

export function startThrowawayPostgres(binDir: string, port: number): ThrowawayPostgres {
  const { baseDir, dataDir, logFile, run } = preparePostgresDir(binDir, "fleet-test-pg-");
  const serverOptions = [
    `-p ${port}`,
    `-k ${baseDir}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=300",
  ].join(" ");
  try {
    run("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
    run("pg_ctl", ["-D", dataDir, "-l", logFile, "-o", serverOptions, "-w", "-t", "60", "start"]);
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`could not start the test PostgreSQL on port ${port}: ${String(error)}\n${log}`);
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stop);
    try {
      run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    } finally {
      rmSync(baseDir, { recursive: true, force: true });
    }
  };
  // Teardown does not run when vitest is interrupted; never leave a server behind.
  process.on("exit", stop);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
}

export default async function setup(project: TestProject): Promise<() => void> {
  const external = process.env.TEST_DATABASE_URL?.trim();
  if (external) {
    project.provide("postgresAdminUrl", external);
    return () => {};
  }
  const binDir = findPostgresBinDir();
  let lastError: unknown;
  // The port can be taken between the probe and pg_ctl; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const server = startThrowawayPostgres(binDir, await findFreePort());
      project.provide("postgresAdminUrl", server.url);
      return () => server.stop();
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
