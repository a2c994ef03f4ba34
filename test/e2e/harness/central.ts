/**
 * The central as `npm run up` runs it (the production build of the dashboard,
 * the API and /agent in one server), in this process, on a free port below
 * 32768 and a test database, with short intervals so live views move within a
 * test, and an administrator and a viewer who sign in with passwords.
 *
 * May import: the web app's server, db and testing factories.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFleetServer, type FleetServer } from "@fleet/web/server/app-server";
import { createPrismaClient, type PrismaClient } from "@fleet/web/server/db/client";
import { loadEnv } from "@fleet/web/server/env";
import { createTestUser } from "@fleet/web/server/testing/factories";
import { type CapturedLog, captureLog } from "@fleet/web/server/testing/test-server";
import { WEB_DIR } from "../../../scripts/build/paths";
import { findFreePort } from "../../harness/ports";

export interface SignInUser {
  email: string;
  password: string;
}

export interface E2eCentral {
  fleet: FleetServer;
  /** http://127.0.0.1:PORT: what the browser opens and agents dial. */
  url: string;
  db: PrismaClient;
  admin: SignInUser;
  viewer: SignInUser;
  log: CapturedLog;
  close(): Promise<void>;
}

export async function startE2eCentral(options: { databaseUrl: string }): Promise<E2eCentral> {
  const db = createPrismaClient(options.databaseUrl);
  // Users exist before the first start, so no bootstrap administrator is made.
  const admin = await createTestUser({ db, role: "admin", email: "admin@e2e.test" });
  const viewer = await createTestUser({ db, role: "viewer", email: "viewer@e2e.test" });
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  // The agent port's key lives here, not in the checkout's .fleet.
  const dataDir = mkdtempSync(join(tmpdir(), "fleet-e2e-central-"));
  const env = loadEnv({
    NODE_ENV: "production",
    PORT: String(port),
    FLEET_AGENT_PORT: String(await findFreePort()),
    FLEET_DATA_DIR: dataDir,
    HOST: "127.0.0.1",
    // The join command shows this URL; the agent dials it.
    FLEET_PUBLIC_URL: url,
    FLEET_HEARTBEAT_INTERVAL: "1s",
    FLEET_METRICS_INTERVAL: "1s",
    FLEET_OFFLINE_AFTER: "10s",
    FLEET_LOG_LEVEL: "warn",
  });
  const log = captureLog("warn");
  let fleet: FleetServer;
  try {
    fleet = await createFleetServer({
      env,
      db,
      log: log.logger,
      next: true,
      dev: false,
      nextDir: WEB_DIR,
      shutdownGraceMs: 2000,
    });
  } catch (error) {
    await db.$disconnect().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    fleet,
    url,
    db,
    admin,
    viewer,
    log,
    close: () => fleet.close().finally(() => rmSync(dataDir, { recursive: true, force: true })),
  };
}
