/**
 * fleet-scale benchmark: thousands of simulated agents streaming metrics for minutes against
 * one central on real Postgres with 100,000 container rows, then against two replicas of it. What the central costs (CPU,
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
 * 9. Two replicas (`two_replicas`): a second central (FLEET_REPLICA_ID fleet-scale-2, its own
 *    process and ports, the same database and data directory) joins the first; the agents
 *    are given both URLs, half start on each and move to the other on a 4012 close or a
 *    refused dial, as a balancer would send them. Steps 5-7 again (a 2-minute window by
 *    default), the dashboard's rounds to each replica in turn; CPU and RSS per replica and
 *    summed, event-loop delay p99 per replica (the worse one reported). The restart stops the
 *    second replica (SIGTERM: its agents are told 4012) and times from the SIGTERM until
 *    every agent is welcomed again by the first; then the second comes back (agents stay
 *    where they are: nothing rebalances them). After either restart, 20 s more, then
 *    `restart.hosts_marked_offline` counts the hosts marked offline since its start: every
 *    agent stays alive, so each of them is a false alarm whose containers were rescheduled.
 *
 * Goals (issue 16; printed, not enforced): central_cpu_cores ≤ 1 with every sample stored,
 * event-loop delay p99 ≤ 100 ms, every dashboard call p95 ≤ 200 ms, reconnect ≤ 30 s.
 *
 * Environment (all optional): BENCH_FLEET_SCALE_AGENTS (2000), BENCH_FLEET_SCALE_CONTAINERS
 * (per agent, 50), BENCH_FLEET_SCALE_MINUTES (measured window, 5; fractions allowed),
 * BENCH_FLEET_SCALE_REPLICAS (the passes: "1,2", "1" or "2"),
 * BENCH_FLEET_SCALE_TWO_REPLICA_MINUTES (the two-replica window, 2 or the one-replica one if shorter),
 * BENCH_FLEET_SCALE_WORKERS (agent threads, 2), BENCH_FLEET_SCALE_JOIN_CONCURRENCY (per
 * thread, 50), BENCH_FLEET_SCALE_ROUND_MS (between rounds of dashboard calls, 2000),
 * BENCH_FLEET_SCALE_HISTORY_CONTAINERS (with 24 h of rollups, 20), BENCH_FLEET_SCALE_CPU_PROFILE_DIR
 * (each central process writes a V8 CPU profile there when it exits), BENCH_FLEET_SCALE_STOP_SIGNAL
 * (how the two-replica pass stops a replica: SIGTERM, or SIGKILL for a replica that dies).
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
import { oneOf, positiveInt } from "../common/env-knobs";
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
  passes: replicaCounts("BENCH_FLEET_SCALE_REPLICAS", [1, 2]),
  // Shorter by default, so that both passes fit in a reasonable run.
  twoReplicaMinutes: positiveNumber(
    "BENCH_FLEET_SCALE_TWO_REPLICA_MINUTES",
    Math.min(2, positiveNumber("BENCH_FLEET_SCALE_MINUTES", 5)),
  ),
  workers: positiveInt("BENCH_FLEET_SCALE_WORKERS", 2),
  joinConcurrency: positiveInt("BENCH_FLEET_SCALE_JOIN_CONCURRENCY", 50),
  roundMs: positiveInt("BENCH_FLEET_SCALE_ROUND_MS", 2000),
  historyContainers: positiveInt("BENCH_FLEET_SCALE_HISTORY_CONTAINERS", 20),
  // Where each central process writes a V8 CPU profile when it exits (unset: none).
  cpuProfileDir: process.env.BENCH_FLEET_SCALE_CPU_PROFILE_DIR || null,
  // How the two-replica pass stops a replica: SIGTERM (it drains) or SIGKILL (it dies).
  stopSignal: oneOf("BENCH_FLEET_SCALE_STOP_SIGNAL", ["SIGTERM", "SIGKILL"] as const, "SIGTERM"),
};
const SECOND_REPLICA_ID = "fleet-scale-2";
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

function replicaCounts(name: string, fallback: number[]): number[] {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  // Ascending: the one-replica pass first, then a second replica joins the first.
  const counts = text
    .split(",")
    .map((part) => Number(part.trim()))
    .sort();
  if (counts.some((count) => count !== 1 && count !== 2) || new Set(counts).size !== counts.length)
    throw new Error(`${name} must list 1 and/or 2, got ${text}`);
  return counts;
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
  /** SIGTERM (drain) or SIGKILL, then the exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
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
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
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

/**
 * Waits until every agent is welcomed and has acked a desired set, or WELCOME_TIMEOUT_MS;
 * with `closesAtLeast`, only once that many connections have ended since the run began
 * (a replica stopping: its agents have not all been told yet when the wait starts).
 */
async function waitForAgents(
  workers: AgentWorker[],
  startedAt: number,
  closesAtLeast = 0,
): Promise<AgentsBack> {
  let welcomedS: number | null = null;
  let lastLog = performance.now();
  for (;;) {
    const stats = await allStats(workers);
    if (closesOf(stats) < closesAtLeast) {
      if (performance.now() - startedAt > WELCOME_TIMEOUT_MS) {
        log(
          `only ${closesOf(stats)} of ${closesAtLeast} connections closed after ${WELCOME_TIMEOUT_MS / 1000} s`,
        );
        return { welcomedS: null, settledS: null, welcomed: stats.welcomed, settled: stats.settled };
      }
      await sleep(50);
      continue;
    }
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

/**
 * Frames stored with fewer samples than the others, and the longest silences between a
 * host's stored frames (metrics every 5 s: a silence of 10 s or more is a lost frame or a
 * stalled agent thread): where to look when fewer samples are stored than were sent.
 */
async function whereSamplesAreMissing(sql: pg.Client, fromTs: number, toTs: number) {
  const window = [new Date(fromTs), new Date(toTs)];
  const partial = await sql.query<{ host_id: string; ts: Date; n: number }>(
    `SELECT host_id, ts, count(*)::int AS n FROM container_samples WHERE ts >= $1 AND ts < $2
     GROUP BY host_id, ts HAVING count(*) <> $3 ORDER BY ts LIMIT 10`,
    [...window, config.containersPerAgent],
  );
  const silences = await sql.query<{ host_id: string; ts: Date; gap_s: number }>(
    `WITH frames AS (SELECT DISTINCT host_id, ts FROM container_samples WHERE ts >= $1 AND ts < $2),
          gaps AS (SELECT host_id, ts, extract(epoch FROM ts - lag(ts) OVER (PARTITION BY host_id ORDER BY ts))::float AS gap_s FROM frames)
     SELECT host_id, ts, gap_s FROM gaps WHERE gap_s >= 10 ORDER BY gap_s DESC LIMIT 10`,
    window,
  );
  const at = (ts: Date) => round((ts.getTime() - fromTs) / 1000);
  return {
    partial_frames: partial.rows.map((row) => ({ host: row.host_id, at_s: at(row.ts), samples: row.n })),
    silences: silences.rows.map((row) => ({
      host: row.host_id,
      ended_at_s: at(row.ts),
      gap_s: round(row.gap_s),
    })),
  };
}

// ---- one pass: one replica or two -------------------------------------------------

type CentralSample = Extract<CentralMessage, { kind: "sample" }>;

/** A replica: how it is started (again on the same ports and data directory) and its process. */
interface Replica {
  config: CentralProcessConfig;
  central: CentralChild;
}

/** What every pass shares: the database, the joined agents, the admin's token, the seeded rows. */
interface Run {
  postgres: BenchPostgres;
  sql: pg.Client;
  workers: AgentWorker[];
  token: string;
  historyIds: string[];
}

const socketUrlOf = (central: CentralChild) => `${central.url.replace(/^http/, "ws")}/agent`;
const closesOf = (stats: AgentWorkerStats) => Object.values(stats.closes).reduce((sum, n) => sum + n, 0);

async function hostsPerReplica(sql: pg.Client): Promise<Record<string, number>> {
  const result = await sql.query<{ replica: string | null; n: number }>(
    "SELECT connected_replica AS replica, count(*)::int AS n FROM hosts WHERE status = 'online' GROUP BY 1",
  );
  return Object.fromEntries(result.rows.map((row) => [row.replica ?? "none", row.n]));
}

/** One replica's figures over the window, from its samples (the first and last bound it). */
function replicaFigures(atStart: CentralSample, samples: CentralSample[], windowS: number) {
  const atEnd = samples.at(-1) as CentralSample;
  const cpuS = (atEnd.cpuUserUs + atEnd.cpuSystemUs - atStart.cpuUserUs - atStart.cpuSystemUs) / 1e6;
  const p99s = samples.map((sample) => sample.eventLoopP99Ms).sort((a, b) => a - b);
  const rss = samples.map((sample) => sample.rssBytes / 2 ** 20);
  return {
    cpuS,
    central_cpu_cores: round(cpuS / windowS, 3),
    central_rss_mb: round(Math.max(...rss)),
    central_rss_mb_mean: round(rss.reduce((sum, value) => sum + value, 0) / rss.length),
    event_loop_p99_ms: round(quantile(p99s, 0.5)),
    event_loop_p99_ms_per_5s: {
      median: round(quantile(p99s, 0.5)),
      p90: round(quantile(p99s, 0.9)),
      max: round(p99s.at(-1) ?? Number.NaN),
    },
    event_loop_max_ms: round(Math.max(...samples.map((sample) => sample.eventLoopMaxMs))),
    metrics_at_window_end: atEnd.metrics,
  };
}

/**
 * One replica: SIGTERM, a new central on the same database, ports and data directory, timed
 * from its listening until every agent is welcomed again. Several: the last one is stopped
 * (its agents, told 4012, dial the other) and timed from the SIGTERM until every agent is
 * welcomed again by the others; then it comes back.
 */
async function restartOne(run: Run, replicas: Replica[]) {
  const offlineBefore = await hostsMarkedOffline(run.sql);
  const restart = await stopAndStartOne(run, replicas);
  // Every agent stayed alive: a host marked offline meanwhile had its containers rescheduled for nothing.
  await sleep(20_000);
  const markedOffline = (await hostsMarkedOffline(run.sql)) - offlineBefore;
  log(`hosts marked offline during the restart: ${markedOffline}`);
  return { ...restart, restart: { ...restart.restart, hosts_marked_offline: markedOffline } };
}

async function hostsMarkedOffline(sql: pg.Client): Promise<number> {
  const result = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM events WHERE kind = 'host.offline'",
  );
  return result.rows[0]?.n ?? 0;
}

async function stopAndStartOne(run: Run, replicas: Replica[]) {
  const replica = replicas.at(-1) as Replica;
  if (replicas.length === 1) {
    log("restarting the central");
    const stopStart = performance.now();
    await replica.central.stop();
    const stopS = seconds(stopStart);
    const startStart = performance.now();
    replica.central = await startCentral(replica.config);
    const startS = seconds(startStart);
    const reconnect = await waitForAgents(run.workers, performance.now());
    log(
      `stopped in ${stopS} s, started in ${startS} s; all welcomed ${reconnect.welcomedS} s and settled ` +
        `${reconnect.settledS} s after it listened`,
    );
    return { reconnect, restart: { stop_s: stopS, start_s: startS, ...reconnect } };
  }
  const replicaId = replica.config.replicaId as string;
  const before = await hostsPerReplica(run.sql);
  const moving = before[replicaId] ?? 0;
  log(`stopping replica ${replicaId} (${config.stopSignal}): its ${moving} agents move to the other`);
  const closesBefore = closesOf(await allStats(run.workers));
  const stopStart = performance.now();
  const stopped = replica.central.stop(config.stopSignal).then(() => seconds(stopStart));
  const reconnect = await waitForAgents(run.workers, stopStart, closesBefore + moving);
  const stopS = await stopped;
  const startStart = performance.now();
  replica.config = { ...replica.config, replicaId: `${replicaId}r` };
  replica.central = await startCentral(replica.config);
  const startS = seconds(startStart);
  await sleep(2000);
  const after = await hostsPerReplica(run.sql);
  log(
    `all welcomed ${reconnect.welcomedS} s and settled ${reconnect.settledS} s after the ${config.stopSignal}; ` +
      `stopped in ${stopS} s, back in ${startS} s; hosts per replica ${JSON.stringify(after)}`,
  );
  return {
    reconnect,
    restart: {
      replica_stopped: replicaId,
      hosts_moved: moving,
      timed_from: config.stopSignal.toLowerCase(),
      stop_s: stopS,
      ...reconnect,
      start_s: startS,
      hosts_per_replica_before: before,
      hosts_per_replica_after: after,
    },
  };
}

async function measurePass(run: Run, replicas: Replica[], minutes: number) {
  const { postgres, sql, workers } = run;
  const two = replicas.length > 1;
  const tag = two ? "two replicas: " : "";
  const statsAtPassStart = await allStats(workers);
  for (const worker of workers)
    worker.command({ kind: "urls", socketUrls: replicas.map((replica) => socketUrlOf(replica.central)) });

  // Every agent takes its desired set: a reconnect spread over 5 s (with two replicas, half to each).
  const phase = performance.now();
  for (const worker of workers) worker.command({ kind: "reconnect", spreadMs: 5000 });
  await sleep(200);
  const first = await waitForAgents(workers, phase);
  log(
    `${tag}all agents reconnected with their containers: welcomed ${first.welcomedS} s, settled ${first.settledS} s`,
  );

  await postgres.setDurable(true);
  // The dashboard's rounds go to each replica in turn, as a balancer spreads browsers.
  const dashboards = await Promise.all(
    replicas.map((replica) =>
      createDashboardCaller({ baseUrl: replica.central.url, token: run.token, historyIds: run.historyIds }),
    ),
  );
  const first50th = dashboards[0] as (typeof dashboards)[number];
  log(
    `${tag}settling ${SETTLE_MS / 1000} s (container.list's 50th page found after ${first50th.pagesWalked} pages)`,
  );
  await sleep(SETTLE_MS);

  // The window.
  const windowMs = minutes * 60_000;
  const fromTs = Date.now() + 1000;
  for (const worker of workers) worker.command({ kind: "window-start", fromTs });
  await sleep(fromTs - Date.now());
  const statsAtStart = await allStats(workers);
  const windowStart = performance.now();
  const atStart = await Promise.all(replicas.map((replica) => replica.central.sample()));
  const postgresCpuAtStart = postgres.cpuSeconds();
  // This process: the simulated agents' threads and the dashboard's client, which share the machine with the central.
  const benchCpuAtStart = process.cpuUsage();
  const samples: CentralSample[][] = replicas.map(() => []);
  const sampler = setInterval(() => {
    replicas.forEach((replica, i) => {
      void replica.central.sample().then((sample) => samples[i]?.push(sample));
    });
  }, SAMPLE_EVERY_MS);
  let lastLog = windowStart;
  let rounds = 0;
  while (performance.now() - windowStart < windowMs) {
    const roundStart = performance.now();
    await dashboards[rounds++ % dashboards.length]?.round();
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      const latest = samples.map((each) => each.at(-1));
      log(
        `  ${tag}${seconds(windowStart)} s: central RSS ${latest.map((l) => (l ? round(l.rssBytes / 2 ** 20) : "?")).join(" + ")} MB, ` +
          `event loop p99 ${latest.map((l) => (l ? round(l.eventLoopP99Ms) : "?")).join(", ")} ms, ` +
          `metrics ${latest.map((l) => JSON.stringify(l?.metrics.queue ?? {})).join(", ")}, ` +
          `ignored ${latest.map((l) => l?.metrics.foreignSamplesIgnored).join(", ")}, ` +
          `p95 so far ${JSON.stringify(percentiles(mergedTimings(dashboards), 0.95))}`,
      );
    }
    await sleep(Math.max(0, config.roundMs - (performance.now() - roundStart)));
  }
  clearInterval(sampler);
  const toTs = Date.now();
  const atEnd = await Promise.all(replicas.map((replica) => replica.central.sample()));
  for (const [i, sample] of atEnd.entries()) samples[i]?.push(sample);
  const windowS = (performance.now() - windowStart) / 1000;
  const postgresCpu = postgres.cpuSeconds() - postgresCpuAtStart;
  const benchCpu = process.cpuUsage(benchCpuAtStart);
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
  log(`${tag}${stored} of ${samplesSent} samples sent in the window stored (${storedAfterS} s after it)`);
  const missing = stored < samplesSent ? await whereSamplesAreMissing(sql, fromTs, toTs) : null;
  if (missing) log(`where samples are missing: ${JSON.stringify(missing)}`);

  const perReplica = atStart.map((start, i) => replicaFigures(start, samples[i] as CentralSample[], windowS));
  const cpuS = perReplica.reduce((sum, each) => sum + each.cpuS, 0);
  const rssMb = perReplica.reduce((sum, each) => sum + each.central_rss_mb, 0);
  const loopP99 = Math.max(...perReplica.map((each) => each.event_loop_p99_ms));
  const replicaIds = replicas.map((replica) => replica.config.replicaId ?? "default");

  const { reconnect, restart } = await restartOne(run, replicas);
  // Missing samples stored once a replica has stopped (its write queue flushed) were late, not lost.
  const storedAfterRestart =
    stored < samplesSent
      ? Number(
          (
            await sql.query<{ n: string }>(
              "SELECT count(*) AS n FROM container_samples WHERE ts >= $1 AND ts < $2",
              [new Date(fromTs), new Date(toTs)],
            )
          ).rows[0]?.n ?? 0,
        )
      : null;
  const hostsOnline = await sql.query<{ n: string }>(
    "SELECT count(*) AS n FROM hosts WHERE status = 'online'",
  );
  const statsAfter = await allStats(workers);

  const timings = mergedTimings(dashboards);
  const errors: Record<string, number> = {};
  for (const dashboard of dashboards)
    for (const [name, count] of Object.entries(dashboard.errors)) errors[name] = (errors[name] ?? 0) + count;
  const apiP95 = percentiles(timings, 0.95);
  const only = perReplica[0] as (typeof perReplica)[number];
  return {
    centrals: replicas.length,
    central_cpu_cores: round(cpuS / windowS, 3),
    central_rss_mb: round(rssMb),
    event_loop_p99_ms: loopP99,
    samples_per_s: Math.round(stored / windowS),
    reconnect_all_s: reconnect.welcomedS,
    api_p95_ms: apiP95,
    api_p50_ms: percentiles(timings, 0.5),
    api_max_ms: percentiles(timings, 1),
    api_rounds: rounds,
    api_errors: errors,
    goals: GOALS,
    meets_goals: {
      keeps_up_on_one_core: cpuS / windowS <= GOALS.central_cpu_cores && stored === samplesSent,
      event_loop_p99_ms: loopP99 <= GOALS.event_loop_p99_ms,
      api_p95_ms: Object.values(apiP95).every((p95) => p95 <= GOALS.api_p95_ms),
      reconnect_all_s: reconnect.welcomedS !== null && reconnect.welcomedS <= GOALS.reconnect_all_s,
    },
    window_s: round(windowS),
    samples_sent: samplesSent,
    samples_stored: stored,
    samples_per_s_sent: Math.round(samplesSent / windowS),
    stored_after_window_s: storedAfterS,
    ...(missing ? { samples_missing: missing, samples_stored_after_restart: storedAfterRestart } : {}),
    ...(two
      ? {
          // Summed: CPU and RSS (the sum of each replica's largest); event-loop p99: the worse replica's.
          replicas: perReplica.map(({ cpuS: _, metrics_at_window_end: __, ...figures }, i) => ({
            replica_id: replicaIds[i],
            ...figures,
          })),
          central_metrics_at_window_end: perReplica.map((each) => each.metrics_at_window_end),
        }
      : {
          event_loop_p99_ms_per_5s: only.event_loop_p99_ms_per_5s,
          event_loop_max_ms: only.event_loop_max_ms,
          central_rss_mb_mean: only.central_rss_mb_mean,
          central_metrics_at_window_end: only.metrics_at_window_end,
        }),
    central_cpu_s: round(cpuS, 2),
    postgres_cpu_cores: round(postgresCpu / windowS, 3),
    bench_process_cpu_cores: round((benchCpu.user + benchCpu.system) / 1e6 / windowS, 3),
    frames_in_window: statsAtEnd.framesSent - statsAtStart.framesSent,
    // Counted from this pass's start.
    error_frames: countsSince(statsAfter.errors, statsAtPassStart.errors),
    closes: countsSince(statsAfter.closes, statsAtPassStart.closes),
    metrics_frames_not_sent: statsAfter.metricsSkipped - statsAtPassStart.metricsSkipped,
    first_reconnect: first,
    restart: { ...restart, hosts_online: Number(hostsOnline.rows[0]?.n ?? 0) },
    welcomes: statsAfter.welcomes - statsAtPassStart.welcomes,
    connects: statsAfter.connects - statsAtPassStart.connects,
    statuses_sent: statsAfter.statusesSent - statsAtPassStart.statusesSent,
    ops_answered: statsAfter.opsAnswered - statsAtPassStart.opsAnswered,
    container_list_pages_walked: first50th.pagesWalked,
  };
}

function mergedTimings(dashboards: { timings: CallTimings }[]): CallTimings {
  const merged: CallTimings = {};
  for (const dashboard of dashboards)
    for (const [name, values] of Object.entries(dashboard.timings))
      merged[name] = [...(merged[name] ?? []), ...values];
  return merged;
}

function countsSince(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(now)
      .map(([key, count]) => [key, count - (before[key] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}

async function main(): Promise<void> {
  const totalContainers = config.agents * config.containersPerAgent;
  log(
    `${config.agents} agents × ${config.containersPerAgent} containers = ${totalContainers}, ` +
      `passes with ${config.passes.join(" and ")} central replica(s), windows of ${config.minutes} min ` +
      `(one replica) and ${config.twoReplicaMinutes} min (two), agents on ${config.workers} threads`,
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

    // Replicas share the data directory (the agent port's key, which agents behind a balancer pin).
    const dataDir = mkdtempSync(join(tmpdir(), "fleet-bench-scale-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const replicas: Replica[] = [];
    cleanups.push(() => Promise.all(replicas.map((replica) => replica.central.stop())).then(() => undefined));
    const addReplica = async (replicaId?: string) => {
      const replicaConfig: CentralProcessConfig = {
        databaseUrl: url,
        port: await findFreePort(),
        agentPort: await findFreePort(),
        dataDir,
        ...(replicaId ? { replicaId } : {}),
      };
      const central = await startCentral(replicaConfig);
      replicas.push({ config: replicaConfig, central });
      log(`central ${replicaId ?? ""}(pid ${central.child.pid}) on ${central.url}`);
    };
    await addReplica();
    if (config.passes[0] === 2) await addReplica(SECOND_REPLICA_ID);

    // Joins.
    const startedAt = new Date(Date.now() - 60 * 60_000).toISOString();
    const workerCount = Math.min(config.workers, config.agents);
    const workers = Array.from({ length: workerCount }, (_, w) =>
      startAgentWorker({
        socketUrls: replicas.map((replica) => socketUrlOf(replica.central)),
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
    const quiet = await createDashboardCaller({
      baseUrl: (replicas[0] as Replica).central.url,
      token,
      historyIds,
    });
    for (let i = 0; i < QUIET_ROUNDS; i++) await quiet.round();
    log(`quiet dashboard calls p95: ${JSON.stringify(percentiles(quiet.timings, 0.95))}`);

    const run: Run = { postgres, sql, workers, token, historyIds };
    const passes = new Map<number, Awaited<ReturnType<typeof measurePass>>>();
    for (const count of config.passes) {
      if (count === 2 && replicas.length < 2) await addReplica(SECOND_REPLICA_ID);
      passes.set(
        count,
        await measurePass(run, replicas, count === 1 ? config.minutes : config.twoReplicaMinutes),
      );
    }
    const one = passes.get(1);
    const two = passes.get(2);
    const { centrals: _, ...headline } = (one ?? two) as NonNullable<typeof one>;
    const result = {
      bench: "fleet-scale",
      agents: config.agents,
      containers: totalContainers,
      centrals: one ? 1 : 2,
      ...headline,
      api_quiet_p50_ms: percentiles(quiet.timings, 0.5),
      api_quiet_p95_ms: percentiles(quiet.timings, 0.95),
      ...(one && two ? { two_replicas: two } : {}),
      join_s: joinS,
      seed_s: seedS,
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
