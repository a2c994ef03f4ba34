/**
 * The central's process: configuration, the database (DATABASE_URL or the
 * embedded one, migrated), then one HTTP(S) server for the dashboard, the API
 * and the agents' socket. SIGTERM or SIGINT shut it down cleanly, draining
 * first (the load balancer sees /readyz turn 503, agents move to another
 * replica at once); a second signal exits at once.
 *
 *   npm start                    (after `npm run build`: node apps/web/dist/server.js)
 *   npx tsx apps/web/server.ts   (dev: Next.js compiles on demand)
 */
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createFleetServer } from "./src/server/app-server";
import { getDb, setDatabaseUrl } from "./src/server/db/client";
import { EmbeddedPostgresError, resolveDatabase } from "./src/server/db/embedded-postgres";
import { defaultProcessNodeEnv, EnvError, inheritedEnv, loadEnv } from "./src/server/env";
import { createLogger } from "./src/server/logger";

const here = dirname(fileURLToPath(import.meta.url));
// Built by `npm run build` into apps/web/dist (with the dashboard's production build beside it).
const built = basename(here) === "dist";
/** apps/web, the Next.js app's directory, from source or built. */
const webAppDir = built ? dirname(here) : here;
// Built means production unless told otherwise.
if (built) defaultProcessNodeEnv("production");

async function main(): Promise<void> {
  let env: ReturnType<typeof loadEnv>;
  try {
    env = loadEnv();
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const log = createLogger(env);
  const database = await resolveDatabase({
    env,
    inheritedEnv: inheritedEnv(),
    log: (message) => log.info(message),
  });
  setDatabaseUrl(database.url);
  let fleet: Awaited<ReturnType<typeof createFleetServer>>;
  try {
    fleet = await createFleetServer({
      env,
      db: getDb(),
      log,
      next: true,
      dev: env.NODE_ENV !== "production",
      nextDir: webAppDir,
    });
  } catch (error) {
    await database.stop();
    throw error;
  }
  log.info(
    { url: fleet.url, publicUrl: env.FLEET_PUBLIC_URL, embeddedDatabase: database.embedded },
    `Fleet central listening on ${fleet.url}`,
  );

  let shuttingDown = false;
  const shutDown = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    shuttingDown = true;
    // close() drains first: /readyz 503, agents told to reconnect elsewhere (4012), HTTP served a moment longer.
    log.info(`${signal}: draining, then shutting down`);
    fleet
      .close()
      .then(() => database.stop())
      .then(() => {
        log.info("shut down cleanly");
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", shutDown);
  process.on("SIGINT", shutDown);
}

main().catch((error: unknown) => {
  // The embedded database's refusals say what to do; a stack would bury that.
  console.error(error instanceof EmbeddedPostgresError ? error.message : error);
  process.exit(1);
});
