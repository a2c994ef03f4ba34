// The database for a one-machine start: PGlite (Postgres compiled to wasm)
// keeping its files on disk and served over TCP on loopback, so Prisma and pg
// connect to it exactly as to a real server. PGlite runs one transaction at a
// time across all connections: fine for a single central, not for production
// or for tests of concurrency (those use a real Postgres).
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { migrate } from "./migrator";

// Fixed so a restarted central keeps its URL; below 32768 so it never collides
// with the kernel's ephemeral client ports.
export const DEFAULT_EMBEDDED_POSTGRES_PORT = 15432;

// The server multiplexes connections onto PGlite's single session; a Prisma
// pool plus the migrator and a few tools fit comfortably.
const MAX_CONNECTIONS = 32;

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  // The Postgres data directory itself (created when missing).
  dataDir: string;
  // A port to use as is. Without it the default port is tried first, then a
  // random free one below 32768.
  port?: number;
}

export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dirname(dataDir), { recursive: true });
  const releaseLock = await lockDataDir(dataDir);
  let db: PGlite | undefined;
  try {
    db = await PGlite.create({ dataDir });
    const { server, port } = await listen(db, options.port);
    let stopped = false;
    const pglite = db;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
      port,
      dataDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop();
        await pglite.close();
        await releaseLock();
      },
    };
  } catch (error) {
    await db?.close().catch(() => {});
    await releaseLock();
    throw error;
  }
}

async function listen(
  db: PGlite,
  port: number | undefined,
): Promise<{ server: PGLiteSocketServer; port: number }> {
  const candidates = port === undefined ? [DEFAULT_EMBEDDED_POSTGRES_PORT, ...randomPorts(20)] : [port];
  let lastError: unknown;
  for (const candidate of candidates) {
    const server = new PGLiteSocketServer({
      db,
      host: "127.0.0.1",
      port: candidate,
      maxConnections: MAX_CONNECTIONS,
    });
    try {
      await server.start();
      return { server, port: candidate };
    } catch (error) {
      lastError = error;
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
  }
  throw new Error(`embedded Postgres: no free port among ${candidates.join(", ")}`, { cause: lastError });
}

function randomPorts(count: number): number[] {
  return Array.from({ length: count }, () => 20_000 + Math.floor(Math.random() * 12_000));
}

// Data directories this process has open (a lock file naming our own pid is
// otherwise ambiguous: a container restarts with the same pid).
const openDataDirs = new Set<string>();

// PGlite does not guard its data directory the way postmaster.pid does, and
// two instances writing one directory corrupt it: take a pid lock beside it.
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = `${dataDir}.lock`;
  if (openDataDirs.has(dataDir)) {
    throw new Error(`embedded Postgres: ${dataDir} is already open in this process`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      openDataDirs.add(dataDir);
      return async () => {
        openDataDirs.delete(dataDir);
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isProcessAlive(owner)) {
        throw new Error(`embedded Postgres: ${dataDir} is in use by process ${owner} (lock ${lockPath})`);
      }
      // Left behind by a process that is gone: take it over.
      await rm(lockPath, { force: true });
    }
  }
  throw new Error(`embedded Postgres: could not lock ${dataDir}`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
  // Migrations applied while resolving (empty when already up to date).
  applied: string[];
  stop(): Promise<void>;
}

export interface ResolveDatabaseOptions {
  // DATABASE_URL selects an external server; otherwise the embedded one lives
  // in <FLEET_DATA_DIR or ./.fleet>/pgdata.
  env: Readonly<Record<string, string | undefined>>;
  migrate?: boolean;
  log?: (message: string) => void;
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
  const dataDir = resolve(env.FLEET_DATA_DIR?.trim() || ".fleet", "pgdata");
  log?.(`DATABASE_URL is not set: using the embedded database in ${dataDir}`);
  const port = env.FLEET_EMBEDDED_DB_PORT ? Number(env.FLEET_EMBEDDED_DB_PORT) : undefined;
  const embedded = await startEmbeddedPostgres({ dataDir, port });
  try {
    const { applied } = shouldMigrate ? await migrate({ databaseUrl: embedded.url, log }) : { applied: [] };
    return { url: embedded.url, embedded: true, applied, stop: embedded.stop };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}
