/**
 * fleet-scale benchmark: thousands of simulated agents streaming metrics for minutes against
 * one central on real Postgres with 100,000 container rows. What the central costs (CPU,
 * RSS, event-loop delay), whether it keeps up (samples stored = samples sent), how long
 * every host takes to reconnect after a central restart, and what the dashboard's calls
 * cost meanwhile.
 *
 * 1. A private PostgreSQL (bench/ingest/bench-postgres.ts), WAL segments made beforehand,
 *    durable (fsync on) for the measured part; a database migrated by the project's migrator.
 * 2. The central in a child process (central-process.ts: `createFleetServer`, Next.js off),
 *    so its CPU and RSS are its own.
 * 3. The agents (agent-worker.ts: lightweight clients speaking the real protocol, in worker
 *    threads) join with join tokens, at most BENCH_FLEET_SCALE_JOIN_CONCURRENCY at a time per
 *    thread.
 * 4. Containers seeded with SQL (seed.ts: one statement per table, host allocated columns
 *    set to the sums of the requests; placing 100,000 through the API is bench/placement's
 *    subject), and 24 h of minute rollups for the containers whose metrics are asked for.
 *    The dashboard's calls are timed 10 times on these rows before the load (api_quiet_*).
 * 5. The agents reconnect (spread over 5 s) to get their desired sets, ack them and report
 *    their containers running; then a settle pause.
 * 6. The window: metrics every 5 s (50 container samples + the host's per frame), heartbeats
 *    every 5 s (the central's defaults), the after-connect operations answered; every 2 s a
 *    round of the dashboard's calls through the typed tRPC client with an admin's API token
 *    (metrics.fleet 15m as the Overview polls it, host.list, container.list first page and
 *    50th page, metrics.container 24 h, event.list); the central sampled every 5 s.
 * 7. Kept up: after the window, the time until `container_samples` holds every sample sent
 *    with a timestamp inside it.
 * 8. Restart: SIGTERM (the central drains: agents told 4012), a new central on the same
 *    database, ports and FLEET_DATA_DIR; reconnect_all_s runs from the new central listening
 *    until every agent is welcomed again (and `settled_s` until each has acked its desired set).
 *
 * Goals (issue 16; printed, not enforced): central_cpu_cores ≤ 1 with every sample stored,
 * event-loop delay p99 ≤ 100 ms, every dashboard call p95 ≤ 200 ms, reconnect ≤ 30 s.
 *
 * Environment (all optional): BENCH_FLEET_SCALE_AGENTS (2000), BENCH_FLEET_SCALE_CONTAINERS
 * (per agent, 50), BENCH_FLEET_SCALE_MINUTES (measured window, 5; fractions allowed),
 * BENCH_FLEET_SCALE_WORKERS (agent threads, 2), BENCH_FLEET_SCALE_JOIN_CONCURRENCY (per
 * thread, 50), BENCH_FLEET_SCALE_ROUND_MS (between rounds of dashboard calls, 2000),
 * BENCH_FLEET_SCALE_HISTORY_CONTAINERS (with 24 h of rollups, 20), BENCH_FLEET_SCALE_CPU_PROFILE_DIR
 * (each central process writes a V8 CPU profile there when it exits).
 *
 * Progress on stderr, one JSON object as the last line of stdout.
 * May import: node built-ins, pg, the test harness (Postgres binaries, ports), bench/ingest's
 * Postgres, the web app's db, migrator, routers' types and test factories.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { findPostgresBinDir } from "@fleet/test/harness/global-setup";
import { findFreePort } from "@fleet/test/harness/ports";
import { databaseUrl } from "@fleet/test/harness/postgres";
import { createPrismaClient } from "@fleet/web/server/db/client";
import { migrate } from "@fleet/web/server/db/migrator";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { generateToken, hashToken } from "@fleet/web/server/tokens";
import pg from "pg";
import { type ReportingWorker, startReportingWorker } from "../common/worker-thread";
import { type BenchPostgres, startBenchPostgres } from "../ingest/bench-postgres";
import type {
  AgentWorkerCommand,
  AgentWorkerData,
  AgentWorkerReport,
  AgentWorkerStats,
} from "./agent-worker";
import type { CentralMessage, CentralProcessConfig } from "./central-process";
import { type CallTimings, createDashboardCaller } from "./dashboard-calls";
import { seedContainers, seedMinuteRollups } from "./seed";

const config = {
  agents: positiveInt("BENCH_FLEET_SCALE_AGENTS", 2000),
  containersPerAgent: positiveInt("BENCH_FLEET_SCALE_CONTAINERS", 50),
  minutes: positiveNumber("BENCH_FLEET_SCALE_MINUTES", 5),
  workers: positiveInt("BENCH_FLEET_SCALE_WORKERS", 2),
  joinConcurrency: positiveInt("BENCH_FLEET_SCALE_JOIN_CONCURRENCY", 50),
  roundMs: positiveInt("BENCH_FLEET_SCALE_ROUND_MS", 2000),
  historyContainers: positiveInt("BENCH_FLEET_SCALE_HISTORY_CONTAINERS", 20),
  // Where each central process writes a V8 CPU profile when it exits (unset: none).
  cpuProfileDir: process.env.BENCH_FLEET_SCALE_CPU_PROFILE_DIR || null,
};
const GOALS = { central_cpu_cores: 1, event_loop_p99_ms: 100, api_p95_ms: 200, reconnect_all_s: 30 };
const SAMPLE_EVERY_MS = 5000;
const SETTLE_MS = 15_000;
const QUIET_ROUNDS = 10;
const WAL_PREWARM_MB = 512;
const STORED_TIMEOUT_MS = 120_000;
const WELCOME_TIMEOUT_MS = 180_000;

function positiveNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${text}`);
  return value;
}

function positiveInt(name: string, fallback: number): number {
  const value = positiveNumber(name, fallback);
  if (!Number.isInteger(value)) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`[fleet-scale] ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const seconds = (fromMs: number) => round((performance.now() - fromMs) / 1000, 2);

// ---- the central's process --------------------------------------------------

interface CentralChild {
  child: ChildProcess;
  url: string;
  sample(): Promise<Extract<CentralMessage, { kind: "sample" }>>;
  /** SIGTERM (drain), then the exit. */
  stop(): Promise<void>;
}

async function startCentral(cfg: CentralProcessConfig): Promise<CentralChild> {
  const child = fork(fileURLToPath(new URL("./central-process.ts", import.meta.url)), [], {
    execArgv: [
      "--import",
      "tsx",
      ...(config.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", config.cpuProfileDir] : []),
    ],
    env: { ...process.env, BENCH_FLEET_SCALE_CENTRAL: JSON.stringify(cfg) },
    stdio: ["ignore", 2, 2, "ipc"],
  });
  const exited = once(child, "exit");
  const ready = await Promise.race([
    once(child, "message").then(([message]) => message as CentralMessage),
    exited.then(([code]) => {
      throw new Error(`the central exited with ${String(code)} before it was ready`);
    }),
  ]);
  if (ready.kind !== "ready") throw new Error(`the central said ${ready.kind} first`);
  const samples: ((message: Extract<CentralMessage, { kind: "sample" }>) => void)[] = [];
  child.on("message", (message: CentralMessage) => {
    if (message.kind === "sample") samples.shift()?.(message);
  });
  return {
    child,
    url: ready.url,
    sample: () =>
      new Promise((resolve) => {
        samples.push(resolve);
        child.send({ kind: "sample" });
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- agent threads ----------------------------------------------------------

type AgentWorker = ReportingWorker<Exclude<AgentWorkerReport, { kind: "failed" }>, AgentWorkerCommand>;

function startAgentWorker(data: AgentWorkerData): AgentWorker {
  return startReportingWorker<AgentWorkerReport, AgentWorkerCommand>(
    new URL("./agent-worker.ts", import.meta.url),
    data,
  );
}

async function allStats(workers: AgentWorker[]): Promise<AgentWorkerStats> {
  for (const worker of workers) worker.command({ kind: "stats" });
  const parts = await Promise.all(workers.map(async (worker) => (await worker.next("stats")).stats));
  const sum: AgentWorkerStats = {
    agents: 0,
    welcomed: 0,
    settled: 0,
    welcomes: 0,
    connects: 0,
    closes: {},
    errors: {},
    framesSent: 0,
    samplesSent: 0,
    statusesSent: 0,
    opsAnswered: 0,
    metricsSkipped: 0,
  };
  for (const part of parts) {
    for (const key of Object.keys(sum) as (keyof AgentWorkerStats)[]) {
      const value = part[key];
      if (typeof value === "number") (sum[key] as number) += value;
      else {
        const into = sum[key] as Record<string, number>;
        for (const [code, count] of Object.entries(value)) into[code] = (into[code] ?? 0) + count;
      }
    }
  }
  return sum;
}

interface AgentsBack {
  /** Seconds until every agent was welcomed, and until each had acked its desired set (null: not in time). */
  welcomedS: number | null;
  settledS: number | null;
  /** How many were welcomed and settled when the wait ended. */
  welcomed: number;
  settled: number;
}

/** Waits until every agent is welcomed and has acked a desired set, or WELCOME_TIMEOUT_MS. */
async function waitForAgents(workers: AgentWorker[], startedAt: number): Promise<AgentsBack> {
  let welcomedS: number | null = null;
  let lastLog = performance.now();
  for (;;) {
    const stats = await allStats(workers);
    if (welcomedS === null && stats.welcomed === config.agents) welcomedS = seconds(startedAt);
    const back = { welcomedS, welcomed: stats.welcomed, settled: stats.settled };
    if (stats.settled === config.agents) return { ...back, settledS: seconds(startedAt) };
    if (performance.now() - startedAt > WELCOME_TIMEOUT_MS) {
      log(
        `only ${stats.welcomed} agents welcomed, ${stats.settled} settled after ${WELCOME_TIMEOUT_MS / 1000} s`,
      );
      return { ...back, settledS: null };
    }
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`  ${stats.welcomed} welcomed, ${stats.settled} settled, closes ${JSON.stringify(stats.closes)}`);
    }
    await sleep(100);
  }
}

// ---- the run ------------------------------------------------------------------

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

function percentiles(timings: CallTimings, q: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(timings).map(([name, values]) => [
      name,
      round(
        quantile(
          [...values].sort((a, b) => a - b),
          q,
        ),
      ),
    ]),
  );
}

async function main(): Promise<void> {
  const totalContainers = config.agents * config.containersPerAgent;
  log(
    `${config.agents} agents × ${config.containersPerAgent} containers = ${totalContainers}, ` +
      `${config.minutes} min window, agents on ${config.workers} threads`,
  );
  const cleanups: (() => Promise<void> | void)[] = [];
  const runStarted = performance.now();
  try {
    const postgres: BenchPostgres = startBenchPostgres(findPostgresBinDir(), await findFreePort());
    cleanups.push(() => postgres.stop());
    await postgres.setDurable(false);
    await postgres.prewarmWal(WAL_PREWARM_MB);
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "fleet_bench_scale"`);
    await admin.end();
    const url = databaseUrl(postgres.url, "fleet_bench_scale");
    await migrate({ databaseUrl: url });
    const db = createPrismaClient(url);
    cleanups.push(() => db.$disconnect());
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    cleanups.push(() => sql.end());

    const { userId, token } = await createTestUserWithToken({ db, role: "admin" });
    const agents = Array.from({ length: config.agents }, (_, i) => ({
      name: `bench-${String(i).padStart(5, "0")}`,
      joinToken: generateToken("join"),
    }));
    await db.joinToken.createMany({
      data: agents.map((agent) => ({
        tokenHash: hashToken(agent.joinToken),
        createdById: userId,
        expiresAt: new Date(Date.now() + 3 * 60 * 60_000),
      })),
    });

    const dataDir = mkdtempSync(join(tmpdir(), "fleet-bench-scale-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const centralConfig: CentralProcessConfig = {
      databaseUrl: url,
      port: await findFreePort(),
      agentPort: await findFreePort(),
      dataDir,
    };
    let central = await startCentral(centralConfig);
    cleanups.push(() => central.stop());
    log(`central (pid ${central.child.pid}) on ${central.url}`);

    // Joins.
    const startedAt = new Date(Date.now() - 60 * 60_000).toISOString();
    const socketUrl = `${central.url.replace(/^http/, "ws")}/agent`;
    const workerCount = Math.min(config.workers, config.agents);
    const workers = Array.from({ length: workerCount }, (_, w) =>
      startAgentWorker({
        socketUrl,
        agents: agents.filter((_, i) => i % workerCount === w),
        joinConcurrency: config.joinConcurrency,
        startedAt,
      }),
    );
    cleanups.push(async () => {
      await Promise.allSettled(
        workers.map(async (worker) => {
          worker.command({ kind: "close" });
          await Promise.race([worker.next("closed"), sleep(5000)]).catch(() => undefined);
          await worker.worker.terminate();
        }),
      );
    });
    let phase = performance.now();
    for (const worker of workers) worker.command({ kind: "join" });
    const joined = (await Promise.all(workers.map((worker) => worker.next("joined")))).flatMap(
      (report) => report.hosts,
    );
    const joinS = seconds(phase);
    log(`${joined.length} agents joined in ${joinS} s`);

    // Containers and history.
    phase = performance.now();
    await seedContainers(
      sql,
      joined.map((host) => host.hostId),
      config.containersPerAgent,
      startedAt,
    );
    const historyIds = await seedMinuteRollups(sql, config.historyContainers, Date.now() - 10 * 60_000);
    const seedS = seconds(phase);
    log(`${totalContainers} containers and 24 h of rollups for ${historyIds.length} seeded in ${seedS} s`);

    // The same calls on the same rows before any container's metrics stream in: what the
    // queries cost, apart from what a busy central adds.
    const quiet = await createDashboardCaller({ baseUrl: central.url, token, historyIds });
    for (let i = 0; i < QUIET_ROUNDS; i++) await quiet.round();
    log(`quiet dashboard calls p95: ${JSON.stringify(percentiles(quiet.timings, 0.95))}`);

    // Every agent takes its desired set: a reconnect spread over 5 s.
    phase = performance.now();
    for (const worker of workers) worker.command({ kind: "reconnect", spreadMs: 5000 });
    await sleep(200);
    const first = await waitForAgents(workers, phase);
    log(
      `all agents reconnected with their containers: welcomed ${first.welcomedS} s, settled ${first.settledS} s`,
    );

    await postgres.setDurable(true);
    const dashboard = await createDashboardCaller({ baseUrl: central.url, token, historyIds });
    log(
      `settling ${SETTLE_MS / 1000} s (container.list's 50th page found after ${dashboard.pagesWalked} pages)`,
    );
    await sleep(SETTLE_MS);

    // The window.
    const windowMs = config.minutes * 60_000;
    const fromTs = Date.now() + 1000;
    for (const worker of workers) worker.command({ kind: "window-start", fromTs });
    await sleep(fromTs - Date.now());
    const statsAtStart = await allStats(workers);
    const windowStart = performance.now();
    const centralAtStart = await central.sample();
    const postgresCpuAtStart = postgres.cpuSeconds();
    const samples: Extract<CentralMessage, { kind: "sample" }>[] = [];
    const sampler = setInterval(() => {
      void central.sample().then((sample) => samples.push(sample));
    }, SAMPLE_EVERY_MS);
    let lastLog = windowStart;
    while (performance.now() - windowStart < windowMs) {
      const roundStart = performance.now();
      await dashboard.round();
      if (performance.now() - lastLog > 30_000) {
        lastLog = performance.now();
        const latest = samples.at(-1);
        log(
          `  ${seconds(windowStart)} s: central RSS ${latest ? round(latest.rssBytes / 2 ** 20) : "?"} MB, ` +
            `event loop p99 ${latest ? round(latest.eventLoopP99Ms) : "?"} ms, ` +
            `metrics ${JSON.stringify(latest?.metrics.queue ?? {})}, ignored ${latest?.metrics.foreignSamplesIgnored}, ` +
            `p95 so far ${JSON.stringify(percentiles(dashboard.timings, 0.95))}`,
        );
      }
      await sleep(Math.max(0, config.roundMs - (performance.now() - roundStart)));
    }
    clearInterval(sampler);
    const toTs = Date.now();
    const centralAtEnd = await central.sample();
    samples.push(centralAtEnd);
    const windowS = (performance.now() - windowStart) / 1000;
    const postgresCpu = postgres.cpuSeconds() - postgresCpuAtStart;
    for (const worker of workers) worker.command({ kind: "window-stop", toTs });
    const windowReports = await Promise.all(workers.map((worker) => worker.next("window")));
    const samplesSent = windowReports.reduce((sum, report) => sum + report.samples, 0);
    const statsAtEnd = await allStats(workers);

    // Kept up: everything sent with a timestamp in the window is stored, soon after it.
    const storedStart = performance.now();
    let stored = 0;
    for (;;) {
      const result = await sql.query<{ n: string }>(
        "SELECT count(*) AS n FROM container_samples WHERE ts >= $1 AND ts < $2",
        [new Date(fromTs), new Date(toTs)],
      );
      stored = Number(result.rows[0]?.n ?? 0);
      if (stored >= samplesSent || performance.now() - storedStart > STORED_TIMEOUT_MS) break;
      await sleep(1000);
    }
    const storedAfterS = seconds(storedStart);
    log(`${stored} of ${samplesSent} samples sent in the window stored (${storedAfterS} s after it)`);

    const cpuS =
      (centralAtEnd.cpuUserUs +
        centralAtEnd.cpuSystemUs -
        centralAtStart.cpuUserUs -
        centralAtStart.cpuSystemUs) /
      1e6;
    const p99s = samples.map((sample) => sample.eventLoopP99Ms).sort((a, b) => a - b);
    const rss = samples.map((sample) => sample.rssBytes / 2 ** 20);

    // Restart.
    log("restarting the central");
    const stopStart = performance.now();
    await central.stop();
    const stopS = seconds(stopStart);
    const startStart = performance.now();
    central = await startCentral(centralConfig);
    const startS = seconds(startStart);
    const reconnect = await waitForAgents(workers, performance.now());
    const hostsOnline = await sql.query<{ n: string }>(
      "SELECT count(*) AS n FROM hosts WHERE status = 'online'",
    );
    log(
      `stopped in ${stopS} s, started in ${startS} s; all welcomed ${reconnect.welcomedS} s and settled ` +
        `${reconnect.settledS} s after it listened`,
    );
    const statsAfter = await allStats(workers);

    const apiP95 = percentiles(dashboard.timings, 0.95);
    const result = {
      bench: "fleet-scale",
      agents: config.agents,
      containers: totalContainers,
      central_cpu_cores: round(cpuS / windowS, 3),
      central_rss_mb: round(Math.max(...rss)),
      event_loop_p99_ms: round(quantile(p99s, 0.5)),
      samples_per_s: Math.round(stored / windowS),
      reconnect_all_s: reconnect.welcomedS,
      api_p95_ms: apiP95,
      api_p50_ms: percentiles(dashboard.timings, 0.5),
      api_max_ms: percentiles(dashboard.timings, 1),
      api_rounds: dashboard.rounds,
      api_errors: dashboard.errors,
      api_quiet_p50_ms: percentiles(quiet.timings, 0.5),
      api_quiet_p95_ms: percentiles(quiet.timings, 0.95),
      goals: {
        central_cpu_cores: GOALS.central_cpu_cores,
        event_loop_p99_ms: GOALS.event_loop_p99_ms,
        api_p95_ms: GOALS.api_p95_ms,
        reconnect_all_s: GOALS.reconnect_all_s,
      },
      meets_goals: {
        keeps_up_on_one_core: cpuS / windowS <= GOALS.central_cpu_cores && stored === samplesSent,
        event_loop_p99_ms: quantile(p99s, 0.5) <= GOALS.event_loop_p99_ms,
        api_p95_ms: Object.values(apiP95).every((p95) => p95 <= GOALS.api_p95_ms),
        reconnect_all_s: reconnect.welcomedS !== null && reconnect.welcomedS <= GOALS.reconnect_all_s,
      },
      window_s: round(windowS),
      samples_sent: samplesSent,
      samples_stored: stored,
      samples_per_s_sent: Math.round(samplesSent / windowS),
      stored_after_window_s: storedAfterS,
      event_loop_p99_ms_per_5s: {
        median: round(quantile(p99s, 0.5)),
        p90: round(quantile(p99s, 0.9)),
        max: round(p99s.at(-1) ?? Number.NaN),
      },
      event_loop_max_ms: round(Math.max(...samples.map((sample) => sample.eventLoopMaxMs))),
      central_rss_mb_mean: round(rss.reduce((sum, value) => sum + value, 0) / rss.length),
      central_cpu_s: round(cpuS, 2),
      central_metrics_at_window_end: centralAtEnd.metrics,
      postgres_cpu_cores: round(postgresCpu / windowS, 3),
      frames_in_window: statsAtEnd.framesSent - statsAtStart.framesSent,
      error_frames: statsAfter.errors,
      closes: statsAfter.closes,
      metrics_frames_not_sent: statsAfter.metricsSkipped,
      join_s: joinS,
      seed_s: seedS,
      first_reconnect: first,
      restart: {
        stop_s: stopS,
        start_s: startS,
        ...reconnect,
        hosts_online: Number(hostsOnline.rows[0]?.n ?? 0),
      },
      welcomes: statsAfter.welcomes,
      connects: statsAfter.connects,
      statuses_sent: statsAfter.statusesSent,
      ops_answered: statsAfter.opsAnswered,
      container_list_pages_walked: dashboard.pagesWalked,
      history_containers: historyIds.length,
      agent_threads: workerCount,
      cpus: availableParallelism(),
      wall_s: seconds(runStarted),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log(`cleanup failed: ${String(error)}`);
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
