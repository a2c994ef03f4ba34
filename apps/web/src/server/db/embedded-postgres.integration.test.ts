import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inheritedEnv } from "../env";
import { createPrismaClient } from "./client";
import { isAlive, isPostmasterOf, readClusterState } from "./data-dir-state";
import {
  DEFAULT_EMBEDDED_POSTGRES_PORT,
  EmbeddedPostgresError,
  resolveDatabase,
  startEmbeddedPostgres,
} from "./embedded-postgres";
import { migrate, readMigrations } from "./migrator";
import { PgliteDataDirError } from "./pglite-data-dir";
import { defaultMigrationsDir } from "./project-paths";
import { findSchemaDrift } from "./testing/schema-drift";

// What the central hands the embedded server of its own environment.
const inherited = inheritedEnv();

const HOLDER = fileURLToPath(new URL("../testing/embedded-postgres-holder.ts", import.meta.url));
const asRoot = process.getuid?.() === 0;

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fleet-embedded-"));
  // mkdtemp makes it 0700; as root the server runs as another user, who must get in.
  await chmod(scratch, 0o755);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function processUid(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const line = status.split("\n").find((entry) => entry.startsWith("Uid:"));
  return Number(line?.split(/\s+/)[1]);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("the embedded PostgreSQL server", () => {
  it("runs unprivileged on loopback with a password, is migrated on first start and keeps its data across restarts", async () => {
    const fleetDataDir = join(scratch, "first");
    const env = { FLEET_DATA_DIR: fleetDataDir };
    const local = await readMigrations(defaultMigrationsDir());
    const messages: string[] = [];

    const first = await resolveDatabase({
      inheritedEnv: inherited,
      env,
      log: (message) => messages.push(message),
    });
    try {
      expect(first.embedded).toBe(true);
      expect(first.dataDir).toBe(join(fleetDataDir, "postgres"));
      expect(first.applied).toEqual(local.map((migration) => migration.name));
      expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres/);

      // A real server, not run as root: as root it is the postgres user,
      // who owns the data directory (0700, as postgres demands).
      const [row] = await query<{ version: string; listen: string }>(
        first.url,
        "SELECT version(), current_setting('listen_addresses') AS listen",
      );
      expect(row?.version).toMatch(/^PostgreSQL 18\./);
      expect(row?.listen).toBe("127.0.0.1");
      const pidLine = (await readFile(join(first.dataDir ?? "", "postmaster.pid"), "utf8")).split("\n")[0];
      const serverUid = await processUid(Number(pidLine));
      const dirInfo = await stat(first.dataDir ?? "");
      expect(dirInfo.mode & 0o777).toBe(0o700);
      expect(dirInfo.uid).toBe(serverUid);
      if (asRoot) expect(serverUid).not.toBe(0);
      else expect(serverUid).toBe(process.getuid?.());

      // Loopback is shared with every local user: no password, no entry.
      const withoutPassword = new URL(first.url);
      withoutPassword.password = "";
      await expect(query(withoutPassword.toString(), "SELECT 1")).rejects.toThrow();

      expect(await findSchemaDrift({ databaseUrl: first.url })).toEqual([]);
      const prisma = createPrismaClient(first.url);
      try {
        await prisma.host.create({
          data: {
            name: "embedded-host",
            labels: { zone: "a" },
            cpuCapacityMillis: 4000,
            memoryCapacityBytes: 16n * 1024n ** 3n,
          },
        });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await first.stop();
    }
    expect(messages.some((message) => message.includes("creating a new database cluster"))).toBe(true);
    expect(await readClusterState(join(fleetDataDir, "postgres"))).toBe("shut down");
    expect(existsSync(join(fleetDataDir, "postgres.lock"))).toBe(false);

    const second = await resolveDatabase({ inheritedEnv: inherited, env });
    try {
      expect(second.applied).toEqual([]);
      expect((await migrate({ databaseUrl: second.url })).applied).toEqual([]);
      const prisma = createPrismaClient(second.url);
      try {
        const host = await prisma.host.findUniqueOrThrow({
          where: { name: "embedded-host" },
          select: { labels: true, cpuCapacityMillis: true, memoryCapacityBytes: true, status: true },
        });
        expect(host).toEqual({
          labels: { zone: "a" },
          cpuCapacityMillis: 4000,
          memoryCapacityBytes: 16n * 1024n ** 3n,
          status: "offline",
        });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await second.stop();
    }
  });

  it("refuses a data directory that is already open in this process", async () => {
    const dataDir = join(scratch, "first", "postgres");
    const running = await startEmbeddedPostgres({ inheritedEnv: inherited, dataDir });
    try {
      await expect(startEmbeddedPostgres({ inheritedEnv: inherited, dataDir })).rejects.toThrow(
        /already open/,
      );
    } finally {
      await running.stop();
    }
  });

  it("falls back to another port below 32768 when the default one is taken", async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => {
      holder.once("error", () => resolve());
      holder.listen(DEFAULT_EMBEDDED_POSTGRES_PORT, "127.0.0.1", () => resolve());
    });
    const embedded = await startEmbeddedPostgres({
      inheritedEnv: inherited,
      dataDir: join(scratch, "first", "postgres"),
    });
    try {
      expect(embedded.port).not.toBe(DEFAULT_EMBEDDED_POSTGRES_PORT);
      expect(embedded.port).toBeLessThan(32768);
      const [row] = await query<{ answer: number }>(embedded.url, "SELECT 6 * 7 AS answer");
      expect(row?.answer).toBe(42);
    } finally {
      await embedded.stop();
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it("makes no cluster in a directory that holds something else", async () => {
    const dataDir = join(scratch, "occupied");
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, "notes.txt"), "mine\n");
    await expect(startEmbeddedPostgres({ inheritedEnv: inherited, dataDir })).rejects.toThrow(
      /not empty but is no PostgreSQL data directory/,
    );
    expect(await readdir(dataDir)).toEqual(["notes.txt"]);
  });
});

interface Holder {
  child: ChildProcess;
  pid: number;
  postgresPid: number;
}

// A process that runs the server on dataDir and commits `rows` rows to `table`.
async function startHolder(dataDir: string, table: string, rows: number): Promise<Holder> {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, dataDir, table, String(rows)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const end = stdout.indexOf("\n");
      if (end >= 0) resolve(stdout.slice(0, end));
    });
    child.once("exit", (code) => reject(new Error(`the holder exited with ${code}: ${stderr}`)));
  });
  const { postgresPid } = JSON.parse(line) as { postgresPid: number };
  return { child, pid: child.pid ?? 0, postgresPid };
}

async function killHard(holder: Holder): Promise<void> {
  const exited = new Promise((resolve) => holder.child.once("exit", resolve));
  holder.child.kill("SIGKILL");
  await exited;
}

describe("after a central is killed with SIGKILL", () => {
  const dataDir = () => join(scratch, "killed", "postgres");

  it("refuses to start a second server while the first central lives", async () => {
    const holder = await startHolder(dataDir(), "first_life", 100);
    try {
      const refusal = startEmbeddedPostgres({ inheritedEnv: inherited, dataDir: dataDir() });
      await expect(refusal).rejects.toThrow(EmbeddedPostgresError);
      await expect(refusal).rejects.toThrow(`in use by process ${holder.pid}`);
    } finally {
      await killHard(holder);
    }
  });

  it("stops the server the killed central left running and starts its own on the same data", async () => {
    // The holder of the previous test was SIGKILLed; its postgres still runs.
    const pidLine = (await readFile(join(dataDir(), "postmaster.pid"), "utf8")).split("\n")[0];
    const orphan = Number(pidLine);
    expect(await isPostmasterOf(orphan, dataDir())).toBe(true);

    const messages: string[] = [];
    const started = Date.now();
    const server = await startEmbeddedPostgres({
      inheritedEnv: inherited,
      dataDir: dataDir(),
      log: (message) => messages.push(message),
    });
    try {
      expect(messages.join("\n")).toContain(`stopping the PostgreSQL server (pid ${orphan})`);
      expect(await isAlive(orphan)).toBe(false);
      expect(server.pid).not.toBe(orphan);
      const [row] = await query<{ count: string }>(server.url, 'SELECT count(*) FROM "first_life"');
      expect(row?.count).toBe("100");
      process.stderr.write(
        `embedded Postgres: restart over a left-over server took ${Date.now() - started} ms\n`,
      );
    } finally {
      await server.stop();
    }
  });

  it("recovers when the server was killed too: a stale postmaster.pid and an unclean shutdown", async () => {
    const holder = await startHolder(dataDir(), "second_life", 250);
    await killHard(holder);
    process.kill(holder.postgresPid, "SIGKILL");
    for (let i = 0; i < 100 && (await isAlive(holder.postgresPid)); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(join(dataDir(), "postmaster.pid"))).toBe(true);
    expect(await readClusterState(dataDir())).toBe("in production");

    const messages: string[] = [];
    const server = await startEmbeddedPostgres({
      inheritedEnv: inherited,
      dataDir: dataDir(),
      log: (message) => messages.push(message),
    });
    try {
      expect(messages.join("\n")).toContain(`removing a stale postmaster.pid (pid ${holder.postgresPid}`);
      expect(messages.join("\n")).toContain("did not shut down cleanly (state: in production)");
      const rows = await query<{ first: string; second: string }>(
        server.url,
        'SELECT (SELECT count(*) FROM "first_life") AS first, (SELECT count(*) FROM "second_life") AS second',
      );
      expect(rows[0]).toEqual({ first: "100", second: "250" });
    } finally {
      await server.stop();
    }
    const log = await readFile(`${dataDir()}.log`, "utf8");
    expect(log).toMatch(
      /database system was interrupted|was not properly shut down; automatic recovery in progress/,
    );
  });
});

describe("a data directory the server's user cannot reach", () => {
  it.runIf(asRoot)("is refused with the directory that blocks it", async () => {
    const closed = join(scratch, "closed");
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);
    await expect(
      startEmbeddedPostgres({ inheritedEnv: inherited, dataDir: join(closed, "fleet", "postgres") }),
    ).rejects.toThrow(
      `cannot reach the data directory at ${join(closed, "fleet", "postgres")}: ${closed} has mode 0700`,
    );
  });
});

describe("a data directory from the PGlite default", () => {
  it("is refused with the one command that converts it, and nothing is changed", async () => {
    const fleetDataDir = join(scratch, "from-pglite");
    const old = join(fleetDataDir, "pgdata");
    await mkdir(join(old, "base"), { recursive: true });
    // What PGlite leaves: a cluster's files, but never postmaster.opts.
    await writeFile(join(old, "PG_VERSION"), "18\n");
    const before = (await readdir(old)).sort();

    const attempt = resolveDatabase({ inheritedEnv: inherited, env: { FLEET_DATA_DIR: fleetDataDir } });
    await expect(attempt).rejects.toThrow(PgliteDataDirError);
    await expect(attempt).rejects.toThrow(`FLEET_DATA_DIR=${fleetDataDir} npm run db:convert-pglite`);
    expect((await readdir(old)).sort()).toEqual(before);
    expect(existsSync(join(fleetDataDir, "postgres"))).toBe(false);
  });
});

describe("resolveDatabase with DATABASE_URL", () => {
  it("migrates the given server and starts no embedded database", async () => {
    const external = await createTestDatabase({ migrate: false });
    try {
      const env = { DATABASE_URL: external.url, FLEET_DATA_DIR: join(scratch, "unused") };
      const local = await readMigrations(defaultMigrationsDir());

      const resolved = await resolveDatabase({ inheritedEnv: inherited, env });
      await resolved.stop();
      const again = await resolveDatabase({ inheritedEnv: inherited, env });

      expect(resolved).toMatchObject({ url: external.url, embedded: false });
      expect(resolved.applied).toEqual(local.map((migration) => migration.name));
      expect(again.applied).toEqual([]);
      expect(existsSync(join(scratch, "unused"))).toBe(false);
    } finally {
      await external.drop();
    }
  });
});
