/**
 * agent-metrics benchmark: one metrics sweep over 100 running containers, reading their
 * cgroup files with the agent's own `ContainerSampler` vs asking the engine's stats API,
 * interleaved in the same run so both share the machine's noise. For each engine (a
 * private dockerd, then a private Podman service) it starts the containers, times the
 * sweeps, checks that both readers agree per container, and removes everything.
 *
 * Progress on stderr, one JSON object as the last line of stdout.
 *
 * Environment (all optional): BENCH_AGENT_METRICS_ENGINES (`docker,podman`),
 * BENCH_AGENT_METRICS_CONTAINERS (100), BENCH_AGENT_METRICS_SWEEPS (20).
 *
 * May import: node built-ins, the agent's metrics code, the test harness's engines and
 * image, dockerode types. Owns nothing outside this folder.
 */
import { ContainerSampler } from "@fleet/agent/metrics/container-sampler";
import { ENGINE_KINDS, startEngine, type TEngineKind } from "@fleet/test/harness/engines";
import { buildTestImage } from "@fleet/test/harness/test-image";
import { positiveInt } from "../common/env-knobs";
import { checkAgreement } from "./agreement";
import { startSleepingContainers, type TSleepingContainer } from "./sleeping-containers";
import {
  EngineCpuMeter,
  emptyMeasurement,
  makeSweeps,
  measure,
  percentile,
  SWEEP_KINDS,
  type TMeasurement,
  type TSweepKind,
} from "./sweeps";

const WARM_UP_ROUNDS = 2;
/** The sequential sweep runs in every this-many rounds: it is the slow one. */
const SEQUENTIAL_EVERY = 5;
/**
 * dockerd answers a stats call at its collector's next 1 s tick, so asking 100 containers
 * one after another takes minutes; such a sweep is skipped and the single-call latency
 * reported instead.
 */
const SEQUENTIAL_SWEEP_BUDGET_MS = 20_000;
const SINGLE_CALL_PROBES = 5;
const READY_TIMEOUT_MS = 30_000;

const config = {
  engines: parseEngines(process.env.BENCH_AGENT_METRICS_ENGINES ?? ENGINE_KINDS.join(",")),
  containers: positiveInt("BENCH_AGENT_METRICS_CONTAINERS", 100),
  sweeps: positiveInt("BENCH_AGENT_METRICS_SWEEPS", 20),
};

function log(message: string): void {
  process.stderr.write(`[agent-metrics] ${message}\n`);
}

type TEngineResult = Record<string, unknown> & {
  cgroupfs_ms_per_sweep: number;
  engine_stats_ms_per_sweep: number;
};

async function benchEngine(kind: TEngineKind): Promise<TEngineResult> {
  const startedAt = performance.now();
  log(`${kind}: starting the engine`);
  const engine = await startEngine(kind, { name: "bench-metrics" });
  try {
    log(`${kind}: up in ${engine.startupMs} ms; building the test image`);
    await buildTestImage(engine);
    const sampler = new ContainerSampler();
    const containersStartedAt = performance.now();
    const containers = await startSleepingContainers(engine, config.containers, (m) => log(`${kind}: ${m}`));
    const containersStartS = (performance.now() - containersStartedAt) / 1000;
    await waitUntilFilled(containers, sampler);

    const engineCpu = new EngineCpuMeter(engine);
    const sweeps = makeSweeps(containers, sampler);
    const measurements = Object.fromEntries(SWEEP_KINDS.map((k) => [k, emptyMeasurement()])) as Record<
      TSweepKind,
      TMeasurement
    >;
    const concurrentKinds = SWEEP_KINDS.filter((k) => k !== "engine_stats_sequential_one_shot");

    log(`${kind}: warming up (${WARM_UP_ROUNDS} rounds)`);
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      for (const sweepKind of concurrentKinds)
        await measure(sweeps[sweepKind], engineCpu, emptyMeasurement());
    }
    const singleCallMs = await probeSingleCallMs(containers);
    const sequentialEstimateMs = singleCallMs * containers.length;
    const runSequential = sequentialEstimateMs <= SEQUENTIAL_SWEEP_BUDGET_MS;
    log(
      `${kind}: one stats call alone takes ${singleCallMs.toFixed(1)} ms: ` +
        (runSequential ? "timing sequential sweeps too" : "skipping sequential sweeps (minutes each)"),
    );

    log(`${kind}: ${config.sweeps} timed rounds over ${containers.length} containers`);
    for (let round = 0; round < config.sweeps; round++) {
      // Rotating the order keeps any one reader from always following the slow one.
      const order: TSweepKind[] = [
        ...concurrentKinds.slice(round % 3),
        ...concurrentKinds.slice(0, round % 3),
      ];
      if (runSequential && round % SEQUENTIAL_EVERY === SEQUENTIAL_EVERY - 1)
        order.push("engine_stats_sequential_one_shot");
      const times: string[] = [];
      for (const sweepKind of order) {
        const ms = await measure(sweeps[sweepKind], engineCpu, measurements[sweepKind]);
        times.push(`${sweepKind} ${ms.toFixed(1)}`);
      }
      log(`${kind}: round ${round + 1}/${config.sweeps}: ${times.join(", ")} ms`);
    }

    const agreement = await checkAgreement(containers, sampler);
    log(
      `${kind}: agreement over ${agreement.containers} containers: max memory diff ${agreement.memoryMaxDiffBytes} B, ` +
        `CPU bracketed ${agreement.cpuBracketed}, pids compared ${agreement.pidsCompared}, problems ${agreement.problems.length}`,
    );
    if (agreement.problems.length > 0) {
      throw new Error(`cgroupfs and the ${kind} stats API disagree:\n${agreement.problems.join("\n")}`);
    }

    const summary = (m: TMeasurement) => ({
      median: round2(percentile(m.wallMs, 50)),
      p90: round2(percentile(m.wallMs, 90)),
    });
    const cgroupfs = summary(measurements.cgroupfs);
    const stats = summary(measurements.engine_stats);
    const oneShot = summary(measurements.engine_stats_one_shot);
    const sequential = summary(measurements.engine_stats_sequential_one_shot);
    return {
      engine: kind,
      containers: containers.length,
      sweeps: config.sweeps,
      cgroupfs_ms_per_sweep: cgroupfs.median,
      cgroupfs_p90_ms: cgroupfs.p90,
      engine_stats_ms_per_sweep: stats.median,
      engine_stats_p90_ms: stats.p90,
      ratio: round2(stats.median / cgroupfs.median),
      engine_stats_one_shot_ms_per_sweep: oneShot.median,
      engine_stats_one_shot_p90_ms: oneShot.p90,
      ratio_one_shot: round2(oneShot.median / cgroupfs.median),
      engine_stats_single_call_ms: round2(singleCallMs),
      ...(runSequential
        ? {
            engine_stats_sequential_one_shot_ms_per_sweep: sequential.median,
            engine_stats_sequential_one_shot_p90_ms: sequential.p90,
            sequential_sweeps: measurements.engine_stats_sequential_one_shot.wallMs.length,
          }
        : { sequential_sweeps: 0 }),
      cpu_ms_per_sweep: Object.fromEntries(
        SWEEP_KINDS.filter((k) => measurements[k].wallMs.length > 0).map((k) => {
          const m = measurements[k];
          const n = Math.max(1, m.wallMs.length);
          return [k, { bench_process: round2(m.processCpuMs / n), engine: round2(m.engineCpuMs / n) }];
        }),
      ),
      engine_processes_metered: engineCpu.processCount,
      agreement: {
        memory_max_diff_bytes: agreement.memoryMaxDiffBytes,
        cpu_bracketed: agreement.cpuBracketed,
        pids_compared: agreement.pidsCompared,
      },
      engine_startup_ms: engine.startupMs,
      containers_start_s: round2(containersStartS),
      engine_wall_s: round2((performance.now() - startedAt) / 1000),
    };
  } finally {
    log(`${kind}: removing containers and stopping the engine`);
    await engine.stop();
  }
}

/** Median latency of one one-shot stats call with nothing else in flight. */
async function probeSingleCallMs(containers: readonly TSleepingContainer[]): Promise<number> {
  const times: number[] = [];
  for (let probe = 0; probe < SINGLE_CALL_PROBES; probe++) {
    const container = containers[probe % containers.length]!;
    const startedAt = performance.now();
    await container.handle.stats({ stream: false, "one-shot": true });
    times.push(performance.now() - startedAt);
  }
  return percentile(times, 50);
}

/** Waits until every container has written its fill, so no sweep times a container still starting. */
async function waitUntilFilled(containers: readonly TSleepingContainer[], sampler: ContainerSampler) {
  const targets = containers.map(({ containerId, pid }) => ({ containerId, pid }));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const sweep = await sampler.sample(targets);
    const usage = new Map(sweep.samples.map((s) => [s.containerId, s.memoryUsageBytes]));
    const waiting = containers.filter((c) => (usage.get(c.containerId) ?? -1) < c.fillBytes);
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${waiting.length} containers never reached their memory fill (or could not be read)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<number> {
  const startedAt = performance.now();
  const results: Partial<Record<TEngineKind, TEngineResult>> = {};
  const errors: Partial<Record<TEngineKind, string>> = {};
  for (const kind of config.engines) {
    try {
      results[kind] = await benchEngine(kind);
      log(`${kind}: ${JSON.stringify(results[kind])}`);
    } catch (err) {
      errors[kind] = err instanceof Error ? err.message : String(err);
      log(`${kind} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  const primaryKind = config.engines.find((kind) => results[kind] !== undefined);
  if (primaryKind === undefined) return 1;
  // The required fields first, so the line reads the same as the other benchmarks'.
  const { cgroupfs_ms_per_sweep, engine_stats_ms_per_sweep, ...primaryRest } = results[primaryKind]!;
  const others = Object.fromEntries(
    config.engines.filter((kind) => kind !== primaryKind).map((kind) => [kind, results[kind] ?? null]),
  );
  const line = {
    bench: "agent-metrics",
    containers: config.containers,
    cgroupfs_ms_per_sweep,
    engine_stats_ms_per_sweep,
    ...primaryRest,
    ...others,
    ...(Object.keys(errors).length > 0 ? { errors } : {}),
    wall_s: round2((performance.now() - startedAt) / 1000),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return Object.keys(errors).length > 0 ? 1 : 0;
}

function parseEngines(value: string): TEngineKind[] {
  const kinds = value
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  for (const kind of kinds) {
    if (!(ENGINE_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`BENCH_AGENT_METRICS_ENGINES: unknown engine ${kind} (use ${ENGINE_KINDS.join(", ")})`);
    }
  }
  return kinds as TEngineKind[];
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

process.exitCode = await main();
