// `npm run db:migrate`: brings the database up to date and says what it did.
// DATABASE_URL selects the server; without it the embedded PostgreSQL
// server in <FLEET_DATA_DIR or ./.fleet>/postgres is started, migrated and stopped.
import { EnvError, inheritedEnv, loadDatabaseEnv } from "../env";
import { EmbeddedPostgresError, resolveDatabase } from "./embedded-postgres";
import { MigrationError } from "./migrator";

async function main(): Promise<number> {
  const database = await resolveDatabase({
    env: loadDatabaseEnv(),
    inheritedEnv: inheritedEnv(),
    log: (message) => console.log(`db:migrate: ${message}`),
  });
  try {
    const where = database.embedded ? "embedded database" : "database";
    if (database.applied.length === 0) {
      console.log(`db:migrate: ${where} is up to date`);
    } else {
      console.log(`db:migrate: applied ${database.applied.length} migration(s) to the ${where}:`);
      for (const name of database.applied) console.log(`  ${name}`);
    }
    return 0;
  } finally {
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof MigrationError ||
      error instanceof EmbeddedPostgresError ||
      error instanceof EnvError
    ) {
      console.error(`db:migrate: ${error.message}`);
    } else console.error("db:migrate: failed:", error);
    process.exit(1);
  },
);
