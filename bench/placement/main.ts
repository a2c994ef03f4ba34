/**
 * placement benchmark: placements per second end to end through the real API on real
 * Postgres, against 1,000 simulated hosts on real WebSockets.
 *
 * It starts a private PostgreSQL with durable settings (fsync, synchronous_commit and
 * full_page_writes on; bench/ingest/bench-postgres.ts) and measures two passes, each on a
 * fresh database: one central replica, then two replicas on the same database. A replica
 * is the real central (`createFleetServer`, Next.js off) in a child process of its own
 * (central-worker.ts), so two replicas are two event loops and each one's CPU is read
 * apart. Per pass:
 *
 * 1. The hosts (the test harness's fake agent: it acknowledges every desired set at once
 *    and heartbeats as a real agent does) join with a join token each, in bounded parallel
 *    batches, from two worker threads (agent-worker.ts); with two replicas every other
 *    host joins the second. Each host is big enough that the fleet holds every placement.
 * 2. API clients with an admin's API token, one procedure call per HTTP request as a real
 *    client (the CLI, a script) sends it; batching (`httpBatchLink`) would fold concurrent
 *    calls into one request and measure batching instead. C callers (split over the
 *    replicas) call `container.run` in a loop (0.01 cores, 8 MiB, an image fake agents never
 *    pull): first an unmeasured warm-up through the typed tRPC client (`httpLink`), then the
 *    measured runs as the same request on kept-alive connections with the body written once
 *    (http-caller.ts), since the typed client cost this process about 1.6 ms of CPU per call
 *    on the cores the central needs. placements/s = successful runs / wall seconds; p50/p99
 *    of a call.
 *    A central slower than the time limit stops being called there: the figure is then
 *    over the runs that completed.
 * 3. One `deployment.create` of 5,000 replicas, timed from call to answer (its image names
 *    a digest, so no host is asked to pull it first). A deployment is limited to the
 *    service's MAX_REPLICAS; when that is below what was asked, the bench says so and
 *    places MAX_REPLICAS.
 * 4. Checks, from Postgres: every successful call left one placed row, the deployment has
 *    its replicas, no host holds more requests than it has allocatable, and each host's
 *    allocated sums equal its live containers' requests; and every host's newest desired
 *    set, as the simulated agent received it, holds what Postgres says it should.
 *
 * Per phase also: CPU seconds of the central processes, of Postgres and of this process
 * (API clients and simulated hosts), and how busy the centrals' event loops were.
 * Any error (a failed call, a failed check) is printed and the bench exits non-zero.
 *
 * Strategy: `spread` by default. With `binpack` and requests this small, every placement
 * lands on the same few hosts, and what is measured is one host's desired set growing
 * (each push carries the whole set) and contention on one host row, not placement over
 * 1,000 hosts.
 *
 * Goals from issue 16 (printed, not enforced): ≥ 1,000 placements/s; a 5,000-replica
 * deployment placed in < 5 s.
 *
 * Environment (all optional): BENCH_PLACEMENT_HOSTS (1000), BENCH_PLACEMENT_CLIENTS (concurrent
 * callers, 64), BENCH_PLACEMENT_RUNS (measured `container.run` calls, 5000),
 * BENCH_PLACEMENT_WARMUP (unmeasured calls first, at most 15 s of them; 300, 0 for none),
 * BENCH_PLACEMENT_MAX_RUN_S (time limit of the measured runs, 60),
 * BENCH_PLACEMENT_DEPLOYMENT_REPLICAS (5000; 0 for no deployment), BENCH_PLACEMENT_STRATEGY
 * (spread | binpack), BENCH_PLACEMENT_REPLICAS (the passes: "1,2", "1" or "2"),
 * BENCH_PLACEMENT_CPU_PROFILE_DIR (each central writes a V8 CPU profile there when it stops).
 *
 * Progress on stderr, one JSON object as the last line of stdout.
 *
 * May import: node built-ins, pg, superjson, @trpc/client, the test harness (Postgres
 * binaries, ports, fake agent), the ingest bench's Postgres, the web app's db, migrator,
 * tokens, deployment limit, test factories and router types.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { findPostgresBinDir } from "@fleet/test/harness/global-setup";
import { findFreePort } from "@fleet/test/harness/ports";
import { databaseUrl } from "@fleet/test/harness/postgres";
import { createPrismaClient } from "@fleet/web/server/db/client";
import { migrate } from "@fleet/web/server/db/migrator";
import type { AppRouter } from "@fleet/web/server/routers/_app";
import { MAX_REPLICAS } from "@fleet/web/server/services/deployment/create-deployment";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { generateToken, hashToken } from "@fleet/web/server/tokens";
import { createTRPCClient, httpLink, type TRPCClient, TRPCClientError } from "@trpc/client";
import pg from "pg";
import superjson from "superjson";
import { nonNegativeInt, oneOf, positiveInt } from "../common/env-knobs";
import { type BenchPostgres, startBenchPostgres } from "../ingest/bench-postgres";
import { CallError, httpMutationCaller } from "./http-caller";
import {
  type AgentWorker,
  type CentralProcess,
  processCpuSeconds,
  startAgentWorker,
  startCentralProcess,
} from "./processes";

const config = {
  hosts: positiveInt("BENCH_PLACEMENT_HOSTS", 1000),
  clients: positiveInt("BENCH_PLACEMENT_CLIENTS", 64),
  runs: positiveInt("BENCH_PLACEMENT_RUNS", 5000),
  warmup: nonNegativeInt("BENCH_PLACEMENT_WARMUP", 300),
  maxRunSeconds: positiveInt("BENCH_PLACEMENT_MAX_RUN_S", 60),
  deploymentReplicas: nonNegativeInt("BENCH_PLACEMENT_DEPLOYMENT_REPLICAS", 5000),
  strategy: oneOf("BENCH_PLACEMENT_STRATEGY", ["spread", "binpack"] as const, "spread"),
  passes: replicaCounts("BENCH_PLACEMENT_REPLICAS", [1, 2]),
  cpuProfileDir: process.env.BENCH_PLACEMENT_CPU_PROFILE_DIR || null,
};
const AGENT_WORKERS = 2;
// Measured here: 25 per thread (50 at once) ran one central's transactions out of time
// ("Unable to start a transaction in the given time") and hosts joined at ~25/s anyway.
const JOIN_CONCURRENCY_PER_WORKER = 8;
// 8 cores and 32 GiB each: 800 of the bench's containers per host, so 1,000 hosts hold every run.
const HOST_CPUS = 8;
const HOST_MEMORY_BYTES = 32 * 1024 ** 3;
// The central's default heartbeat interval (FLEET_HEARTBEAT_INTERVAL).
const HEARTBEAT_INTERVAL_MS = 5000;
const CONTAINER = { cpus: "0.01", memory: "8m" } as const;
const RUN_IMAGE = "bench/placement:1";
// A digest: the deployment runs it as it is, with no pull on a host to pin a tag.
const DEPLOYMENT_IMAGE = `bench/placement@sha256:${createHash("sha256").update("fleet bench placement").digest("hex")}`;
// Several of the gateway's 5 s comparisons: a set missing after that is not coming.
const DELIVERY_TIMEOUT_MS = 30_000;
const WAL_PREWARM_MB = 128;
const WARMUP_MAX_S = 15;
const GOALS = { placements_per_s: 1000, deployment_replicas: 5000, deployment_place_s: 5 };

function replicaCounts(name: string, fallback: number[]): number[] {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const counts = text.split(",").map((part) => Number(part.trim()));
  if (counts.length === 0 || counts.some((count) => count !== 1 && count !== 2))
    throw new Error(`${name} must list 1 and/or 2, got ${text}`);
  return counts;
}

function log(message: string): void {
  process.stderr.write(`[placement] ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

type Client = TRPCClient<AppRouter>;

function apiClient(url: string, token: string): Client {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
}

/** Failed calls by what they said, so a run with errors tells which. */
class ErrorTally {
  readonly byMessage = new Map<string, number>();
  total = 0;

  add(error: unknown): void {
    const code =
      error instanceof TRPCClientError
        ? ((error.data as { code?: string } | undefined)?.code ?? "")
        : error instanceof CallError
          ? error.code
          : "";
    const message =
      `${code ? `${code}: ` : ""}${error instanceof Error ? error.message : String(error)}`.slice(0, 200);
    this.byMessage.set(message, (this.byMessage.get(message) ?? 0) + 1);
    this.total++;
  }

  top(): Record<string, number> {
    return Object.fromEntries([...this.byMessage].sort((a, b) => b[1] - a[1]).slice(0, 5));
  }
}

/**
 * What the measured window cost: the centrals, Postgres, this process (clients and hosts);
 * and the transactions Postgres committed (a statement outside a transaction is one), which
 * says how many round trips a placement costs. The server's statistics lag by up to a
 * second, so a short window's count is approximate.
 */
interface CostWindow {
  end(): Promise<{
    central_cpu_s: number;
    central_event_loop_utilization: number[];
    postgres_cpu_s: number;
    postgres_commits: number;
    bench_process_cpu_s: number;
  }>;
}

async function commitsSoFar(db: pg.Client): Promise<number> {
  const result = await db.query<{ n: string }>(
    "SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  return Number(result.rows[0]?.n);
}

async function costWindow(
  centrals: CentralProcess[],
  postgres: BenchPostgres,
  db: pg.Client,
): Promise<CostWindow> {
  const centralCpu = () => centrals.reduce((sum, central) => sum + processCpuSeconds(central.pid), 0);
  const loopsAtStart = await Promise.all(centrals.map((central) => central.stats()));
  const commitsAtStart = await commitsSoFar(db);
  const centralCpuAtStart = centralCpu();
  const postgresCpuAtStart = postgres.cpuSeconds();
  const processCpuAtStart = process.cpuUsage();
  return {
    async end() {
      const central = centralCpu() - centralCpuAtStart;
      const postgresCpu = postgres.cpuSeconds() - postgresCpuAtStart;
      const processCpu = process.cpuUsage(processCpuAtStart);
      const loops = await Promise.all(centrals.map((c) => c.stats()));
      // Our own two queries are among them: they do not matter at this size.
      const commits = (await commitsSoFar(db)) - commitsAtStart;
      return {
        central_cpu_s: round(central),
        central_event_loop_utilization: loops.map((loop, i) => {
          const start = loopsAtStart[i] as typeof loop;
          const active = loop.eventLoopActiveMs - start.eventLoopActiveMs;
          const idle = loop.eventLoopIdleMs - start.eventLoopIdleMs;
          return round(active / Math.max(1, active + idle), 3);
        }),
        postgres_cpu_s: round(postgresCpu),
        postgres_commits: commits,
        bench_process_cpu_s: round((processCpu.user + processCpu.system) / 1e6),
      };
    },
  };
}

interface RunsResult {
  requested: number;
  ok: number;
  errors: number;
  seconds: number;
  placements_per_s: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  stopped_by_time_limit: boolean;
  error_messages: Record<string, number>;
}

/** Event-loop utilization over a second below which a central counts as settled. */
const SETTLED_UTILIZATION = 0.2;
const SETTLE_MAX_S = 120;

/**
 * Waits until every central's event loop has been mostly idle for a second:
 * after the hosts joined, the centrals still refresh each host's images,
 * volumes and networks (after-connect work waits until no hello does), and
 * runs measured meanwhile would measure that too. Returns the seconds waited.
 */
async function waitForSettledCentrals(centrals: CentralProcess[]): Promise<number> {
  const startedAt = performance.now();
  let before = await Promise.all(centrals.map((central) => central.stats()));
  while ((performance.now() - startedAt) / 1000 < SETTLE_MAX_S) {
    await sleep(1000);
    const now = await Promise.all(centrals.map((central) => central.stats()));
    const busiest = Math.max(
      ...now.map((loop, i) => {
        const start = before[i] as typeof loop;
        const active = loop.eventLoopActiveMs - start.eventLoopActiveMs;
        return active / Math.max(1, active + loop.eventLoopIdleMs - start.eventLoopIdleMs);
      }),
    );
    if (busiest < SETTLED_UTILIZATION) break;
    before = now;
  }
  return round((performance.now() - startedAt) / 1000, 1);
}

/** `count` calls of `container.run` from `config.clients` callers, spread over the centrals' `runs`. */
async function runContainers(
  runs: (() => Promise<unknown>)[],
  count: number,
  label: string,
  maxSeconds: number,
): Promise<RunsResult> {
  const latencies: number[] = [];
  const errors = new ErrorTally();
  let issued = 0;
  const startedAt = performance.now();
  const deadline = startedAt + maxSeconds * 1000;
  const progress = setInterval(
    () =>
      log(
        `${label}: ${latencies.length} placed, ${errors.total} failed, ${issued - latencies.length - errors.total} in flight`,
      ),
    5000,
  );
  const caller = async (run: () => Promise<unknown>) => {
    while (issued < count && performance.now() < deadline) {
      issued++;
      const callStartedAt = performance.now();
      try {
        await run();
        latencies.push(performance.now() - callStartedAt);
      } catch (error) {
        errors.add(error);
      }
    }
  };
  try {
    await Promise.all(
      Array.from({ length: config.clients }, (_, i) =>
        caller(runs[i % runs.length] as () => Promise<unknown>),
      ),
    );
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const result: RunsResult = {
    requested: count,
    ok: latencies.length,
    errors: errors.total,
    seconds: round(seconds, 3),
    placements_per_s: round(latencies.length / seconds, 1),
    p50_ms: round(percentile(sorted, 50), 1),
    p90_ms: round(percentile(sorted, 90), 1),
    p99_ms: round(percentile(sorted, 99), 1),
    max_ms: round(sorted.at(-1) ?? Number.NaN, 1),
    stopped_by_time_limit: issued < count,
    error_messages: errors.top(),
  };
  log(
    `${label}: ${result.ok} of ${count} placed in ${result.seconds} s: ${result.placements_per_s} placements/s, ` +
      `p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.errors} failed` +
      (result.stopped_by_time_limit ? ` (stopped at the ${maxSeconds} s limit)` : ""),
  );
  for (const [message, n] of Object.entries(result.error_messages)) log(`${label}: ${n} × ${message}`);
  return result;
}

/** Seconds until every host's newest desired set, as its agent has it, adds up to `expected` containers. */
async function waitForDelivery(workers: AgentWorker[], expected: number): Promise<number | null> {
  const startedAt = performance.now();
  let seen = -1;
  while (performance.now() - startedAt < DELIVERY_TIMEOUT_MS) {
    const reports = await Promise.all(
      workers.map((worker) => {
        worker.command({ kind: "desired" });
        return worker.next("desired");
      }),
    );
    seen = reports.reduce((sum, report) => sum + report.containers, 0);
    if (seen === expected) return round((performance.now() - startedAt) / 1000, 3);
    await sleep(100);
  }
  log(`the hosts' desired sets hold ${seen} containers, Postgres ${expected}`);
  return null;
}

async function countOnline(db: pg.Client): Promise<number> {
  const result = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM hosts WHERE status = 'online' AND removed_at IS NULL`,
  );
  return Number(result.rows[0]?.n);
}

interface Checks {
  live_containers: number;
  run_rows: number;
  deployment_rows: number;
  deployment_hosts: number;
  overcommitted_hosts: number;
  allocated_mismatch_hosts: number;
}

async function readChecks(db: pg.Client, deploymentId: string | null): Promise<Checks> {
  const counts = await db.query<{ live: string; runs: string; deployment: string; deployment_hosts: string }>(
    `SELECT count(*) AS live,
            count(*) FILTER (WHERE deployment_id IS NULL) AS runs,
            count(*) FILTER (WHERE deployment_id = $1) AS deployment,
            count(DISTINCT host_id) FILTER (WHERE deployment_id = $1) AS deployment_hosts
       FROM containers WHERE removed_at IS NULL AND host_id IS NOT NULL`,
    [deploymentId],
  );
  const hosts = await db.query<{ overcommitted: string; mismatched: string }>(
    `WITH placed AS (
       SELECT host_id, sum(cpu_request_millis) AS cpu, sum(memory_request_bytes) AS memory, sum(pids_request) AS pids
         FROM containers WHERE removed_at IS NULL AND host_id IS NOT NULL GROUP BY host_id)
     SELECT count(*) FILTER (WHERE coalesce(p.cpu, 0) > h.cpu_allocatable_millis
                               OR coalesce(p.memory, 0) > h.memory_allocatable_bytes
                               OR coalesce(p.pids, 0) > h.pids_allocatable) AS overcommitted,
            count(*) FILTER (WHERE coalesce(p.cpu, 0) <> h.cpu_allocated_millis
                               OR coalesce(p.memory, 0) <> h.memory_allocated_bytes
                               OR coalesce(p.pids, 0) <> h.pids_allocated) AS mismatched
       FROM hosts h LEFT JOIN placed p ON p.host_id = h.id
      WHERE h.removed_at IS NULL`,
  );
  const row = counts.rows[0];
  const hostRow = hosts.rows[0];
  return {
    live_containers: Number(row?.live),
    run_rows: Number(row?.runs),
    deployment_rows: Number(row?.deployment),
    deployment_hosts: Number(row?.deployment_hosts),
    overcommitted_hosts: Number(hostRow?.overcommitted),
    allocated_mismatch_hosts: Number(hostRow?.mismatched),
  };
}

interface PassResult {
  centrals: number;
  hosts: number;
  clients: number;
  join_s: number;
  settle_s: number;
  join_retries: number;
  warmup: Pick<RunsResult, "ok" | "errors" | "seconds" | "placements_per_s">;
  runs: RunsResult &
    Awaited<ReturnType<CostWindow["end"]>> & {
      placements_per_central_cpu_s: number;
      desired_delivered_s: number | null;
    };
  deployment:
    | ({
        replicas: number;
        replicas_requested: number;
        place_s: number;
        hosts_used: number;
        desired_delivered_s: number | null;
        error: string | null;
      } & Awaited<ReturnType<CostWindow["end"]>>)
    | null;
  checks: Checks & { invalid_frames: number; hosts_online_at_end: number };
  /** Failed calls and failed checks: anything above 0 fails the bench. */
  errors: number;
}

async function runPass(postgres: BenchPostgres, centralCount: number): Promise<PassResult> {
  const label = centralCount === 1 ? "one replica" : "two replicas";
  const database = `fleet_bench_placement_${centralCount}`;
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const url = databaseUrl(postgres.url, database);
  await migrate({ databaseUrl: url });
  const db = createPrismaClient(url);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const centrals: CentralProcess[] = [];
  const workers: AgentWorker[] = [];
  try {
    // Before the centrals start, so none of them creates a first administrator of its own.
    const { token, userId } = await createTestUserWithToken({ db, role: "admin" });
    for (let i = 0; i < centralCount; i++)
      centrals.push(
        await startCentralProcess({ databaseUrl: url, replicaId: `bench-${i + 1}` }, config.cpuProfileDir),
      );
    log(`${label}: centrals on ${centrals.map((central) => central.url).join(", ")}`);

    const agents = Array.from({ length: config.hosts }, (_, i) => ({
      joinToken: generateToken("join"),
      name: `bench-${String(i).padStart(4, "0")}`,
      url: (centrals[i % centralCount] as CentralProcess).url,
    }));
    await db.joinToken.createMany({
      data: agents.map((agent) => ({
        tokenHash: hashToken(agent.joinToken),
        createdById: userId,
        expiresAt: new Date(Date.now() + 60 * 60_000),
      })),
    });
    const joinStartedAt = performance.now();
    for (let w = 0; w < AGENT_WORKERS; w++) {
      workers.push(
        startAgentWorker({
          agents: agents.filter((_, i) => i % AGENT_WORKERS === w),
          joinConcurrency: JOIN_CONCURRENCY_PER_WORKER,
          cpus: HOST_CPUS,
          memoryBytes: HOST_MEMORY_BYTES,
          heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        }),
      );
    }
    const joinedReports = await Promise.all(workers.map((worker) => worker.next("joined")));
    const joinSeconds = (performance.now() - joinStartedAt) / 1000;
    const joinRetries = joinedReports.reduce((sum, report) => sum + report.retries, 0);
    const online = await countOnline(sql);
    log(
      `${label}: ${config.hosts} hosts joined in ${joinSeconds.toFixed(1)} s (${joinRetries} hellos sent again), ${online} online`,
    );
    if (online !== config.hosts) throw new Error(`only ${online} of ${config.hosts} hosts are online`);
    const settleSeconds = await waitForSettledCentrals(centrals);
    log(`${label}: centrals settled after ${settleSeconds} s (after-connect work done)`);

    const clients = centrals.map((central) => apiClient(central.url, token));
    // The warm-up goes through the typed client, so the figures below are of the API it calls.
    const runInput = { image: RUN_IMAGE, ...CONTAINER, strategy: config.strategy };
    const warmup =
      config.warmup > 0
        ? await runContainers(
            clients.map((client) => () => client.container.run.mutate(runInput)),
            config.warmup,
            `${label} warm-up`,
            WARMUP_MAX_S,
          )
        : { ok: 0, errors: 0, seconds: 0, placements_per_s: 0 };

    const callers = centrals.map((central) =>
      httpMutationCaller({
        url: central.url,
        token,
        procedure: "container.run",
        input: runInput,
        sockets: Math.ceil(config.clients / centrals.length),
      }),
    );
    const runsCost = await costWindow(centrals, postgres, sql);
    const runs = await runContainers(callers, config.runs, `${label} runs`, config.maxRunSeconds);
    const runsCosts = await runsCost.end();
    const runsDelivered = await waitForDelivery(workers, warmup.ok + runs.ok);
    log(`${label}: runs cost ${JSON.stringify(runsCosts)}; desired sets delivered after ${runsDelivered} s`);

    let deployment: PassResult["deployment"] = null;
    let deploymentId: string | null = null;
    if (config.deploymentReplicas > 0) {
      const replicas = Math.min(config.deploymentReplicas, MAX_REPLICAS);
      if (replicas < config.deploymentReplicas)
        log(
          `${label}: a deployment holds at most ${MAX_REPLICAS} replicas (MAX_REPLICAS): placing ${replicas}`,
        );
      const cost = await costWindow(centrals, postgres, sql);
      const startedAt = performance.now();
      let error: string | null = null;
      try {
        const created = await (clients[0] as Client).deployment.create.mutate({
          name: "bench-deployment",
          replicas,
          image: DEPLOYMENT_IMAGE,
          ...CONTAINER,
          strategy: config.strategy,
        });
        deploymentId = created.deployment.id;
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      const placeSeconds = (performance.now() - startedAt) / 1000;
      const costs = await cost.end();
      const delivered = error ? null : await waitForDelivery(workers, warmup.ok + runs.ok + replicas);
      const hostsUsed = (await readChecks(sql, deploymentId)).deployment_hosts;
      deployment = {
        replicas,
        replicas_requested: config.deploymentReplicas,
        place_s: round(placeSeconds, 3),
        hosts_used: hostsUsed,
        desired_delivered_s: delivered,
        error,
        ...costs,
      };
      log(
        `${label}: deployment of ${replicas} replicas ${error ? `failed: ${error}` : "placed"} in ${placeSeconds.toFixed(2)} s ` +
          `on ${hostsUsed} hosts; ${JSON.stringify(costs)}; desired sets delivered after ${delivered} s`,
      );
    }

    const checks = await readChecks(sql, deploymentId);
    const desired = await Promise.all(
      workers.map((worker) => {
        worker.command({ kind: "desired" });
        return worker.next("desired");
      }),
    );
    const invalidFrames = desired.reduce((sum, report) => sum + report.invalidFrames, 0);
    const onlineAtEnd = await countOnline(sql);
    const problems: string[] = [];
    if (onlineAtEnd !== config.hosts) problems.push(`${config.hosts - onlineAtEnd} hosts went offline`);
    if (checks.run_rows !== warmup.ok + runs.ok)
      problems.push(`${checks.run_rows} run rows for ${warmup.ok + runs.ok} successful runs`);
    if (deployment && !deployment.error && checks.deployment_rows !== deployment.replicas)
      problems.push(`${checks.deployment_rows} deployment rows for ${deployment.replicas} replicas`);
    if (checks.overcommitted_hosts > 0) problems.push(`${checks.overcommitted_hosts} hosts over-committed`);
    if (checks.allocated_mismatch_hosts > 0)
      problems.push(
        `${checks.allocated_mismatch_hosts} hosts whose allocated sums differ from their containers'`,
      );
    if (invalidFrames > 0) problems.push(`${invalidFrames} frames the agents could not parse`);
    if (runsDelivered === null) problems.push("the runs' desired sets did not all reach the hosts");
    if (deployment && !deployment.error && deployment.desired_delivered_s === null)
      problems.push("the deployment's desired sets did not all reach the hosts");
    for (const problem of problems) log(`${label}: CHECK FAILED: ${problem}`);
    log(`${label}: checks ${JSON.stringify(checks)}`);
    return {
      centrals: centralCount,
      hosts: config.hosts,
      clients: config.clients,
      join_s: round(joinSeconds),
      settle_s: settleSeconds,
      join_retries: joinRetries,
      warmup: {
        ok: warmup.ok,
        errors: warmup.errors,
        seconds: warmup.seconds,
        placements_per_s: warmup.placements_per_s,
      },
      runs: {
        ...runs,
        ...runsCosts,
        // What the central's code costs, whatever else shares the machine's cores.
        placements_per_central_cpu_s: round(runs.ok / runsCosts.central_cpu_s, 1),
        desired_delivered_s: runsDelivered,
      },
      deployment,
      checks: { ...checks, invalid_frames: invalidFrames, hosts_online_at_end: onlineAtEnd },
      errors: warmup.errors + runs.errors + (deployment?.error ? 1 : 0) + problems.length,
    };
  } finally {
    await Promise.allSettled(workers.map((worker) => worker.close()));
    await Promise.allSettled(centrals.map((central) => central.close()));
    await sql.end().catch(() => undefined);
    await db.$disconnect();
  }
}

function headline(pass: PassResult) {
  return {
    placements_per_s: pass.runs.placements_per_s,
    deployment_replicas: pass.deployment?.replicas ?? 0,
    deployment_place_s: pass.deployment?.place_s ?? null,
    run_p50_ms: pass.runs.p50_ms,
    run_p99_ms: pass.runs.p99_ms,
  };
}

function commit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: "pipe" }).trim();
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  log(
    `${config.hosts} hosts, ${config.clients} callers, ${config.warmup} warm-up + ${config.runs} runs ` +
      `(at most ${config.maxRunSeconds} s each), a deployment of ${config.deploymentReplicas}, ${config.strategy}; ` +
      `passes with ${config.passes.join(" and ")} central replica(s)`,
  );
  let postgres: BenchPostgres | undefined;
  const passes = new Map<number, PassResult>();
  try {
    postgres = startBenchPostgres(findPostgresBinDir(), await findFreePort());
    // WAL segments to recycle, as on a server that has been running; then durable, as production runs.
    await postgres.setDurable(false);
    await postgres.prewarmWal(WAL_PREWARM_MB);
    const settings = await postgres.setDurable(true);
    log(`Postgres on ${postgres.url}: ${JSON.stringify(settings)}`);
    for (const count of config.passes) passes.set(count, await runPass(postgres, count));
  } finally {
    postgres?.stop();
  }
  const first = passes.get(1) ?? (passes.get(2) as PassResult);
  const second = passes.get(2);
  const errors = [...passes.values()].reduce((sum, pass) => sum + pass.errors, 0);
  const goalsMet = (pass: PassResult) => ({
    placements_per_s: pass.runs.placements_per_s >= GOALS.placements_per_s,
    deployment:
      (pass.deployment?.replicas ?? 0) >= GOALS.deployment_replicas &&
      !pass.deployment?.error &&
      (pass.deployment?.place_s ?? Number.POSITIVE_INFINITY) < GOALS.deployment_place_s,
  });
  process.stdout.write(
    `${JSON.stringify({
      bench: "placement",
      hosts: config.hosts,
      clients: config.clients,
      ...headline(first),
      centrals: first.centrals,
      strategy: config.strategy,
      errors,
      goals: GOALS,
      meets_goals: goalsMet(first),
      runs: first.runs,
      deployment: first.deployment,
      join_s: first.join_s,
      settle_s: first.settle_s,
      join_retries: first.join_retries,
      warmup: first.warmup,
      checks: first.checks,
      ...(second && second !== first
        ? { two_replicas: { ...headline(second), ...second, meets_goals: goalsMet(second) } }
        : {}),
      commit: commit(),
      wall_s: round((performance.now() - startedAt) / 1000, 1),
    })}\n`,
  );
  if (errors > 0) {
    log(`${errors} errors: the figures above are not clean`);
    process.exitCode = 1;
  }
}

// Interrupted: leave through process.exit, so the bench server's "exit" hook stops Postgres
// (the centrals follow when their IPC channel closes; the hosts' threads end with us).
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
