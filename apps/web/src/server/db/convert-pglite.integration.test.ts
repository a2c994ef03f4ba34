// The conversion the central names when it finds a database of the PGlite
// default: a real PGlite directory (made here with the PGlite release the old
// default used, fetched with npm as the converter does) goes through the
// exact command of the refusal message, and the central then starts on it.

import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inheritedEnv } from "../env";
import { fetchPglite } from "./convert-pglite";
import { resolveDatabase } from "./embedded-postgres";
import { CREATE_MIGRATIONS_TABLE, readMigrations } from "./migrator";
import { PgliteDataDirError } from "./pglite-data-dir";
import { defaultMigrationsDir } from "./project-paths";
import { findSchemaDrift } from "./testing/schema-drift";

// What the central hands the embedded server of its own environment.
const inherited = inheritedEnv();

const execFileAsync = promisify(execFile);

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fleet-convert-"));
  await chmod(scratch, 0o755);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// An old central's database: the first migration only (later ones came with
// later releases), a host, and events from its bigserial.
async function makePgliteDatabase(fleetDataDir: string): Promise<string[]> {
  const pglite = await fetchPglite(await mkdtemp(join(scratch, "pglite-")));
  await mkdir(fleetDataDir, { recursive: true });
  const db = await pglite.open(join(fleetDataDir, "pgdata"));
  try {
    const [first, ...later] = await readMigrations(defaultMigrationsDir());
    if (!first) throw new Error("no migrations");
    await db.exec(CREATE_MIGRATIONS_TABLE);
    await db.exec(first.sql);
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), 1)`,
      [randomUUID(), first.checksum, first.name],
    );
    await db.query(
      `INSERT INTO "hosts" (id, name, labels, cpu_capacity_millis, memory_capacity_bytes, updated_at)
       VALUES ('host-1', 'pglite-host', '{"zone": "b", "note": "it''s \\"quoted\\"\\nand two lines"}', 4000, 9007199254740993, now())`,
    );
    for (const message of ["one", "two", "three"]) {
      await db.query(`INSERT INTO "events" (kind, message, host_id) VALUES ('host.joined', $1, 'host-1')`, [
        message,
      ]);
    }
    return later.map((migration) => migration.name);
  } finally {
    await db.close();
  }
}

describe("npm run db:convert-pglite", () => {
  it("moves a PGlite database into the embedded server, the command the refusal names", async () => {
    const fleetDataDir = join(scratch, "fleet");
    const later = await makePgliteDatabase(fleetDataDir);
    const oldFiles = (await readdir(join(fleetDataDir, "pgdata"))).sort();

    const refusal = await resolveDatabase({
      inheritedEnv: inherited,
      env: { FLEET_DATA_DIR: fleetDataDir },
    }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PgliteDataDirError);
    const command = (refusal as PgliteDataDirError).command;

    const started = Date.now();
    const { stdout } = await execFileAsync("sh", ["-c", command], {
      cwd: resolve(defaultMigrationsDir(), "../.."),
      env: { ...process.env, FLEET_DATA_DIR: "", NODE_ENV: "production" },
    });
    process.stderr.write(`db:convert-pglite took ${Date.now() - started} ms\n${stdout}`);
    expect(stdout).toContain("done in");
    expect(existsSync(join(fleetDataDir, "pgdata"))).toBe(false);
    expect((await readdir(join(fleetDataDir, "pgdata.converted"))).sort()).toEqual(oldFiles);

    const database = await resolveDatabase({
      inheritedEnv: inherited,
      env: { FLEET_DATA_DIR: fleetDataDir },
    });
    try {
      expect(database.applied).toEqual([]);
      expect(await findSchemaDrift({ databaseUrl: database.url })).toEqual([]);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const host = await client.query(
          `SELECT name, labels, memory_capacity_bytes::text AS memory FROM "hosts" WHERE id = 'host-1'`,
        );
        expect(host.rows).toEqual([
          {
            name: "pglite-host",
            labels: { zone: "b", note: 'it\'s "quoted"\nand two lines' },
            memory: "9007199254740993",
          },
        ]);
        const migrations = await client.query<{ name: string }>(
          `SELECT migration_name AS name FROM "_prisma_migrations" ORDER BY migration_name`,
        );
        expect(migrations.rows.map((row) => row.name).slice(1)).toEqual(later);
        // The events sequence goes on after the copied rows.
        const next = await client.query<{ id: string }>(
          `INSERT INTO "events" (kind, message) VALUES ('host.joined', 'four') RETURNING id::text`,
        );
        expect(next.rows[0]?.id).toBe("4");
      } finally {
        await client.end();
      }
    } finally {
      await database.stop();
    }
  });
});
