/**
 * What the agent-footprint benchmark measures agents against, started privately and torn
 * down in reverse: a private dockerd with the busybox test image built into it, a
 * throwaway PostgreSQL, and the real central (`createFleetServer`, Next.js off) in this
 * process with the default 5 s heartbeat and metrics intervals, plus an admin's API client.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEngine, type TestEngine } from "@fleet/test/harness/engines";
import { findPostgresBinDir, startThrowawayPostgres } from "@fleet/test/harness/global-setup";
import { findFreePort } from "@fleet/test/harness/ports";
import { databaseUrl } from "@fleet/test/harness/postgres";
import { buildTestImage } from "@fleet/test/harness/test-image";
import { createFleetServer, type FleetServer } from "@fleet/web/server/app-server";
import { createPrismaClient } from "@fleet/web/server/db/client";
import { migrate } from "@fleet/web/server/db/migrator";
import { loadEnv } from "@fleet/web/server/env";
import type { AppRouter } from "@fleet/web/server/routers/_app";
import { createSseTestClient } from "@fleet/web/server/routers/event/testing/sse-test-client";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import type { TRPCClient } from "@trpc/client";
import pg from "pg";
import { pino } from "pino";

export const INTERVAL = "5s";

export interface FootprintStack {
  engine: TestEngine;
  client: TRPCClient<AppRouter>;
  centralUrl: string;
  /** A directory for agents' state, removed on close. */
  workDir: string;
  close(): Promise<void>;
}

type Cleanup = { what: string; run: () => Promise<void> | void };

export async function startFootprintStack(log: (message: string) => void): Promise<FootprintStack> {
  const cleanups: Cleanup[] = [];
  const close = async () => {
    for (const { what, run } of cleanups.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        log(`cleanup (${what}) failed: ${String(error)}`);
      }
    }
  };
  try {
    const workDir = await mkdtemp(join(tmpdir(), "fleet-bench-footprint-"));
    cleanups.push({ what: "work dir", run: () => rm(workDir, { recursive: true, force: true }) });

    log("starting dockerd and building the test image");
    const engine = await startEngine("docker", { name: "bench-footprint" });
    cleanups.push({ what: "engine", run: () => engine.stop() });
    await buildTestImage(engine);

    log("starting PostgreSQL");
    const postgres = startThrowawayPostgres(findPostgresBinDir(), await findFreePort());
    cleanups.push({ what: "postgres", run: () => postgres.stop() });
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "fleet_bench"`);
    await admin.end();
    const url = databaseUrl(postgres.url, "fleet_bench");
    await migrate({ databaseUrl: url });
    const db = createPrismaClient(url);
    cleanups.push({ what: "database client", run: () => db.$disconnect() });

    const fleet = await startCentral(db, workDir);
    cleanups.push({ what: "central", run: () => fleet.close() });
    const { token } = await createTestUserWithToken({ db, role: "admin" });
    const client = createSseTestClient<AppRouter>(fleet.url, token);
    log(`central on ${fleet.url}, dockerd at ${engine.socketPath}`);
    return { engine, client, centralUrl: fleet.url, workDir, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startCentral(
  db: ReturnType<typeof createPrismaClient>,
  workDir: string,
): Promise<FleetServer> {
  let lastError: unknown;
  // A free port can be taken between finding it and listening on it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const env = loadEnv({
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(await findFreePort()),
      FLEET_DATA_DIR: join(workDir, "central"),
      FLEET_LOG_LEVEL: "warn",
      FLEET_HEARTBEAT_INTERVAL: INTERVAL,
      FLEET_METRICS_INTERVAL: INTERVAL,
    });
    // stderr: stdout ends with the benchmark's JSON line.
    const logger = pino({ level: env.FLEET_LOG_LEVEL }, pino.destination(2));
    try {
      return await createFleetServer({ env, db, log: logger, next: false, disconnectDbOnClose: false });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
