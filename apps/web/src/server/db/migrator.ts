// Applies prisma/migrations/*/migration.sql to a database and records them in
// `_prisma_migrations` exactly as Prisma Migrate does, so `prisma migrate
// deploy` sees the same history wherever its engine is available. Prisma's own
// engine cannot run here (see DESIGN.md), hence this module.
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { defaultMigrationsDir } from "./project-paths";

// The advisory lock key Prisma Migrate takes, so this migrator and `prisma
// migrate deploy` also exclude each other.
export const MIGRATION_ADVISORY_LOCK_KEY = 72707369;

// Same definition as Prisma's; IF NOT EXISTS because we create it on every run.
export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  override readonly name = "MigrationError";
  constructor(
    readonly migration: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`migration ${migration}: ${message}`, options);
  }
}

export interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  databaseUrl: string;
  migrationsDir?: string;
  log?: (message: string) => void;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

// Prisma stores the sha256 of the file's bytes as lowercase hex.
export function migrationChecksum(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

// Migrations in the order Prisma applies them: by folder name.
export async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrations: LocalMigration[] = [];
  for (const name of names) {
    const file = join(migrationsDir, name, "migration.sql");
    if (!existsSync(file)) continue;
    const bytes = await readFile(file);
    migrations.push({ name, sql: bytes.toString("utf8"), checksum: migrationChecksum(bytes) });
  }
  return migrations;
}

export async function migrate(options: MigrateOptions): Promise<{ applied: string[] }> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrations(options.migrationsDir ?? defaultMigrationsDir());
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    // Session-level lock held for the whole run: a second process starting at
    // the same time waits here, then finds everything applied.
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_ADVISORY_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const applied = await readAppliedMigrations(client);
      checkHistory(migrations, applied, log);

      const done = new Set(
        applied.filter((row) => row.finished_at !== null).map((row) => row.migration_name),
      );
      const appliedNow: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.name)) continue;
        log(`applying ${migration.name}`);
        await applyMigration(client, migration);
        appliedNow.push(migration.name);
      }
      return { applied: appliedNow };
    } finally {
      // Ending the session releases the lock anyway; never mask the real error.
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_ADVISORY_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function readAppliedMigrations(client: pg.Client): Promise<AppliedRow[]> {
  const result = await client.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at
       FROM "_prisma_migrations"
      WHERE rolled_back_at IS NULL
      ORDER BY started_at, migration_name`,
  );
  return result.rows;
}

// Refuses to go on when the recorded history and the files disagree, as
// Prisma does: an edited migration or a failed one needs a person.
function checkHistory(migrations: LocalMigration[], applied: AppliedRow[], log: (message: string) => void) {
  const local = new Map(migrations.map((migration) => [migration.name, migration]));
  for (const row of applied) {
    if (row.finished_at === null) {
      throw new MigrationError(
        row.migration_name,
        "was started but did not finish; inspect the database, then delete or mark its _prisma_migrations row rolled back",
      );
    }
    const file = local.get(row.migration_name);
    if (!file) {
      log(
        `warning: ${row.migration_name} is recorded in the database but missing from the migrations folder`,
      );
      continue;
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        row.migration_name,
        `was modified after it was applied (checksum ${row.checksum} in the database, ${file.checksum} on disk)`,
      );
    }
  }
}

// One transaction holds the migration and its history row, so a failure leaves
// neither behind. (Statements that cannot run in a transaction, such as CREATE
// INDEX CONCURRENTLY, are therefore not supported.)
async function applyMigration(client: pg.Client, migration: LocalMigration) {
  const id = randomUUID();
  await client.query("BEGIN");
  try {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), 0)`,
      [id, migration.checksum, migration.name],
    );
    await client.query(migration.sql);
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    const message = error instanceof Error ? error.message : String(error);
    throw new MigrationError(migration.name, `failed and was rolled back: ${message}`, { cause: error });
  }
}
