/**
 * start-latency benchmark: request (`container.run`) → running reported by the API, for
 * 50 containers started one at a time through the whole fleet (the real central on a
 * throwaway Postgres, the real `fleet-agent` process, a private engine), against bare
 * engine create + start of the same container on the same engine, measured in the same
 * run. The image is built into the engine first and a few unmeasured starts of each kind
 * warm everything up, so no pull and no first-call cost is in the figures.
 *
 * Fleet and engine starts alternate (F E, E F, F E, …) so load drift on this shared
 * machine hits both; a short pause between starts lets the agent's trailing work (ack,
 * state file, wait call) settle. Every `batch` starts, both kinds of containers are
 * removed (the fleet's through the API) before the next batch, so at most `batch` of
 * each run at once.
 *
 * Besides the totals it splits each start at the engine's own `create`/`start` events and
 * the fleet's timestamps (request stored, agent's `container.start`, `running` stored,
 * seen by the client), to show where the fleet's extra time goes.
 *
 * Progress on stderr, one JSON object as the last line of stdout.
 *
 * Flags: `--engine docker|podman` (default docker). Environment (all optional):
 * BENCH_START_LATENCY_ENGINE, _CONTAINERS (50), _WARMUP (3), _BATCH (10), _GAP_MS (100).
 *
 * May import: node built-ins, the test harness (Postgres, engines, image), the web app's
 * server, db, migrator, env and test clients, the agent's create options. Owns nothing
 * outside this folder.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { ENGINE_KINDS, type TEngineKind } from "@fleet/test/harness/engines";
import { positiveInt } from "../common/env-knobs";
import { sleep } from "./clock";
import { EngineEventLog } from "./engine-events";
import { checkSameContainer, removeFromEngine, startOnEngine, type TEngineSample } from "./engine-start";
import { FleetEventWatch } from "./fleet-events";
import { AGENT_INTERVAL, type FleetStack, startFleetStack } from "./fleet-stack";
import { removeThroughFleet, startThroughFleet, type TFleetSample } from "./fleet-start";
import { medians, round1, summary } from "./stats";
import { RUN_INPUT } from "./workload";

const config = {
  engine: engineKind(),
  containers: positiveInt("BENCH_START_LATENCY_CONTAINERS", 50),
  warmup: positiveInt("BENCH_START_LATENCY_WARMUP", 3),
  batch: positiveInt("BENCH_START_LATENCY_BATCH", 10),
  gapMs: positiveInt("BENCH_START_LATENCY_GAP_MS", 100),
};

function log(message: string): void {
  process.stderr.write(`[start-latency] ${message}\n`);
}

interface TPair {
  fleet: TFleetSample;
  engine: TEngineSample;
}

/** Starts `count` of each kind, alternating which goes first, then removes them all. */
async function runBatch(
  stack: FleetStack,
  watch: FleetEventWatch,
  phase: "warm-up" | "measured",
  first: number,
  count: number,
  total: number,
): Promise<TPair[]> {
  const pairs: TPair[] = [];
  try {
    for (let i = first; i < first + count; i++) {
      const index = `${phase === "warm-up" ? "w" : "m"}${i}`;
      let fleet: TFleetSample | undefined;
      let engine: TEngineSample | undefined;
      const order = i % 2 === 0 ? (["fleet", "engine"] as const) : (["engine", "fleet"] as const);
      for (const kind of order) {
        if (kind === "fleet") fleet = await startThroughFleet(stack, watch, index);
        else engine = await startOnEngine(stack.engine, index);
        await sleep(config.gapMs);
      }
      pairs.push({ fleet: fleet!, engine: engine! });
      log(
        `${phase} ${i + 1}/${total}: fleet ${fleet!.totalMs.toFixed(1)} ms ` +
          `(server ${fleet!.serverStartLatencyMs} ms), engine ${engine!.totalMs.toFixed(1)} ms`,
      );
    }
  } finally {
    // Also after a failure, so the next attempt (or the engine's stop) finds nothing of ours running.
    await removeThroughFleet(
      stack,
      watch,
      pairs.map((p) => p.fleet.containerId),
    ).catch((error: unknown) => log(`removing fleet containers failed: ${String(error)}`));
    await removeFromEngine(
      stack.engine,
      pairs.map((p) => p.engine.engineId),
    ).catch((error: unknown) => log(`removing engine containers failed: ${String(error)}`));
  }
  return pairs;
}

/** Where a fleet start's time goes, by the engine's events and the fleet's own timestamps (ms). */
function fleetPhases(sample: TFleetSample, events: EngineEventLog): Record<string, number | null> {
  const { create, start } = events.of(sample.engineId);
  const between = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? null : to - from;
  return {
    // The whole `container.run` call: placement transaction and the desired-state push.
    run_call: sample.runReturnedAt - sample.sentAt,
    // Until the procedure began (HTTP, tRPC, auth): `requestedAt` is stamped there.
    request_to_procedure: sample.requestedAt - sample.sentAt,
    request_to_engine_created: between(sample.sentAt, create),
    engine_created_to_started: between(create, start),
    engine_started_to_running_seen: between(start, sample.runningSeenAt),
    // The three parts of the one above: the agent's inspect after start; the central
    // working through the frames queued before the `running` status (it stamps the time
    // as it takes that frame up); the client hearing of it (SSE, then one `container.get`).
    engine_started_to_agent_event: between(start, sample.agentStartTs),
    agent_event_to_running_status_taken: sample.runningReportedAt - sample.agentStartTs,
    running_status_taken_to_seen: sample.runningSeenAt - sample.runningReportedAt,
    start_event_sse_delivery: sample.startEventArrivedAt - sample.agentStartTs,
    // The `container.get` calls made once the event arrived, until one said `running`.
    start_event_to_running_seen: sample.runningSeenAt - sample.startEventArrivedAt,
  };
}

function enginePhases(sample: TEngineSample, events: EngineEventLog): Record<string, number | null> {
  const { create, start } = events.of(sample.engineId);
  const between = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? null : to - from;
  return {
    create_call: sample.createReturnedAt - sample.sentAt,
    start_call: sample.startReturnedAt - sample.createReturnedAt,
    request_to_engine_created: between(sample.sentAt, create),
    engine_created_to_started: between(create, start),
    engine_started_to_running_seen: between(start, sample.startReturnedAt),
  };
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  log(
    `${config.containers} starts each through the fleet and on bare ${config.engine}, ` +
      `${config.warmup} warm-up starts each, batches of ${config.batch}`,
  );
  const stack = await startFleetStack(config.engine, log);
  let events: EngineEventLog | undefined;
  let watch: FleetEventWatch | undefined;
  try {
    events = await EngineEventLog.start(stack.engine.docker);
    watch = await FleetEventWatch.start(stack.client);

    log(`warming up: ${config.warmup} starts of each kind`);
    // Their figures are not kept: first calls pay for JIT, connection pools and caches.
    await runBatch(stack, watch, "warm-up", 0, config.warmup, config.warmup);
    await checkFirstPair(stack, watch, events);

    const loadBefore = loadavg();
    const agentCpuBefore = processCpuMs(stack.agentPid);
    const measureStartedAt = performance.now();
    const pairs: TPair[] = [];
    for (let first = 0; first < config.containers; first += config.batch) {
      const count = Math.min(config.batch, config.containers - first);
      pairs.push(...(await runBatch(stack, watch, "measured", first, count, config.containers)));
    }
    const measureSeconds = (performance.now() - measureStartedAt) / 1000;
    const agentCpuMs = processCpuMs(stack.agentPid) - agentCpuBefore;
    const loadAfter = loadavg();

    // The tail is where load and fixed delays show: say where its time went.
    for (const pair of [...pairs].sort((a, b) => b.fleet.totalMs - a.fleet.totalMs).slice(0, 3)) {
      const phases = Object.entries(fleetPhases(pair.fleet, events))
        .map(([key, ms]) => `${key} ${ms === null ? "?" : ms.toFixed(1)}`)
        .join(", ");
      log(`slow fleet start ${pair.fleet.totalMs.toFixed(1)} ms: ${phases}`);
    }
    const fleet = summary(pairs.map((p) => p.fleet.totalMs));
    const engine = summary(pairs.map((p) => p.engine.totalMs));
    const server = summary(pairs.map((p) => p.fleet.serverStartLatencyMs));
    const line = {
      bench: "start-latency",
      containers: pairs.length,
      fleet_p50_ms: fleet.p50,
      fleet_p99_ms: fleet.p99,
      engine_p50_ms: engine.p50,
      engine_p99_ms: engine.p99,
      ratio_p50: round2(fleet.p50 / engine.p50),
      ratio_p99: round2(fleet.p99 / engine.p99),
      engine: config.engine,
      fleet_ms: fleet,
      engine_ms: engine,
      server_start_latency_ms: server,
      fleet_phases_p50_ms: medians(pairs.map((p) => fleetPhases(p.fleet, events!))),
      engine_phases_p50_ms: medians(pairs.map((p) => enginePhases(p.engine, events!))),
      confirm_calls_mean: round2(pairs.reduce((sum, p) => sum + p.fleet.confirmCalls, 0) / pairs.length),
      running_observed_by: "event.stream SSE (container.start) then container.get until running",
      order: "alternating F E / E F per container",
      batch: config.batch,
      warmup: config.warmup,
      gap_ms: config.gapMs,
      agent_interval: AGENT_INTERVAL,
      limits: { memory: RUN_INPUT.memory, cpus: RUN_INPUT.cpus, pids: RUN_INPUT.pids },
      agent_cpu_ms_per_container: round1(agentCpuMs / pairs.length),
      load_avg_1m: { before: round2(loadBefore[0] ?? 0), after: round2(loadAfter[0] ?? 0) },
      cpus: availableParallelism(),
      measure_s: round1(measureSeconds),
      wall_s: round1((performance.now() - startedAt) / 1000),
    };
    log(
      `fleet p50 ${fleet.p50} ms p99 ${fleet.p99} ms; ${config.engine} p50 ${engine.p50} ms p99 ${engine.p99} ms; ` +
        `ratio p50 ${line.ratio_p50}, p99 ${line.ratio_p99}`,
    );
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch (error) {
    log(`agent output (tail):\n${stack.agentOutputTail()}`);
    throw error;
  } finally {
    watch?.close();
    events?.close();
    log("stopping the agent, the central, Postgres and the engine");
    await stack.close();
  }
}

/**
 * One more pair, kept until both are inspected: the fleet's container and the baseline's
 * must look the same to the engine (image, command, limits, cgroup parent, log config).
 */
async function checkFirstPair(stack: FleetStack, watch: FleetEventWatch, events: EngineEventLog) {
  const fleet = await startThroughFleet(stack, watch, "check");
  const engine = await startOnEngine(stack.engine, "check");
  try {
    await checkSameContainer(stack.engine, fleet.engineId, engine.engineId);
    const times = events.of(fleet.engineId);
    log(
      `the fleet and the baseline create the same container; engine events ` +
        (times.create !== undefined && times.start !== undefined
          ? "carry timestamps"
          : "carry no timestamps (no phase split)"),
    );
  } finally {
    await removeThroughFleet(stack, watch, [fleet.containerId]);
    await removeFromEngine(stack.engine, [engine.engineId]);
  }
}

let clockTicksPerSecond: number | null = null;

/** User + system CPU of a process so far, from /proc (0 if it is gone). */
function processCpuMs(pid: number): number {
  clockTicksPerSecond ??=
    Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return 0;
  }
}

function engineKind(): TEngineKind {
  const { values } = parseArgs({ options: { engine: { type: "string" } }, strict: true });
  const kind = values.engine ?? process.env.BENCH_START_LATENCY_ENGINE ?? "docker";
  if (!(ENGINE_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`--engine: unknown engine ${kind} (use ${ENGINE_KINDS.join(" or ")})`);
  }
  return kind as TEngineKind;
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
