/**
 * agent-footprint benchmark: what the built agent executable (dist/fleet-agent-linux-x64)
 * costs a host running 100 containers with metrics every 5 s: the time from starting the
 * process until it is connected to the central, its RSS, and its CPU over a minute as a
 * share of one core. In the same run the same agent from source through tsx (node +
 * tsx's esbuild service), the way it ran before it was built, as the baseline.
 *
 * On a private dockerd, a throwaway Postgres and the real central in this process: the
 * executable joins with a join token, 100 containers are run through the API and reach
 * `running`, and it stops (containers keep running). Then each kind in turn starts on
 * the same state dir (so it is the same host and adopts the same 100 containers), is
 * timed to "connected to the central" from its own log, settles for a few intervals, and
 * is measured over the window: RSS of its process tree sampled every second (peak and
 * mean, and the mean of its parts: anonymous memory, and mapped files such as node's own
 * code, which are clean page cache), CPU from /proc at both ends. Also the median start-to-exit of `--version` for
 * each, the bare cost of starting the process.
 *
 * Goals (from the issue; checked here, not in tests): start ≤ 1 s, RSS ≤ 80 MB,
 * CPU ≤ 1 % of a core. Progress on stderr, one JSON object as the last line of stdout.
 *
 * Environment (all optional): BENCH_AGENT_FOOTPRINT_CONTAINERS (100), _WINDOW_S (60),
 * _SETTLE_S (15), _BASELINE (1; 0 skips the tsx agent), _NODE_OPTIONS (NODE_OPTIONS for
 * both agents in the measured runs, e.g. `--max-semi-space-size=2`).
 *
 * May import: node built-ins, the test harness (engines, Postgres, image, built
 * executables), the web app's server, db and test clients. Owns nothing outside this folder.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureAgentBinary } from "@fleet/test/harness/built-binaries";
import { TEST_IMAGE_TAG } from "@fleet/test/harness/test-image";
import { positiveInt } from "../common/env-knobs";
import {
  type AgentProcess,
  spawnAgent,
  type TAgentKind,
  type TTreeUsage,
  treeUsage,
  versionStartMs,
} from "./agent-process";
import { type FootprintStack, INTERVAL, startFootprintStack } from "./stack";

const HOST_NAME = "bench-footprint";
const MB = 1024 * 1024;
const GOALS = { start_to_connected_ms: 1000, rss_mb: 80, cpu_pct_of_core: 1 };
const SOURCE_BIN = fileURLToPath(new URL("../../apps/agent/bin/fleet-agent.js", import.meta.url));

const config = {
  containers: positiveInt("BENCH_AGENT_FOOTPRINT_CONTAINERS", 100),
  windowS: positiveInt("BENCH_AGENT_FOOTPRINT_WINDOW_S", 60),
  settleS: positiveInt("BENCH_AGENT_FOOTPRINT_SETTLE_S", 15),
  baseline: process.env.BENCH_AGENT_FOOTPRINT_BASELINE !== "0",
  nodeOptions: process.env.BENCH_AGENT_FOOTPRINT_NODE_OPTIONS || undefined,
};

function log(message: string): void {
  process.stderr.write(`[agent-footprint] ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TFootprint {
  start_to_connected_ms: number;
  rss_mb: number;
  rss_mean_mb: number;
  /** Means of RSS's parts: written memory (heap, arenas) and mapped files (node's code, the bundle). */
  rss_anon_mean_mb: number;
  rss_file_mean_mb: number;
  cpu_pct_of_core: number;
  processes: number;
  version_start_ms: number;
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const executable = await ensureAgentBinary();
  log(
    `${config.containers} containers, metrics every ${INTERVAL}; window ${config.windowS} s after ` +
      `${config.settleS} s to settle; goals: start ≤ ${GOALS.start_to_connected_ms} ms, ` +
      `RSS ≤ ${GOALS.rss_mb} MB, CPU ≤ ${GOALS.cpu_pct_of_core} % of a core`,
  );
  const stack = await startFootprintStack(log);
  const stateDir = join(stack.workDir, "agent-state");
  const launch = (kind: TAgentKind, extra: string[] = [], nodeOptions?: string): AgentProcess =>
    spawnAgent({
      kind,
      command: kind === "executable" ? executable : process.execPath,
      prefixArgs: kind === "executable" ? [] : [SOURCE_BIN],
      args: [
        ...["--server", stack.centralUrl, "--engine", stack.engine.dockerHost],
        ...["--cgroup-parent", stack.engine.cgroupParent, "--state-dir", stateDir, "--name", HOST_NAME],
        ...extra,
      ],
      cwd: stack.workDir,
      ...(nodeOptions ? { nodeOptions } : {}),
    });
  let agent: AgentProcess | null = null;
  try {
    const { token } = await stack.client.joinToken.create.mutate({ ttl: "10m" });
    agent = launch("executable", ["--join-token", token]);
    await agent.connected;
    const hostId = await waitForHost(stack, "online");
    log(`the executable joined as host ${hostId}; running ${config.containers} containers`);
    await runContainers(stack, hostId);
    await agent.stop();
    agent = null;

    const figures: Partial<Record<TAgentKind, TFootprint>> = {};
    const kinds: TAgentKind[] = config.baseline ? ["executable", "tsx"] : ["executable"];
    for (const kind of kinds) {
      agent = launch(kind, [], config.nodeOptions);
      figures[kind] = await measure(stack, hostId, agent);
      await agent.stop();
      agent = null;
    }

    const exe = figures.executable!;
    const line = {
      bench: "agent-footprint",
      containers: config.containers,
      start_to_connected_ms: exe.start_to_connected_ms,
      rss_mb: exe.rss_mb,
      cpu_pct_of_core: exe.cpu_pct_of_core,
      goals: GOALS,
      meets_goals: {
        start_to_connected_ms: exe.start_to_connected_ms <= GOALS.start_to_connected_ms,
        rss_mb: exe.rss_mb <= GOALS.rss_mb,
        cpu_pct_of_core: exe.cpu_pct_of_core <= GOALS.cpu_pct_of_core,
      },
      executable: exe,
      ...(figures.tsx ? { tsx_baseline: figures.tsx } : {}),
      metrics_interval: INTERVAL,
      window_s: config.windowS,
      settle_s: config.settleS,
      ...(config.nodeOptions ? { node_options: config.nodeOptions } : {}),
      engine: "docker",
      wall_s: round1((performance.now() - startedAt) / 1000),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch (error) {
    if (agent) log(`agent output (tail):\n${agent.outputTail()}`);
    throw error;
  } finally {
    await agent?.stop();
    log("stopping the central, Postgres and the engine");
    await stack.close();
  }
}

async function measure(stack: FootprintStack, hostId: string, agent: AgentProcess): Promise<TFootprint> {
  const startMs = await agent.connected;
  log(`${agent.kind}: connected ${startMs} ms after start; settling ${config.settleS} s`);
  await sleep(config.settleS * 1000);
  const pid = agent.child.pid!;
  const before = treeUsage(pid);
  const windowStarted = performance.now();
  const samples: TTreeUsage[] = [];
  while (performance.now() - windowStarted < config.windowS * 1000) {
    await sleep(1000);
    samples.push(treeUsage(pid));
  }
  const meanMb = (pick: (usage: TTreeUsage) => number) =>
    round1(samples.reduce((sum, usage) => sum + pick(usage), 0) / samples.length / MB);
  const after = treeUsage(pid);
  const windowMs = performance.now() - windowStarted;
  if (agent.child.exitCode !== null) throw new Error(`the ${agent.kind} agent exited during the window`);
  // The host must still be online with every container running, or the figures are of a broken agent.
  await waitForHost(stack, "online");
  const running = await countRunning(stack, hostId);
  if (running !== config.containers) {
    throw new Error(`${running} of ${config.containers} containers running after the ${agent.kind} window`);
  }
  const figures: TFootprint = {
    start_to_connected_ms: startMs,
    rss_mb: round1(Math.max(...samples.map((usage) => usage.rssBytes)) / MB),
    rss_mean_mb: meanMb((usage) => usage.rssBytes),
    rss_anon_mean_mb: meanMb((usage) => usage.rssAnonBytes),
    rss_file_mean_mb: meanMb((usage) => usage.rssFileBytes),
    cpu_pct_of_core: round2(((after.cpuMs - before.cpuMs) / windowMs) * 100),
    processes: after.processes,
    version_start_ms: round1(
      agent.kind === "executable"
        ? versionStartMs(agent.child.spawnfile, [], 5)
        : versionStartMs(process.execPath, [SOURCE_BIN], 5),
    ),
  };
  log(
    `${agent.kind}: start→connected ${figures.start_to_connected_ms} ms (goal ≤ ${GOALS.start_to_connected_ms}), ` +
      `RSS peak ${figures.rss_mb} MB mean ${figures.rss_mean_mb} MB (goal ≤ ${GOALS.rss_mb}; ` +
      `anon ${figures.rss_anon_mean_mb} MB, files ${figures.rss_file_mean_mb} MB), ` +
      `CPU ${figures.cpu_pct_of_core} % of a core (goal ≤ ${GOALS.cpu_pct_of_core}), ` +
      `${figures.processes} process(es), --version ${figures.version_start_ms} ms`,
  );
  return figures;
}

async function runContainers(stack: FootprintStack, hostId: string): Promise<void> {
  const indexes = Array.from({ length: config.containers }, (_, i) => i);
  // A few at a time: the point is 100 running containers, not how fast they start.
  for (let first = 0; first < indexes.length; first += 10) {
    await Promise.all(
      indexes.slice(first, first + 10).map(async (i) => {
        const { placement } = await stack.client.container.run.mutate({
          name: `footprint-${i}`,
          image: TEST_IMAGE_TAG,
          // A shell that leaves on SIGTERM, so the engine's cleanup does not wait out stop timeouts.
          command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
          memory: "16m",
          cpus: "0.5",
          cpuRequest: "5m",
          pids: 32,
        });
        if (placement.hostId !== hostId) throw new Error(`placed on ${placement.hostId}, not ${hostId}`);
      }),
    );
  }
  const deadline = Date.now() + 180_000;
  for (;;) {
    const running = await countRunning(stack, hostId);
    log(`${running}/${config.containers} running`);
    if (running === config.containers) return;
    if (Date.now() > deadline) throw new Error(`only ${running} containers running after 180 s`);
    await sleep(2000);
  }
}

async function countRunning(stack: FootprintStack, hostId: string): Promise<number> {
  const { items } = await stack.client.container.list.query({ hostId, state: "running", limit: 200 });
  return items.length;
}

async function waitForHost(stack: FootprintStack, status: "online"): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const host = (await stack.client.host.list.query({})).items.find((h) => h.name === HOST_NAME);
    if (host?.status === status) return host.id;
    if (Date.now() > deadline) throw new Error(`host ${HOST_NAME} not ${status} within 60 s`);
    await sleep(250);
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
