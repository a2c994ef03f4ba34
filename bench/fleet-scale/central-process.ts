/**
 * The central for the fleet-scale benchmark, in a process of its own so that its CPU and
 * RSS are its own: the real `createFleetServer` (Next.js off, logs on stderr at warn) on
 * the bench's database, on the ports and FLEET_DATA_DIR it is given (a restart on the same
 * ones keeps the agents' URL and the agent port's TLS key). Started by main.ts with
 * `fork` and tsx; talks over IPC:
 *
 * - sends `{kind: "ready", url}` once listening;
 * - answers `{kind: "sample"}` with its CPU time, RSS and the event-loop delay since the
 *   last sample (p99, max; the histogram is reset each time) and the metrics service's counters;
 * - SIGTERM: `close()` (drain: agents told 4012, then stop), then exits.
 *
 * Configuration: BENCH_FLEET_SCALE_CENTRAL, a JSON CentralProcessConfig; FLEET_OFFLINE_AFTER
 * when set.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createFleetServer } from "@fleet/web/server/app-server";
import { createPrismaClient } from "@fleet/web/server/db/client";
import { loadEnv } from "@fleet/web/server/env";
import type { MetricsIngestStats } from "@fleet/web/server/services/metrics/metrics-service";
import { pino } from "pino";

export interface CentralProcessConfig {
  databaseUrl: string;
  port: number;
  agentPort: number;
  dataDir: string;
  /** Unset: the central's own (the hostname and a suffix new at every start). */
  replicaId?: string;
}

export type CentralMessage =
  | { kind: "ready"; url: string }
  | {
      kind: "sample";
      cpuUserUs: number;
      cpuSystemUs: number;
      rssBytes: number;
      eventLoopP99Ms: number;
      eventLoopMaxMs: number;
      /** The metrics service's counters: frames, samples accepted and ignored, the write queue. */
      metrics: MetricsIngestStats;
    };

const config = JSON.parse(process.env.BENCH_FLEET_SCALE_CENTRAL ?? "null") as CentralProcessConfig | null;
if (!config || !process.send) throw new Error("central-process.ts is started by bench/fleet-scale/main.ts");
const send = (message: CentralMessage) => process.send?.(message);

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

async function main(cfg: CentralProcessConfig): Promise<void> {
  const env = loadEnv({
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(cfg.port),
    FLEET_AGENT_PORT: String(cfg.agentPort),
    FLEET_DATA_DIR: cfg.dataDir,
    FLEET_LOG_LEVEL: "warn",
    ...(cfg.replicaId ? { FLEET_REPLICA_ID: cfg.replicaId } : {}),
    // A shorter silence before hosts are marked offline makes a slow welcome show.
    ...(process.env.FLEET_OFFLINE_AFTER ? { FLEET_OFFLINE_AFTER: process.env.FLEET_OFFLINE_AFTER } : {}),
  });
  const log = pino({ level: env.FLEET_LOG_LEVEL }, pino.destination(2));
  const db = createPrismaClient(cfg.databaseUrl);
  const fleet = await createFleetServer({ env, db, log, next: false });
  let closing = false;
  process.on("SIGTERM", () => {
    if (closing) return;
    closing = true;
    fleet.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "closing the central failed");
        process.exit(1);
      },
    );
  });
  process.on("message", (message: { kind: string }) => {
    if (message.kind !== "sample") return;
    const cpu = process.cpuUsage();
    send({
      kind: "sample",
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: process.memoryUsage.rss(),
      eventLoopP99Ms: delay.percentile(99) / 1e6,
      eventLoopMaxMs: delay.max / 1e6,
      metrics: fleet.services.metrics.stats(),
    });
    delay.reset();
  });
  // The parent going away must not leave a central behind.
  process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
  send({ kind: "ready", url: fleet.url });
}

main(config).catch((error: unknown) => {
  process.stderr.write(
    `[fleet-scale central] failed: ${String(error instanceof Error ? error.stack : error)}\n`,
  );
  process.exit(1);
});
