/**
 * ingest benchmark: container samples per second written to Postgres through the real
 * `/agent` WebSocket endpoint, from simulated agents, measured until everything sent is
 * queryable (a count over `container_samples` equals what was sent).
 *
 * It starts a throwaway PostgreSQL (the integration harness's, tuned for speed:
 * fsync off), migrates it, and runs the central's gateway and metrics service behind an
 * HTTP server on 127.0.0.1, composed as the app server composes them. Each simulated
 * agent joins with its own join token over a real WebSocket, gets containers placed on
 * its host, then sends metrics frames (every container plus the host, one interval's
 * worth per frame, timestamps 5 s apart) as fast as the gateway's per-connection rate
 * limit allows, holding back while its socket buffer is full.
 *
 * Progress on stderr, one JSON object as the last line of stdout.
 *
 * Environment (all optional): BENCH_INGEST_AGENTS (20), BENCH_INGEST_CONTAINERS (per
 * agent, 50), BENCH_INGEST_FRAMES (per agent, 300), BENCH_INGEST_TICKS_PER_FRAME
 * (intervals per frame, as an agent draining its spool sends them; 1).
 *
 * May import: node built-ins, pg, the test harness (Postgres, fake agent), the web app's
 * db, migrator, env, logger, gateway and metrics service. Owns nothing outside this folder.
 */
import { createServer, type Server } from "node:http";
import { performance } from "node:perf_hooks";
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { TMetricsFrame } from "@fleet/shared/protocol/agent-to-server";
import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import {
  findFreePort,
  findPostgresBinDir,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from "@fleet/test/harness/global-setup";
import { databaseUrl } from "@fleet/test/harness/postgres";
import { createPrismaClient, type PrismaClient } from "@fleet/web/server/db";
import { migrate } from "@fleet/web/server/db/migrator";
import { loadEnv } from "@fleet/web/server/env";
import { createEventBus } from "@fleet/web/server/event-bus";
import { createGateway, type Gateway } from "@fleet/web/server/gateway/gateway";
import { FRAME_BURST, FRAME_RATE_PER_SECOND } from "@fleet/web/server/gateway/gateway-limits";
import { createLogger } from "@fleet/web/server/logger";
import { generateToken, hashToken } from "@fleet/web/server/services/auth/tokens";
import {
  createMetricsService,
  type MetricsService,
} from "@fleet/web/server/services/metrics/metrics-service";
import pg from "pg";

const config = {
  agents: positiveInt("BENCH_INGEST_AGENTS", 20),
  containersPerAgent: positiveInt("BENCH_INGEST_CONTAINERS", 50),
  framesPerAgent: positiveInt("BENCH_INGEST_FRAMES", 300),
  ticksPerFrame: positiveInt("BENCH_INGEST_TICKS_PER_FRAME", 1),
};
const INTERVAL_MS = 5000;
// Below the gateway's limits, so no frame is refused for flooding.
const SEND_RATE_PER_SECOND = FRAME_RATE_PER_SECOND * 0.9;
const SEND_BURST = FRAME_BURST * 0.9;
const SOCKET_HIGH_WATER_BYTES = 4 * 1024 * 1024;
const QUERYABLE_TIMEOUT_MS = 10 * 60_000;

function positiveInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${text}`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`[ingest] ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function listenOnLoopback(server: Server): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await findFreePort();
    const ok = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) return port;
  }
  throw new Error("no free port for the central");
}

interface Central {
  url: string;
  metrics: MetricsService;
  close(): Promise<void>;
}

async function startCentral(db: PrismaClient): Promise<Central> {
  const env = loadEnv({ NODE_ENV: "production", HOST: "127.0.0.1", PORT: "0", FLEET_LOG_LEVEL: "warn" });
  const logger = createLogger(env);
  const bus = createEventBus();
  const metrics = createMetricsService({ db, env, log: logger, bus });
  const gateway: Gateway = createGateway({ db, env, log: logger, bus, metrics });
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://central").pathname === "/agent")
      gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await metrics.start();
  await gateway.start();
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    metrics,
    async close() {
      await gateway.close();
      await metrics.stop();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function joinAgents(db: PrismaClient, url: string): Promise<FakeAgent[]> {
  const admin = await db.user.create({
    data: { email: "bench@fleet.test", name: "bench", role: "admin", passwordHash: "-" },
    select: { id: true },
  });
  const tokens = Array.from({ length: config.agents }, () => generateToken("join"));
  await db.joinToken.createMany({
    data: tokens.map((token) => ({
      tokenHash: hashToken(token),
      createdById: admin.id,
      expiresAt: new Date(Date.now() + 60 * 60_000),
    })),
  });
  return Promise.all(
    tokens.map((joinToken, i) =>
      connectFakeAgent({ url, joinToken, name: `bench-${String(i).padStart(3, "0")}` }),
    ),
  );
}

async function placeContainers(db: PrismaClient, hostIds: string[]): Promise<Map<string, string[]>> {
  const placed = new Map<string, string[]>();
  for (const hostId of hostIds) {
    await db.container.createMany({
      data: Array.from({ length: config.containersPerAgent }, (_, i) => ({
        name: `${hostId}-${i}`,
        hostId,
        image: "busybox:latest",
        spec: {},
        cpuRequestMillis: 100,
        memoryRequestBytes: 64n * 1024n * 1024n,
        pidsRequest: 10,
        actualState: "running" as const,
      })),
    });
    const rows = await db.container.findMany({ where: { hostId }, select: { id: true } });
    placed.set(
      hostId,
      rows.map((row) => row.id),
    );
  }
  return placed;
}

/** Sends every frame of one agent, paced by a token bucket below the gateway's and by the socket's buffer. */
async function sendAll(agent: FakeAgent, containerIds: string[], firstTs: number): Promise<number> {
  let tokens = SEND_BURST;
  let refilledAt = performance.now();
  let sent = 0;
  for (let frame = 0; frame < config.framesPerAgent; frame++) {
    for (;;) {
      const now = performance.now();
      tokens = Math.min(SEND_BURST, tokens + ((now - refilledAt) * SEND_RATE_PER_SECOND) / 1000);
      refilledAt = now;
      if (tokens >= 1 && agent.socket.bufferedAmount < SOCKET_HIGH_WATER_BYTES) break;
      await sleep(tokens >= 1 ? 2 : Math.ceil(((1 - tokens) * 1000) / SEND_RATE_PER_SECOND));
    }
    tokens -= 1;
    const containers: TContainerSample[] = [];
    let host: THostSample | null = null;
    for (let tick = 0; tick < config.ticksPerFrame; tick++) {
      const ts = firstTs + (frame * config.ticksPerFrame + tick) * INTERVAL_MS;
      for (const [i, containerId] of containerIds.entries()) {
        containers.push(
          makeContainerSample({
            containerId,
            ts,
            cpuCores: (i % 10) / 10,
            cpuUsageNs: frame * 1e9,
            memoryUsageBytes: 20 * 1024 * 1024 + i,
            netRxBytes: frame * 1000,
          }),
        );
      }
      host = makeHostSample({ ts, containers: containerIds.length });
    }
    const metrics: TMetricsFrame = {
      type: "metrics",
      batchId: `${agent.hostId}-${frame}`,
      containers,
      host,
      droppedSamples: 0,
    };
    agent.send(metrics);
    sent += containers.length;
    if (frame % 32 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

async function countSamples(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "container_samples"`);
  return Number(result.rows[0]?.n ?? 0);
}

async function main(): Promise<void> {
  const total = config.agents * config.containersPerAgent * config.framesPerAgent * config.ticksPerFrame;
  log(
    `${config.agents} agents × ${config.containersPerAgent} containers × ${config.framesPerAgent} frames × ${config.ticksPerFrame} ticks = ${total} container samples`,
  );
  let postgres: ThrowawayPostgres | undefined;
  let db: PrismaClient | undefined;
  let central: Central | undefined;
  let agents: FakeAgent[] = [];
  const counter = new pg.Client();
  try {
    postgres = startThrowawayPostgres(findPostgresBinDir(), await findFreePort());
    const adminClient = new pg.Client({ connectionString: postgres.url });
    await adminClient.connect();
    await adminClient.query(`CREATE DATABASE "fleet_bench"`);
    await adminClient.end();
    const url = databaseUrl(postgres.url, "fleet_bench");
    await migrate({ databaseUrl: url });
    db = createPrismaClient(url);
    central = await startCentral(db);
    log(`central on ${central.url}, Postgres on ${postgres.url}`);

    agents = await joinAgents(db, central.url);
    const placed = await placeContainers(
      db,
      agents.map((agent) => agent.hostId),
    );
    Object.assign(counter, new pg.Client({ connectionString: url }));
    const countClient = new pg.Client({ connectionString: url });
    await countClient.connect();

    // Timestamps end about now, so they land in the partitions start() created.
    const firstTs = Date.now() - config.framesPerAgent * config.ticksPerFrame * INTERVAL_MS;
    const startedAt = performance.now();
    const sendingDone = Promise.all(
      agents.map((agent, i) => sendAll(agent, placed.get(agent.hostId) ?? [], firstTs + i * 37)),
    );
    let lastLog = startedAt;
    let stored = 0;
    let sendSeconds = 0;
    void sendingDone.then(() => {
      sendSeconds = (performance.now() - startedAt) / 1000;
      log(`all frames sent after ${sendSeconds.toFixed(2)} s`);
    });
    for (;;) {
      stored = await countSamples(countClient);
      if (stored >= total) break;
      const now = performance.now();
      if (now - startedAt > QUERYABLE_TIMEOUT_MS)
        throw new Error(`only ${stored} of ${total} samples stored in time`);
      if (now - lastLog > 2000) {
        lastLog = now;
        const stats = central.metrics.stats();
        log(
          `${stored} / ${total} stored, ${stats.queue.queuedRows} queued, ${stats.queue.batchesWritten} inserts`,
        );
      }
      await sleep(20);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    await sendingDone;
    await countClient.end();
    const stats = central.metrics.stats();
    const samplesPerSecond = Math.round(total / seconds);
    log(
      `${total} samples queryable after ${seconds.toFixed(2)} s: ${samplesPerSecond} samples/s; ` +
        `${stats.queue.batchesWritten} inserts (${Math.round(stats.queue.writtenRows / Math.max(1, stats.queue.batchesWritten))} rows each), ` +
        `${stats.queue.droppedRows} dropped by the queue, ${stats.foreignSamplesIgnored} ignored`,
    );
    if (stats.queue.droppedRows > 0 || stats.queue.failedRows > 0 || stats.foreignSamplesIgnored > 0) {
      throw new Error("samples were lost: the figure would not mean what it says");
    }
    process.stdout.write(
      `${JSON.stringify({
        bench: "ingest",
        samples_per_s: samplesPerSecond,
        agents: config.agents,
        containers: config.agents * config.containersPerAgent,
        containers_per_agent: config.containersPerAgent,
        samples: total,
        host_samples: stats.hostSamplesAccepted,
        frames: config.agents * config.framesPerAgent,
        samples_per_frame: config.containersPerAgent * config.ticksPerFrame,
        seconds: Number(seconds.toFixed(3)),
        send_seconds: Number(sendSeconds.toFixed(3)),
        inserts: stats.queue.batchesWritten,
        rows_per_insert: Math.round(stats.queue.writtenRows / Math.max(1, stats.queue.batchesWritten)),
      })}\n`,
    );
  } finally {
    await Promise.allSettled(agents.map((agent) => agent.close()));
    await central?.close().catch((error: unknown) => log(`closing the central failed: ${String(error)}`));
    await db?.$disconnect();
    postgres?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
