/**
 * `npm run up` (after scripts/bootstrap): starts Fleet on this machine.
 *
 * Starts what exists so far: the database (embedded PGlite under FLEET_DATA_DIR, or
 * DATABASE_URL), migrated. The central (apps/web/server.ts) and a local agent are
 * started here too once they exist; until then this says so.
 */
import { existsSync } from "node:fs";
import { resolveDatabase } from "../apps/web/src/server/db/embedded-postgres";

const log = (message: string) => console.error(`fleet: ${message}`);

const database = await resolveDatabase({ env: process.env, log });
log(database.applied.length > 0 ? `applied migrations: ${database.applied.join(", ")}` : "database is up to date");
log(`database ready: ${database.url}${database.embedded ? " (embedded)" : ""}`);

if (!existsSync(new URL("../apps/web/server.ts", import.meta.url))) {
  log("the central (apps/web/server.ts) and the agent are not part of this build yet: only the database runs");
}
log("press Ctrl-C to stop");

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  log("stopping");
  await database.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// Keep the process (and the embedded database it serves) alive until a signal arrives.
setInterval(() => {}, 1 << 30);
