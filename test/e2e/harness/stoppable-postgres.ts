import { existsSync, readFileSync, rmSync } from "node:fs";
import { migrate } from "@fleet/web/server/db/migrator";
import pg from "pg";
import { registerExitCleanup } from "../../harness/engines";
import { findPostgresBinDir, preparePostgresDir } from "../../harness/global-setup";
import { findFreePort } from "../../harness/ports";

export interface StoppablePostgres {
  /** The migrated database's URL (`…/fleet`). */
  url: string;
  port: number;
  /** `pg_ctl stop -m fast`: open sessions are ended, new ones refused, until `start()`. */
  stop(): void;
  start(): void;
  readonly running: boolean;
  /** The server's log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops the server at once and deletes its files. Idempotent. */
  remove(): void;
}

export async function startStoppablePostgres(): Promise<StoppablePostgres> {
  const binDir = findPostgresBinDir();
  const { baseDir, dataDir, logFile, run } = preparePostgresDir(binDir, "fleet-e2e-pg-");
  const port = await findFreePort();
  const serverOptions = [
    `-p ${port}`,
    `-k ${baseDir}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=300",
  ].join(" ");
  let running = false;
  let removed = false;
  const logTail = (lines = 30) =>
    existsSync(logFile) ? readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "";
  const start = () => {
    try {
      run("pg_ctl", ["-D", dataDir, "-l", logFile, "-o", serverOptions, "-w", "-t", "60", "start"]);
    } catch (error) {
      throw new Error(
        `could not start the private PostgreSQL on port ${port}: ${String(error)}\n${logTail()}`,
      );
    }
    running = true;
  };
  const stopNow = () => {
    if (!running) return;
    running = false;
    run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
  };
  const remove = () => {
    if (removed) return;
    removed = true;
    unregister();
    try {
      stopNow();
    } finally {
      rmSync(baseDir, { recursive: true, force: true });
    }
  };
  const unregister = registerExitCleanup(() => {
    removed = true;
    try {
      stopNow();
    } catch {
      // exiting anyway
    }
    rmSync(baseDir, { recursive: true, force: true });
  });

  try {
    run("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
    start();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE "fleet"');
    } finally {
      await admin.end();
    }
    const url = `postgres://postgres@127.0.0.1:${port}/fleet`;
    await migrate({ databaseUrl: url });
    return {
      url,
      port,
      stop() {
        if (!running) return;
        run("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
        running = false;
      },
      start,
      get running() {
        return running;
      },
      logTail,
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
