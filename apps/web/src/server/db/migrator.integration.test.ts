import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { MigrationError, migrate, migrationChecksum, readMigrations } from "./migrator";
import { defaultMigrationsDir } from "./project-paths";

const databases: TestDatabase[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrate: false });
  databases.push(database);
  return database;
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  applied_steps_count: number;
}

afterEach(async () => {
  await Promise.all(databases.splice(0).map((database) => database.drop()));
});

describe("migrate", () => {
  it("applies every migration to an empty database and records it as Prisma does", async () => {
    const database = await emptyDatabase();
    const local = await readMigrations(defaultMigrationsDir());
    expect(local.length).toBeGreaterThan(0);

    const { applied } = await migrate({ databaseUrl: database.url });

    expect(applied).toEqual(local.map((migration) => migration.name));
    const rows = await query<MigrationRow>(
      database.url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((row) => row.migration_name)).toEqual(applied);
    for (const row of rows) {
      const bytes = await readFile(join(defaultMigrationsDir(), row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(migrationChecksum(bytes));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
    const tables = await query<{ table_name: string }>(
      database.url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'hosts'`,
    );
    expect(tables).toHaveLength(1);
  });

  it("applies nothing when the database is up to date", async () => {
    const database = await emptyDatabase();
    await migrate({ databaseUrl: database.url });
    const messages: string[] = [];

    const second = await migrate({ databaseUrl: database.url, log: (message) => messages.push(message) });

    expect(second.applied).toEqual([]);
    expect(messages).toEqual([]);
  });

  it("refuses to go on when an applied migration was modified", async () => {
    const database = await emptyDatabase();
    const { applied } = await migrate({ databaseUrl: database.url });
    const tampered = applied[0]!;
    await query(database.url, `UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2`, [
      "0".repeat(64),
      tampered,
    ]);

    const attempt = migrate({ databaseUrl: database.url });

    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toMatchObject({
      migration: tampered,
      message: expect.stringContaining("modified"),
    });
  });

  it("refuses to go on when a migration was started but never finished", async () => {
    const database = await emptyDatabase();
    const { applied } = await migrate({ databaseUrl: database.url });
    const failed = applied[0]!;
    await query(
      database.url,
      `UPDATE "_prisma_migrations" SET finished_at = NULL WHERE migration_name = $1`,
      [failed],
    );

    await expect(migrate({ databaseUrl: database.url })).rejects.toMatchObject({
      name: "MigrationError",
      migration: failed,
      message: expect.stringContaining("did not finish"),
    });
  });

  it("ignores history rows marked rolled back and applies the migration again", async () => {
    const database = await emptyDatabase();
    const migrationsDir = await mkdtemp(join(tmpdir(), "fleet-migrations-"));
    try {
      await cp(defaultMigrationsDir(), migrationsDir, { recursive: true });
      await mkdir(join(migrationsDir, "29990101000000_add_note"));
      await writeFile(
        join(migrationsDir, "29990101000000_add_note", "migration.sql"),
        `ALTER TABLE "hosts" ADD COLUMN "note" TEXT;\n`,
      );
      await migrate({ databaseUrl: database.url, migrationsDir });
      await query(
        database.url,
        `ALTER TABLE "hosts" DROP COLUMN "note";
         UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '29990101000000_add_note'`,
      );

      const { applied } = await migrate({ databaseUrl: database.url, migrationsDir });

      expect(applied).toEqual(["29990101000000_add_note"]);
    } finally {
      await rm(migrationsDir, { recursive: true, force: true });
    }
  });

  it("rolls a failing migration back completely and names it", async () => {
    const database = await emptyDatabase();
    const migrationsDir = await mkdtemp(join(tmpdir(), "fleet-migrations-"));
    try {
      await cp(defaultMigrationsDir(), migrationsDir, { recursive: true });
      await mkdir(join(migrationsDir, "29990101000000_broken"));
      await writeFile(
        join(migrationsDir, "29990101000000_broken", "migration.sql"),
        `CREATE TABLE "half_done" ("id" TEXT);\nALTER TABLE "no_such_table" ADD COLUMN "x" TEXT;\n`,
      );

      await expect(migrate({ databaseUrl: database.url, migrationsDir })).rejects.toMatchObject({
        name: "MigrationError",
        migration: "29990101000000_broken",
        message: expect.stringContaining("no_such_table"),
      });

      const leftovers = await query<{ name: string }>(
        database.url,
        `SELECT to_regclass('public.half_done')::text AS name`,
      );
      expect(leftovers[0]?.name).toBeNull();
      const rows = await query<MigrationRow>(database.url, `SELECT migration_name FROM "_prisma_migrations"`);
      expect(rows.map((row) => row.migration_name)).not.toContain("29990101000000_broken");
      // The migrations before it were committed on their own.
      expect(rows.length).toBe((await readMigrations(defaultMigrationsDir())).length);
    } finally {
      await rm(migrationsDir, { recursive: true, force: true });
    }
  });

  it("lets two processes migrate the same empty database at once, applying each migration once", async () => {
    const database = await emptyDatabase();
    const local = await readMigrations(defaultMigrationsDir());

    const [first, second] = await Promise.all([
      migrate({ databaseUrl: database.url }),
      migrate({ databaseUrl: database.url }),
    ]);

    expect([...first.applied, ...second.applied].sort()).toEqual(
      local.map((migration) => migration.name).sort(),
    );
    expect(first.applied.length === 0 || second.applied.length === 0).toBe(true);
    const rows = await query<{ migration_name: string; count: string }>(
      database.url,
      `SELECT migration_name, count(*) AS count FROM "_prisma_migrations" GROUP BY migration_name`,
    );
    expect(rows).toHaveLength(local.length);
    expect(rows.every((row) => row.count === "1")).toBe(true);
  });
});
