/**
 * Everything the start-latency benchmark runs against, started privately and torn down
 * in reverse: a throwaway PostgreSQL (fsync off), the real central (`createFleetServer`,
 * Next.js off) in this process, a private engine with the busybox test image built into
 * it, and the real `fleet-agent` process joined to the central with a join token and
 * driving that engine. Heartbeats and metrics run every second, as in the real-agent
 * integration test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine, type TEngineKind, type TestEngine } from "@fleet/test/harness/engines";
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

const agentBin = fileURLToPath(new URL("../../apps/agent/bin/fleet-agent.js", import.meta.url));
const HOST_NAME = "bench-start-latency";
/** How often the agent heartbeats and samples metrics (the central's welcome sets both). */
export const AGENT_INTERVAL = "1s";
const ONLINE_TIMEOUT_MS = 60_000;
const AGENT_STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_CHARS = 8000;

export interface FleetStack {
  engine: TestEngine;
  /** tRPC over HTTP, subscriptions over SSE, as an admin's API token. */
  client: TRPCClient<AppRouter>;
  hostId: string;
  agentPid: number;
  agentOutputTail(): string;
  close(): Promise<void>;
}

type Cleanup = () => Promise<void> | void;

export async function startFleetStack(
  kind: TEngineKind,
  log: (message: string) => void,
): Promise<FleetStack> {
  // Run in reverse on close, or at once if a later step fails.
  const cleanups: { what: string; run: Cleanup }[] = [];
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
    log(`starting ${kind} and building the test image`);
    const engine = await startEngine(kind, { name: "bench-start" });
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

    const fleet = await startCentral(db);
    cleanups.push({ what: "central", run: () => fleet.close() });
    const { token } = await createTestUserWithToken({ db, role: "admin" });
    const client = createSseTestClient<AppRouter>(fleet.url, token);
    log(`central on ${fleet.url}, Postgres on ${postgres.url}, ${kind} at ${engine.socketPath}`);

    const { token: joinToken } = await client.joinToken.create.mutate({ ttl: "10m" });
    const stateDir = await mkdtemp(join(tmpdir(), "fleet-bench-agent-"));
    cleanups.push({ what: "agent state dir", run: () => rm(stateDir, { recursive: true, force: true }) });
    const agent = spawn(
      process.execPath,
      [
        agentBin,
        ...["--server", fleet.url, "--join-token", joinToken, "--engine", engine.dockerHost],
        ...["--cgroup-parent", engine.cgroupParent, "--state-dir", stateDir, "--name", HOST_NAME],
        ...["--log-level", "warn"],
      ],
      { stdio: ["ignore", "pipe", "pipe"], cwd: tmpdir() },
    );
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    agent.stdout?.on("data", keep);
    agent.stderr?.on("data", keep);
    cleanups.push({ what: "agent", run: () => stopAgent(agent) });
    if (agent.pid === undefined) throw new Error("the agent did not start");

    const hostId = await waitForHostOnline(client, agent).catch((error: unknown) => {
      throw new Error(`${String(error)}\nagent output:\n${output}`);
    });
    log(`agent ${agent.pid} joined as host ${hostId}`);
    return {
      engine,
      client,
      hostId,
      agentPid: agent.pid,
      agentOutputTail: () => output,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startCentral(db: ReturnType<typeof createPrismaClient>): Promise<FleetServer> {
  let lastError: unknown;
  // A free port can be taken between finding it and listening on it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const env = loadEnv({
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(await findFreePort()),
      FLEET_AGENT_PORT: String(await findFreePort()),
      FLEET_LOG_LEVEL: "warn",
      FLEET_HEARTBEAT_INTERVAL: AGENT_INTERVAL,
      FLEET_METRICS_INTERVAL: AGENT_INTERVAL,
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

async function waitForHostOnline(client: TRPCClient<AppRouter>, agent: ChildProcess): Promise<string> {
  const deadline = Date.now() + ONLINE_TIMEOUT_MS;
  for (;;) {
    if (agent.exitCode !== null) throw new Error(`the agent exited with code ${agent.exitCode}`);
    const host = (await client.host.list.query({})).items.find((h) => h.name === HOST_NAME);
    if (host?.status === "online") return host.id;
    if (Date.now() > deadline) throw new Error(`host ${HOST_NAME} not online within ${ONLINE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stopAgent(agent: ChildProcess): Promise<void> {
  if (agent.exitCode !== null || agent.signalCode !== null) return;
  const exited = once(agent, "exit");
  agent.kill("SIGTERM");
  const timer = setTimeout(() => agent.kill("SIGKILL"), AGENT_STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
