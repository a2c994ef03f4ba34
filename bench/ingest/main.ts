/**
 * ingest benchmark: container samples per second written to Postgres through the real
 * `/agent` WebSocket endpoint, from simulated agents, measured until everything sent is
 * queryable (a count over `container_samples` equals what was sent).
 *
 * It starts a private PostgreSQL (bench-postgres.ts), makes WAL segments to recycle, runs
 * an unmeasured warm-up pass (so neither measured pass meets a cold JIT), and measures two
 * passes, each on a fresh database with a central and agents of its own: first durable (fsync,
 * synchronous_commit and full_page_writes on, as a production server runs), then with
 * all three off (the test harness's speed settings). Each pass migrates its database and
 * runs the real central (`createFleetServer`, Next.js off) on 127.0.0.1. Each simulated
 * agent joins with its own join token over a real WebSocket, gets containers placed on its
 * host, then sends metrics frames (every container plus the host, one interval's worth per
 * frame, timestamps 5 s apart) as fast as the gateway's per-connection rate limit allows, holding back while its socket buffer is full. The agents run in worker
 * threads (agent-worker.ts), so building and sending frames does not share the central's
 * event loop; on a machine with few cores they still share its CPUs.
 *
 * Progress on stderr, one JSON object as the last line of stdout.
 *
 * Environment (all optional): BENCH_INGEST_AGENTS (20), BENCH_INGEST_CONTAINERS (per
 * agent, 50), BENCH_INGEST_FRAMES (per agent, 300), BENCH_INGEST_TICKS_PER_FRAME
 * (intervals per frame, as an agent draining its spool sends them; 1), BENCH_INGEST_WORKERS
 * (threads the agents are spread over; 2), BENCH_INGEST_WARMUP_FRAMES (per agent in the
 * unmeasured warm-up pass; 60, 0 for none), BENCH_INGEST_CPU_PROFILE_DIR (a V8 CPU profile of
 * this process's main thread, where the central runs, over each measured pass).
 *
 * May import: node built-ins, pg, the test harness (Postgres binaries, fake agent), the web
 * app's app server, db, migrator, env and logger. Owns nothing outside this folder.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { findPostgresBinDir } from "@fleet/test/harness/global-setup";
import { findFreePort } from "@fleet/test/harness/ports";
import { databaseUrl } from "@fleet/test/harness/postgres";
import { createFleetServer } from "@fleet/web/server/app-server";
import { createPrismaClient, type PrismaClient } from "@fleet/web/server/db/client";
import { migrate } from "@fleet/web/server/db/migrator";
import { loadEnv } from "@fleet/web/server/env";
import { FRAME_BURST, FRAME_RATE_PER_SECOND } from "@fleet/web/server/gateway/gateway-limits";
import type { MetricsService } from "@fleet/web/server/services/metrics/metrics-service";
import { generateToken, hashToken } from "@fleet/web/server/tokens";
import pg from "pg";
import { pino } from "pino";
import { nonNegativeInt, positiveInt } from "../common/env-knobs";
import { type ReportingWorker, startReportingWorker } from "../common/worker-thread";
import type { AgentWorkerCommand, AgentWorkerData, AgentWorkerReport } from "./agent-worker";
import { type BenchPostgres, type DurabilitySettings, startBenchPostgres } from "./bench-postgres";

const config = {
  agents: positiveInt("BENCH_INGEST_AGENTS", 20),
  containersPerAgent: positiveInt("BENCH_INGEST_CONTAINERS", 50),
  framesPerAgent: positiveInt("BENCH_INGEST_FRAMES", 300),
  ticksPerFrame: positiveInt("BENCH_INGEST_TICKS_PER_FRAME", 1),
  workers: positiveInt("BENCH_INGEST_WORKERS", 2),
  // 0 turns the warm-up pass off.
  warmupFrames: nonNegativeInt("BENCH_INGEST_WARMUP_FRAMES", 60),
  cpuProfileDir: process.env.BENCH_INGEST_CPU_PROFILE_DIR || null,
};
const INTERVAL_MS = 5000;
// Below the gateway's limits, so no frame is refused for flooding.
const SEND_RATE_PER_SECOND = FRAME_RATE_PER_SECOND * 0.9;
const SEND_BURST = FRAME_BURST * 0.9;
const SOCKET_HIGH_WATER_BYTES = 4 * 1024 * 1024;
const QUERYABLE_TIMEOUT_MS = 10 * 60_000;
// More than a pass writes (about 100 MB for 300,000 samples), so no pass creates segments.
const WAL_PREWARM_MB = 256;
// Issue 16's goal for the durable pass (printed, not enforced).
const GOAL_SAMPLES_PER_S = 100_000;

function log(message: string): void {
  process.stderr.write(`[ingest] ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * CPU seconds of this process's main thread (its task id is the pid), where the central runs:
 * process.cpuUsage() would add the agent threads and GC helpers. USER_HZ ticks: 10 ms steps.
 */
function mainThreadCpuSeconds(): number {
  const text = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Profiles this thread until the returned function is called with the file to write. */
async function startCpuProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    log(`CPU profile written to ${file}`);
  };
}

interface Central {
  url: string;
  metrics: MetricsService;
  close(): Promise<void>;
}

/** The real central (`createFleetServer`, Next.js off) on a loopback port below the ephemeral range. */
async function startCentral(db: PrismaClient): Promise<Central> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const env = loadEnv({
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(await findFreePort()),
      FLEET_AGENT_PORT: String(await findFreePort()),
      FLEET_LOG_LEVEL: "warn",
    });
    // The central's log goes to stderr: stdout ends with this benchmark's JSON line.
    const logger = pino({ level: env.FLEET_LOG_LEVEL }, pino.destination(2));
    try {
      const fleet = await createFleetServer({
        env,
        db,
        log: logger,
        next: false,
        disconnectDbOnClose: false,
      });
      return { url: fleet.url, metrics: fleet.services.metrics, close: () => fleet.close() };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** A worker thread running some of the agents, and a way to wait for its next report. */
type AgentWorker = ReportingWorker<Exclude<AgentWorkerReport, { kind: "failed" }>, AgentWorkerCommand>;

function startAgentWorker(data: AgentWorkerData): AgentWorker {
  return startReportingWorker<AgentWorkerReport, AgentWorkerCommand>(
    new URL("./agent-worker.ts", import.meta.url),
    data,
  );
}

async function startAgents(
  db: PrismaClient,
  url: string,
  framesPerAgent: number,
): Promise<{ workers: AgentWorker[]; hostIds: string[] }> {
  const admin = await db.user.create({
    data: { email: "bench@fleet.test", name: "bench", role: "admin", passwordHash: "-" },
    select: { id: true },
  });
  const agents = Array.from({ length: config.agents }, (_, i) => ({
    joinToken: generateToken("join"),
    name: `bench-${String(i).padStart(3, "0")}`,
  }));
  await db.joinToken.createMany({
    data: agents.map((agent) => ({
      tokenHash: hashToken(agent.joinToken),
      createdById: admin.id,
      expiresAt: new Date(Date.now() + 60 * 60_000),
    })),
  });
  const workerCount = Math.min(config.workers, config.agents);
  const workers = Array.from({ length: workerCount }, (_, w) =>
    startAgentWorker({
      url,
      agents: agents.filter((_, i) => i % workerCount === w),
      framesPerAgent,
      ticksPerFrame: config.ticksPerFrame,
      intervalMs: INTERVAL_MS,
      sendRatePerSecond: SEND_RATE_PER_SECOND,
      sendBurst: SEND_BURST,
      socketHighWaterBytes: SOCKET_HIGH_WATER_BYTES,
    }),
  );
  const joined = await Promise.all(workers.map((worker) => worker.next("joined")));
  return { workers, hostIds: joined.flatMap((report) => report.hostIds) };
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

async function countSamples(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "container_samples"`);
  return Number(result.rows[0]?.n ?? 0);
}

interface PassResult {
  samples_per_s: number;
  seconds: number;
  send_seconds: number;
  inserts: number;
  rows_per_insert: number;
  host_samples: number;
  /** CPU seconds over the measured window: Postgres, and this process (central and agent threads). */
  postgres_cpu_s: number;
  bench_process_cpu_s: number;
  /** How long the agent threads' event loops were busy sending, summed over threads. */
  agent_threads_busy_s: number;
  /** CPU of the main thread (the central's event loop) per container sample, in microseconds. */
  central_main_thread_us_per_sample: number;
  /** Share of the window the central's event loop was busy. */
  central_event_loop_utilization: number;
  /** WAL the server wrote over the window. */
  wal_mb: number;
  settings: DurabilitySettings;
}

/**
 * One measured pass on a fresh database of the bench server, with its durability set as
 * asked: a central of its own, agents of their own, torn down before the next pass.
 */
async function runPass(
  postgres: BenchPostgres,
  durable: boolean,
  pass: { label: string; database: string; framesPerAgent: number },
): Promise<PassResult> {
  const { label, framesPerAgent } = pass;
  const total = config.agents * config.containersPerAgent * framesPerAgent * config.ticksPerFrame;
  const settings = await postgres.setDurable(durable);
  let db: PrismaClient | undefined;
  let central: Central | undefined;
  let workers: AgentWorker[] = [];
  let countClient: pg.Client | undefined;
  try {
    const databaseName = pass.database;
    const adminClient = new pg.Client({ connectionString: postgres.url });
    await adminClient.connect();
    await adminClient.query(`CREATE DATABASE "${databaseName}"`);
    await adminClient.end();
    const url = databaseUrl(postgres.url, databaseName);
    await migrate({ databaseUrl: url });
    db = createPrismaClient(url);
    central = await startCentral(db);
    log(`${label} (${JSON.stringify(settings)}): central on ${central.url}`);

    const started = await startAgents(db, central.url, framesPerAgent);
    workers = started.workers;
    const placed = await placeContainers(db, started.hostIds);
    countClient = new pg.Client({ connectionString: url });
    await countClient.connect();

    // Timestamps end about now, so they land in the partitions start() created.
    const firstTs = Date.now() - framesPerAgent * config.ticksPerFrame * INTERVAL_MS;
    for (const worker of workers)
      worker.command({ kind: "prepare", containers: Object.fromEntries(placed), firstTs });
    await Promise.all(workers.map((worker) => worker.next("prepared")));
    const stopProfile = config.cpuProfileDir && label !== "warm-up" ? await startCpuProfile() : null;
    const startedAt = performance.now();
    const postgresCpuAtStart = postgres.cpuSeconds();
    const walAtStart = await postgres.walBytes();
    const processCpuAtStart = process.cpuUsage();
    const eventLoopAtStart = performance.eventLoopUtilization();
    const mainThreadAtStart = mainThreadCpuSeconds();
    for (const worker of workers) worker.command({ kind: "send" });
    let sendSeconds = 0;
    let agentsBusySeconds = 0;
    const sendingDone = Promise.all(workers.map((worker) => worker.next("sent"))).then((reports) => {
      sendSeconds = (performance.now() - startedAt) / 1000;
      agentsBusySeconds = reports.reduce((sum, report) => sum + report.busySeconds, 0);
      log(
        `${label}: all frames sent after ${sendSeconds.toFixed(2)} s (agent threads busy ${agentsBusySeconds.toFixed(2)} s)`,
      );
      return reports.reduce((sum, report) => sum + report.samples, 0);
    });
    let failed: unknown = null;
    sendingDone.catch((error: unknown) => {
      failed = error;
    });
    let lastLog = startedAt;
    // The central's own count of committed rows says when to look (and every half second
    // regardless); count(*) then decides. A count(*) every 20 ms would scan up to all rows
    // each time: a core of Postgres' CPU taken from the ingest it measures.
    let lastCount = startedAt;
    for (;;) {
      if (failed) throw failed;
      const stats = central.metrics.stats();
      const committedContainerRows = stats.queue.insertedRows - stats.hostSamplesAccepted;
      if (committedContainerRows >= total || performance.now() - lastCount > 500) {
        lastCount = performance.now();
        if ((await countSamples(countClient)) >= total) break;
      }
      const now = performance.now();
      if (now - startedAt > QUERYABLE_TIMEOUT_MS) {
        const stored = await countSamples(countClient);
        throw new Error(`only ${stored} of ${total} samples stored in time`);
      }
      if (now - lastLog > 2000) {
        lastLog = now;
        log(
          `${label}: ${Math.max(0, committedContainerRows)} / ${total} stored, ${stats.queue.queuedRows} queued, ${stats.queue.batchesWritten} writes`,
        );
      }
      await sleep(5);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const postgresCpu = postgres.cpuSeconds() - postgresCpuAtStart;
    const walMb = ((await postgres.walBytes()) - walAtStart) / 1e6;
    const processCpu = process.cpuUsage(processCpuAtStart);
    const eventLoop = performance.eventLoopUtilization(eventLoopAtStart);
    const mainThreadCpu = mainThreadCpuSeconds() - mainThreadAtStart;
    if (stopProfile && config.cpuProfileDir)
      await stopProfile(join(config.cpuProfileDir, `ingest-${label.replace(/ /g, "-")}.cpuprofile`));
    const sent = await sendingDone;
    if (sent !== total) throw new Error(`the agents sent ${sent} samples, expected ${total}`);
    const stats = central.metrics.stats();
    const samplesPerSecond = Math.round(total / seconds);
    const rowsPerInsert = Math.round(stats.queue.writtenRows / Math.max(1, stats.queue.batchesWritten));
    log(
      `${label}: ${total} samples queryable after ${seconds.toFixed(2)} s: ${samplesPerSecond} samples/s; ` +
        `${stats.queue.batchesWritten} writes (${rowsPerInsert} rows each), ` +
        `${stats.queue.droppedRows} dropped by the queue, ${stats.foreignSamplesIgnored} ignored; ` +
        `CPU: Postgres ${postgresCpu.toFixed(2)} s, this process ${((processCpu.user + processCpu.system) / 1e6).toFixed(2)} s, ` +
        `central's event loop ${(eventLoop.utilization * 100).toFixed(0)} % busy, its thread ${mainThreadCpu.toFixed(2)} s; ${walMb.toFixed(0)} MB of WAL`,
    );
    if (stats.queue.droppedRows > 0 || stats.queue.failedRows > 0 || stats.foreignSamplesIgnored > 0) {
      throw new Error("samples were lost: the figure would not mean what it says");
    }
    return {
      samples_per_s: samplesPerSecond,
      seconds: Number(seconds.toFixed(3)),
      send_seconds: Number(sendSeconds.toFixed(3)),
      inserts: stats.queue.batchesWritten,
      rows_per_insert: rowsPerInsert,
      host_samples: stats.hostSamplesAccepted,
      postgres_cpu_s: Number(postgresCpu.toFixed(2)),
      bench_process_cpu_s: Number(((processCpu.user + processCpu.system) / 1e6).toFixed(2)),
      agent_threads_busy_s: Number(agentsBusySeconds.toFixed(2)),
      central_main_thread_us_per_sample: Number(((mainThreadCpu * 1e6) / total).toFixed(2)),
      central_event_loop_utilization: Number(eventLoop.utilization.toFixed(3)),
      wal_mb: Number(walMb.toFixed(1)),
      settings,
    };
  } finally {
    await countClient?.end().catch(() => undefined);
    await Promise.allSettled(
      workers.map(async (worker) => {
        worker.command({ kind: "close" });
        await Promise.race([worker.next("closed"), sleep(5000)]).catch(() => undefined);
        await worker.worker.terminate();
      }),
    );
    await central?.close().catch((error: unknown) => log(`closing the central failed: ${String(error)}`));
    await db?.$disconnect();
  }
}

async function main(): Promise<void> {
  const total = config.agents * config.containersPerAgent * config.framesPerAgent * config.ticksPerFrame;
  log(
    `${config.agents} agents × ${config.containersPerAgent} containers × ${config.framesPerAgent} frames × ` +
      `${config.ticksPerFrame} ticks = ${total} container samples, agents on ${config.workers} threads; ` +
      `a pass with fsync on, then one with fsync off`,
  );
  let postgres: BenchPostgres | undefined;
  try {
    postgres = startBenchPostgres(findPostgresBinDir(), await findFreePort());
    // A server that has been running recycles WAL segments; a fresh cluster would make
    // the durable pass create (and flush) every segment it fills.
    await postgres.setDurable(false);
    await postgres.prewarmWal(WAL_PREWARM_MB);
    // A central that has been running has its code compiled by the JIT; the first pass in
    // a fresh process would pay for that. An unmeasured pass warms this process, so both
    // measured passes meet the same.
    if (config.warmupFrames > 0) {
      await runPass(postgres, false, {
        label: "warm-up",
        database: "fleet_bench_warmup",
        framesPerAgent: config.warmupFrames,
      });
    }
    const on = await runPass(postgres, true, {
      label: "fsync on",
      database: "fleet_bench_fsync_on",
      framesPerAgent: config.framesPerAgent,
    });
    const off = await runPass(postgres, false, {
      label: "fsync off",
      database: "fleet_bench_fsync_off",
      framesPerAgent: config.framesPerAgent,
    });
    process.stdout.write(
      `${JSON.stringify({
        bench: "ingest",
        // The durable figure: what a production Postgres (fsync on) keeps up with.
        samples_per_s: on.samples_per_s,
        samples_per_s_fsync_on: on.samples_per_s,
        samples_per_s_fsync_off: off.samples_per_s,
        goal_samples_per_s_fsync_on: GOAL_SAMPLES_PER_S,
        wal_prewarmed_mb: WAL_PREWARM_MB,
        meets_goal: on.samples_per_s >= GOAL_SAMPLES_PER_S,
        agents: config.agents,
        containers: config.agents * config.containersPerAgent,
        containers_per_agent: config.containersPerAgent,
        samples: total,
        host_samples: on.host_samples,
        frames: config.agents * config.framesPerAgent,
        samples_per_frame: config.containersPerAgent * config.ticksPerFrame,
        seconds: on.seconds,
        send_seconds: on.send_seconds,
        inserts: on.inserts,
        rows_per_insert: on.rows_per_insert,
        fsync: { on, off },
        agent_threads: Math.min(config.workers, config.agents),
        cpus: availableParallelism(),
      })}\n`,
    );
  } finally {
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
