/**
 * One central replica for the placement benchmark, in a child process of its own: the real
 * central (`createFleetServer`, Next.js off) on 127.0.0.1, as bench/ingest starts it, with
 * its own replica id. A process rather than a thread, so that two replicas are two event
 * loops as in production, and each one's CPU is read from /proc apart from the API
 * clients', the simulated hosts' and Postgres'. Its log goes to stderr.
 *
 * Driven over the IPC channel: it sends `ready` (its URL), answers `stats` (event-loop
 * figures so far) and on `close` stops the central and exits.
 *
 * May import: node built-ins, pino, the test harness's ports, the web app's app server,
 * db client and env.
 */
import { performance } from "node:perf_hooks";
import { findFreePort } from "@fleet/test/harness/ports";
import { createFleetServer, type FleetServer } from "@fleet/web/server/app-server";
import { createPrismaClient, type PrismaClient } from "@fleet/web/server/db/client";
import { loadEnv } from "@fleet/web/server/env";
import { pino } from "pino";

export interface CentralWorkerConfig {
  databaseUrl: string;
  replicaId: string;
}

export type CentralWorkerCommand = { kind: "stats" } | { kind: "close" };

export type CentralWorkerReport =
  | { kind: "ready"; url: string }
  /** Cumulative since the process started: the reader takes differences. */
  | { kind: "stats"; eventLoopActiveMs: number; eventLoopIdleMs: number; rssMb: number }
  | { kind: "closed" }
  | { kind: "failed"; error: string };

const send = (report: CentralWorkerReport) => process.send?.(report);

async function startCentral(db: PrismaClient, config: CentralWorkerConfig): Promise<FleetServer> {
  let lastError: unknown;
  // A free port can be taken between finding it and listening on it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const env = loadEnv({
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(await findFreePort()),
      FLEET_AGENT_PORT: String(await findFreePort()),
      FLEET_LOG_LEVEL: "warn",
      FLEET_REPLICA_ID: config.replicaId,
    });
    const logger = pino({ level: env.FLEET_LOG_LEVEL }, pino.destination(2));
    try {
      return await createFleetServer({ env, db, log: logger, next: false, disconnectDbOnClose: false });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("central-worker.ts runs as a child process with an IPC channel");
  const config = JSON.parse(process.argv[2] ?? "") as CentralWorkerConfig;
  const db = createPrismaClient(config.databaseUrl);
  const fleet = await startCentral(db, config);
  process.on("message", (command: CentralWorkerCommand) => {
    if (command.kind === "stats") {
      const { active, idle } = performance.eventLoopUtilization();
      send({
        kind: "stats",
        eventLoopActiveMs: active,
        eventLoopIdleMs: idle,
        rssMb: process.memoryUsage.rss() / 1e6,
      });
      return;
    }
    fleet
      .close()
      .then(() => db.$disconnect())
      .then(
        () => send({ kind: "closed" }),
        (error: unknown) => send({ kind: "failed", error: String(error) }),
      )
      .finally(() => process.disconnect());
  });
  // The bench gone (killed, crashed) takes its centrals with it.
  process.on("disconnect", () => setTimeout(() => process.exit(0), 1000).unref());
  send({ kind: "ready", url: fleet.url });
}

main().catch((error: unknown) => {
  send({ kind: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
