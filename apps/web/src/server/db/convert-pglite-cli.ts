// `npm run db:convert-pglite`: converts the database of the PGlite default in
// <FLEET_DATA_DIR or ./.fleet>/pgdata into the embedded PostgreSQL server, as
// the central's refusal to start on such a directory says (convert-pglite.ts).
import { resolve } from "node:path";
import { EnvError, inheritedEnv, loadDatabaseEnv } from "../env";
import { convertPgliteDataDir } from "./convert-pglite";
import { EmbeddedPostgresError } from "./embedded-postgres-error";
import { MigrationError } from "./migrator";

async function main(): Promise<number> {
  const fleetDataDir = resolve(loadDatabaseEnv().FLEET_DATA_DIR);
  const say = (message: string) => console.log(`db:convert-pglite: ${message}`);
  const started = Date.now();
  const result = await convertPgliteDataDir({ fleetDataDir, inheritedEnv: inheritedEnv(), log: say });
  const rows = Object.values(result.rowsByTable).reduce((sum, count) => sum + count, 0);
  say(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${rows} rows in ${Object.keys(result.rowsByTable).length} tables now in ${result.dataDir}` +
      (result.appliedMigrations.length > 0
        ? `, then ${result.appliedMigrations.length} newer migration(s) applied`
        : ""),
  );
  say(`the PGlite files are kept in ${result.keptAs}; delete them once the central runs well`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof EmbeddedPostgresError ||
      error instanceof MigrationError ||
      error instanceof EnvError
    ) {
      console.error(`db:convert-pglite: ${error.message}`);
    } else console.error("db:convert-pglite: failed:", error);
    process.exit(1);
  },
);
