// The supervisor's side of health checks, on the fake driver and a manual
// clock: what it reports, when it restarts, and that probes neither overlap
// nor outlive the run they belong to.
import type { TContainerSpec, THealthCheck } from "@fleet/shared/domain/container-spec";
import { hashContainerSpec } from "@fleet/shared/domain/spec-hash";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { flushAsync, ManualClock } from "@fleet/shared/testing/manual-clock";
import { beforeEach, describe, expect, it } from "vitest";
import { RuntimeHealthProber } from "../health/health-prober";
import type { ProbeOutcome } from "../health/health-state";
import type { NetnsProbeRequest } from "../health/netns-probe";
import type { ExecResult } from "../runtime/container-driver";
import { FakeDriver } from "../runtime/fake/fake-driver";
import { FakeEngine } from "../runtime/fake/fake-engine";
import { RecordingReporter } from "../testing/recording-reporter";
import { silentLogger } from "../testing/silent-logger";
import { BindMountPolicy } from "./bind-mount-policy";
import { ContainerSupervisor, type SupervisorDeps } from "./container-supervisor";
import { ImagePuller } from "./image-puller";
import { OomTracker } from "./oom-tracker";
import type { RestartTuning } from "./restart-policy";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const tuning: RestartTuning = {
  initialBackoffMs: 1 * SECOND,
  maxBackoffMs: 5 * MINUTE,
  stableRunMs: 10 * MINUTE,
  crashloopRestarts: 5,
  crashloopWindowMs: 10 * MINUTE,
  stopTimeoutSeconds: 3,
  oomSettleMs: 0,
};

const EXIT_0: ExecResult = { exitCode: 0, timedOut: false, output: "fine", truncated: false };
const EXIT_1: ExecResult = { exitCode: 1, timedOut: false, output: "boom", truncated: false };

let clock: ManualClock;
let engine: FakeEngine;
let reporter: RecordingReporter;
let deps: SupervisorDeps;
let networkProbes: Array<{ request: NetnsProbeRequest; signal: AbortSignal | undefined }>;
let networkAnswer: ProbeOutcome;

beforeEach(() => setup());

function setup(stopExitCode?: number): void {
  clock = new ManualClock();
  engine = new FakeEngine({
    now: () => new Date(clock.now()),
    ...(stopExitCode === undefined ? {} : { stopExitCode }),
  });
  const driver = new FakeDriver(engine);
  reporter = new RecordingReporter();
  networkProbes = [];
  networkAnswer = { ok: true, message: "connected" };
  deps = {
    containers: driver.containers,
    clock,
    hostId: "host-1",
    tuning,
    reporter,
    oom: new OomTracker(),
    images: new ImagePuller(driver.images),
    bindMounts: new BindMountPolicy(),
    health: new RuntimeHealthProber(driver.containers, async (request, signal) => {
      networkProbes.push({ request, signal });
      return networkAnswer;
    }),
    log: silentLogger,
  };
}

function checked(
  health: Partial<THealthCheck> = {},
  overrides: Partial<TContainerSpec> = {},
): TContainerSpec {
  return makeContainerSpec({
    restartPolicy: { name: "no" },
    healthCheck: {
      test: { type: "exec", command: ["check"] },
      intervalMs: 1 * SECOND,
      timeoutMs: 500,
      retries: 2,
      startPeriodMs: 0,
      restartOnUnhealthy: false,
      ...health,
    },
    ...overrides,
  });
}

async function started(spec: TContainerSpec): Promise<ContainerSupervisor> {
  engine.images.add(spec.image);
  const sup = ContainerSupervisor.create(deps, spec, hashContainerSpec(spec));
  await sup.ready;
  await flushAsync();
  expect(sup.state).toBe("running");
  return sup;
}

function healthOf(containerId: string) {
  return reporter.statuses
    .filter((s) => s.containerId === containerId)
    .map((s) => [s.state, s.health] as const);
}

function healthEvents(containerId: string) {
  return reporter.events.filter((e) => e.containerId === containerId && e.kind === "container.health");
}

describe("ContainerSupervisor health checks", () => {
  it("reports no health for a container without a check", async () => {
    const spec = makeContainerSpec({ restartPolicy: { name: "no" } });
    await started(spec);
    await clock.advance(MINUTE);
    expect(reporter.statuses.every((s) => s.health === null && s.healthMessage === null)).toBe(true);
    expect(engine.callsTo("exec")).toHaveLength(0);
  });

  it("starts at starting, turns healthy on the first passing check: one status frame and one event per change", async () => {
    const spec = checked();
    engine.execHandler = () => EXIT_0;
    await started(spec);
    expect(reporter.lastStatus(spec.id)).toMatchObject({
      state: "running",
      health: "starting",
      healthMessage: null,
    });
    await clock.advance(SECOND);
    expect(engine.callsTo("exec").map((c) => c.args[1])).toEqual([
      { command: ["check"], timeoutMs: 500, maxOutputBytes: 4096 },
    ]);
    expect(reporter.lastStatus(spec.id)).toMatchObject({ health: "healthy", healthMessage: null });
    await clock.advance(5 * SECOND);
    expect(engine.callsTo("exec")).toHaveLength(6);
    expect(healthOf(spec.id).filter(([state]) => state === "running")).toEqual([
      ["running", "starting"],
      ["running", "healthy"],
    ]);
    expect(healthEvents(spec.id).map((e) => [e.message, e.data])).toEqual([
      [`${spec.name}: health_status: starting`, { health: "starting" }],
      [`${spec.name}: health_status: healthy`, { health: "healthy" }],
    ]);
  });

  it("turns unhealthy after `retries` failures with the check's output, keeps running without restartOnUnhealthy, and recovers", async () => {
    const spec = checked({ retries: 2 });
    engine.execHandler = () => EXIT_1;
    const sup = await started(spec);
    await clock.advance(SECOND);
    expect(reporter.lastStatus(spec.id)?.health).toBe("starting");
    await clock.advance(SECOND);
    expect(reporter.lastStatus(spec.id)).toMatchObject({
      state: "running",
      health: "unhealthy",
      healthMessage: "exit code 1: boom",
    });
    expect(healthEvents(spec.id).at(-1)?.message).toBe(
      `${spec.name}: health_status: unhealthy (exit code 1: boom)`,
    );
    await clock.advance(MINUTE);
    expect(sup.state).toBe("running");
    expect(engine.callsTo("stop")).toHaveLength(0);
    engine.execHandler = () => EXIT_0;
    await clock.advance(SECOND);
    expect(reporter.lastStatus(spec.id)).toMatchObject({ health: "healthy", healthMessage: null });
  });

  it("truncates a long check output to the protocol's message limit", async () => {
    const spec = checked({ retries: 1 });
    engine.execHandler = () => ({ exitCode: 2, timedOut: false, output: "x".repeat(4096), truncated: true });
    await started(spec);
    await clock.advance(SECOND);
    const message = reporter.lastStatus(spec.id)?.healthMessage ?? "";
    expect(message).toHaveLength(4096);
    expect(message.startsWith("exit code 2: xxx")).toBe(true);
    expect(message.endsWith("…")).toBe(true);
  });

  it("restartOnUnhealthy: stops the container and restarts it through the restart policy's backoff, even under `no`", async () => {
    const spec = checked({ retries: 1, restartOnUnhealthy: true });
    engine.execHandler = () => EXIT_1;
    const sup = await started(spec);
    const engineId = sup.engineId!;
    await clock.advance(SECOND);
    expect(engine.callsTo("stop").map((c) => c.args)).toEqual([[engineId, tuning.stopTimeoutSeconds]]);
    expect(sup.state).toBe("restarting");
    expect(reporter.lastStatus(spec.id)).toMatchObject({ state: "restarting", health: null, exitCode: 143 });
    const exitEvent = reporter.events.filter((e) => e.kind === "container.exit").at(-1);
    expect(exitEvent?.message).toBe(`${spec.name}: exited with code 143 after failing its health check`);
    expect(clock.pendingDelays()).toEqual([1 * SECOND]);
    await clock.advance(SECOND);
    expect(sup.state).toBe("running");
    expect(sup.restartCount).toBe(1);
    expect(reporter.lastStatus(spec.id)).toMatchObject({ health: "starting", restartCount: 1 });
    const restart = reporter.events.filter((e) => e.kind === "container.restart").at(-1);
    expect(restart?.message).toBe(`${spec.name}: restarted ${spec.name} (restart 1, was unhealthy)`);
    expect(restart?.data).toMatchObject({ restartCount: 1, cause: "unhealthy" });
    // Unhealthy again: the backoff has grown, as for any repeated failure.
    await clock.advance(SECOND);
    expect(sup.state).toBe("restarting");
    expect(clock.pendingDelays()).toEqual([2 * SECOND]);
    expect(reporter.eventKinds(spec.id).filter((k) => k === "container.health")).toHaveLength(4);
  });

  it("restartOnUnhealthy counts against on-failure:N even when the process exits 0 on the stop", async () => {
    const spec = checked(
      { retries: 1, restartOnUnhealthy: true },
      { restartPolicy: { name: "on-failure", maxRetries: 1 } },
    );
    setup(0);
    engine.execHandler = () => EXIT_1;
    const sup = await started(spec);
    await clock.advance(SECOND);
    await clock.advance(SECOND);
    expect(sup.restartCount).toBe(1);
    await clock.advance(SECOND);
    expect(sup.state).toBe("exited");
    expect(reporter.lastStatus(spec.id)?.message).toMatch(/gave up after 1 restart/);
  });

  it("never has two checks in flight: a check that hangs is aborted at its timeout before the next begins", async () => {
    const spec = checked({ retries: 3, timeoutMs: 500 });
    let inFlight = 0;
    let mostInFlight = 0;
    engine.execHandler = (_c, _opts, signal) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      signal?.addEventListener("abort", () => inFlight--, { once: true });
      return new Promise<ExecResult>(() => {});
    };
    const sup = await started(spec);
    await clock.advance(10 * SECOND);
    expect(engine.callsTo("exec").length).toBeGreaterThan(3);
    expect(mostInFlight).toBe(1);
    expect(reporter.lastStatus(spec.id)).toMatchObject({
      health: "unhealthy",
      healthMessage: "health check timed out after 500 ms",
    });
    expect(sup.state).toBe("running");
  });

  it("a desired stop cancels the check in flight and reports no health; starting again begins at starting", async () => {
    const spec = checked();
    const signals: AbortSignal[] = [];
    engine.execHandler = (_c, _opts, signal) => {
      if (signal) signals.push(signal);
      return new Promise<ExecResult>(() => {});
    };
    const sup = await started(spec);
    await clock.advance(SECOND);
    await sup.stop();
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(reporter.lastStatus(spec.id)).toMatchObject({
      state: "stopped",
      health: null,
      healthMessage: null,
    });
    await clock.advance(MINUTE);
    expect(engine.callsTo("exec")).toHaveLength(1);
    engine.execHandler = () => EXIT_0;
    await sup.start();
    expect(reporter.lastStatus(spec.id)).toMatchObject({ state: "running", health: "starting" });
    await clock.advance(SECOND);
    expect(reporter.lastStatus(spec.id)?.health).toBe("healthy");
  });

  it("removal and an exit stop the checks", async () => {
    const spec = checked({}, { restartPolicy: { name: "no" } });
    engine.execHandler = () => EXIT_0;
    const sup = await started(spec);
    await clock.advance(SECOND);
    engine.exit(sup.engineId!, { exitCode: 1 });
    await flushAsync();
    expect(reporter.lastStatus(spec.id)).toMatchObject({ state: "exited", health: null });
    await clock.advance(MINUTE);
    expect(engine.callsTo("exec")).toHaveLength(1);

    const other = checked({}, { id: "c-other", name: "other" });
    const removed = await started(other);
    await removed.remove("gone");
    await clock.advance(MINUTE);
    expect(engine.callsTo("exec")).toHaveLength(1);
    expect(clock.pendingCount).toBe(0);
  });

  it("runs HTTP and TCP checks in the network namespace of the container's pid", async () => {
    const spec = checked({ test: { type: "http", port: 8080, path: "/healthz" }, timeoutMs: 700 });
    const sup = await started(spec);
    await clock.advance(SECOND);
    expect(networkProbes.map((p) => p.request)).toEqual([
      { pid: sup.sampleTarget()!.pid, test: { type: "http", port: 8080, path: "/healthz" }, timeoutMs: 700 },
    ]);
    expect(reporter.lastStatus(spec.id)?.health).toBe("healthy");
    networkAnswer = { ok: false, message: "connect ECONNREFUSED 127.0.0.1:8080" };
    await clock.advance(2 * SECOND);
    expect(reporter.lastStatus(spec.id)).toMatchObject({
      health: "unhealthy",
      healthMessage: "connect ECONNREFUSED 127.0.0.1:8080",
    });
    expect(engine.callsTo("exec")).toHaveLength(0);
  });

  it("an adopted running container starts again from starting; one adopted before its spec once the spec is known", async () => {
    const spec = checked();
    engine.execHandler = () => EXIT_0;
    engine.seedContainer({ spec, hostId: "host-1", specHash: hashContainerSpec(spec) });
    const [found] = await deps.containers.recover();
    const sup = ContainerSupervisor.adopt(deps, found!, spec);
    expect(reporter.lastStatus(spec.id)).toMatchObject({ state: "running", health: "starting" });
    await clock.advance(SECOND);
    expect(sup.health).toBe("healthy");

    const late = checked({}, { id: "c-late", name: "late" });
    engine.seedContainer({ spec: late, hostId: "host-1", specHash: hashContainerSpec(late) });
    const lateFound = (await deps.containers.recover()).find((c) => c.containerId === late.id)!;
    const lateSup = ContainerSupervisor.adopt(deps, lateFound, null);
    expect(reporter.lastStatus(late.id)?.health).toBeNull();
    lateSup.provideSpec(late);
    expect(reporter.lastStatus(late.id)).toMatchObject({ state: "running", health: "starting" });
    await clock.advance(SECOND);
    expect(lateSup.health).toBe("healthy");
  });
});
