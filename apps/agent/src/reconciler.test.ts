import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import type { TDesiredRunState } from "@fleet/shared/domain/container-state";
import { hashContainerSpec } from "@fleet/shared/domain/spec-hash";
import type { TDesiredFrame } from "@fleet/shared/protocol/server-to-agent";
import { makeContainerSpec, makeDesired } from "@fleet/shared/protocol/test-factories";
import { flushAsync, ManualClock } from "@fleet/shared/testing/manual-clock";
import { beforeEach, describe, expect, it } from "vitest";
import { RuntimeHealthProber } from "./health/health-prober";
import { Reconciler } from "./reconciler";
import { DriverError } from "./runtime/driver";
import { FakeDriver } from "./runtime/fake/fake-driver";
import { FakeEngine } from "./runtime/fake/fake-engine";
import { BindMountPolicy } from "./supervisor/bind-mount-policy";
import type { SupervisorDeps } from "./supervisor/container-supervisor";
import { ImagePuller } from "./supervisor/image-puller";
import { OomTracker } from "./supervisor/oom-tracker";
import { DEFAULT_RESTART_TUNING } from "./supervisor/restart-policy";
import { RecordingReporter } from "./testing/recording-reporter";
import { silentLogger } from "./testing/silent-logger";

const HOST = "host-1";

interface Harness {
  clock: ManualClock;
  engine: FakeEngine;
  driver: FakeDriver;
  reporter: RecordingReporter;
  acks: number[];
  persisted: TDesiredFrame[];
  reconciler: Reconciler;
}

function harness(seededEngine?: FakeEngine): Harness {
  const clock = new ManualClock();
  const engine = seededEngine ?? new FakeEngine({ now: () => new Date(clock.now()) });
  const driver = new FakeDriver(engine);
  const reporter = new RecordingReporter();
  const acks: number[] = [];
  const persisted: TDesiredFrame[] = [];
  const deps: SupervisorDeps = {
    containers: driver.containers,
    clock,
    hostId: HOST,
    tuning: { ...DEFAULT_RESTART_TUNING, oomSettleMs: 0 },
    reporter,
    oom: new OomTracker(),
    images: new ImagePuller(driver.images),
    // Every path its own real path: symlinks are bind-sources.test.ts's and the supervisor's tests' concern.
    bindMounts: new BindMountPolicy(async (path) => path),
    health: new RuntimeHealthProber(driver.containers),
    log: silentLogger,
  };
  const reconciler = new Reconciler({
    deps,
    onAck: (generation) => acks.push(generation),
    persistDesired: async (frame) => {
      persisted.push(frame);
    },
  });
  return { clock, engine, driver, reporter, acks, persisted, reconciler };
}

function spec(overrides: Partial<TContainerSpec> = {}): TContainerSpec {
  return makeContainerSpec({ restartPolicy: { name: "always" }, ...overrides });
}

function desired(generation: number, containers: TContainerSpec[]): TDesiredFrame {
  return makeDesired({ generation, containers });
}

/** A desired-set entry with an explicit run state. */
function as(runState: TDesiredRunState, s: TContainerSpec): TContainerSpec & { runState: TDesiredRunState } {
  return { ...s, runState };
}

const HOUR = 60 * 60_000;

async function apply(h: Harness, frame: TDesiredFrame): Promise<void> {
  h.reconciler.submit(frame);
  await h.reconciler.idle();
  await flushAsync();
}

function runningIds(engine: FakeEngine): string[] {
  return engine
    .running()
    .map((c) => c.containerId)
    .sort();
}

describe("Reconciler", () => {
  let h: Harness;
  beforeEach(async () => {
    h = harness();
    await h.reconciler.recover(null);
  });

  it("creates what is missing and acks the generation", async () => {
    const a = spec();
    const b = spec();
    await apply(h, desired(1, [a, b]));
    expect(runningIds(h.engine)).toEqual([a.id, b.id].sort());
    expect(h.acks).toEqual([1]);
    expect(h.reconciler.ackedGeneration).toBe(1);
    expect(h.persisted.map((f) => f.generation)).toEqual([1]);
    for (const c of h.engine.running()) {
      expect(c.labels["fleet.host-id"]).toBe(HOST);
      expect(c.labels["fleet.spec-hash"]).toBe(hashContainerSpec(c.spec!));
    }
    expect(h.reporter.lastStatus(a.id)?.state).toBe("running");
  });

  it("pulls an absent image before creating, reporting pulling", async () => {
    const a = spec({ image: "127.0.0.1:5000/fleet/new:2" });
    await apply(h, desired(1, [a]));
    expect(h.engine.callsTo("pullImage").map((c) => c.target)).toEqual([a.image]);
    expect(h.reporter.statesOf(a.id)).toContain("pulling");
  });

  it("pulls an image once for several containers", async () => {
    const image = "127.0.0.1:5000/fleet/shared:1";
    await apply(h, desired(1, [spec({ image }), spec({ image }), spec({ image })]));
    expect(h.engine.callsTo("pullImage")).toHaveLength(1);
    expect(h.engine.running()).toHaveLength(3);
  });

  it("keeps what matches without touching it", async () => {
    const a = spec();
    await apply(h, desired(1, [a]));
    const engineId = h.engine.running()[0]!.engineId;
    h.engine.clearCalls();
    await apply(h, desired(2, [structuredClone(a)]));
    expect(h.engine.calls.filter((c) => c.method !== "imageExists")).toEqual([]);
    expect(h.engine.running()[0]!.engineId).toBe(engineId);
    expect(h.acks).toEqual([1, 2]);
  });

  it("stops and removes what is no longer desired", async () => {
    const a = spec();
    const b = spec();
    await apply(h, desired(1, [a, b]));
    const bEngineId = h.engine.running().find((c) => c.containerId === b.id)!.engineId;
    await apply(h, desired(2, [a]));
    expect(runningIds(h.engine)).toEqual([a.id]);
    expect(h.engine.containers.has(bEngineId)).toBe(false);
    expect(h.engine.callsTo("stop").map((c) => c.target)).toEqual([bEngineId]);
    expect(h.reporter.lastStatus(b.id)?.state).toBe("removed");
    expect(h.reconciler.containerCount).toBe(1);
    expect(h.acks).toEqual([1, 2]);
  });

  it("replaces a container whose spec hash changed", async () => {
    const a = spec();
    await apply(h, desired(1, [a]));
    const oldEngineId = h.engine.running()[0]!.engineId;
    const changed = { ...a, env: { ...a.env, NEW: "1" } };
    await apply(h, desired(2, [changed]));
    const now = h.engine.running();
    expect(now).toHaveLength(1);
    expect(now[0]!.engineId).not.toBe(oldEngineId);
    expect(now[0]!.specHash).toBe(hashContainerSpec(changed));
    expect(h.engine.containers.has(oldEngineId)).toBe(false);
    const order = h.engine.calls.map((c) => c.method).filter((m) => ["stop", "destroy", "start"].includes(m));
    expect(order).toEqual(["start", "stop", "destroy", "start"]);
  });

  it("removes before it creates, so a new container can take a freed name", async () => {
    const a = spec({ name: "web" });
    await apply(h, desired(1, [a]));
    const b = spec({ name: "web" });
    await apply(h, desired(2, [b]));
    expect(runningIds(h.engine)).toEqual([b.id]);
    expect(h.reporter.lastStatus(b.id)?.state).toBe("running");
  });

  it("coalesces snapshots that arrive while one is applied, applying only the newest", async () => {
    const slowImage = "127.0.0.1:5000/fleet/slow:1";
    const a = spec({ image: slowImage });
    h.reconciler.submit(desired(1, [a]));
    const b = spec();
    const c = spec();
    h.reconciler.submit(desired(2, [a, b]));
    h.reconciler.submit(desired(3, [a, c]));
    await h.reconciler.idle();
    await flushAsync();
    expect(h.acks).toEqual([1, 3]);
    expect(h.reconciler.snapshotsApplied).toBe(2);
    expect(runningIds(h.engine)).toEqual([a.id, c.id].sort());
    expect(h.engine.callsTo("start").map((call) => call.target)).not.toContain(b.id);
  });

  it("checks bind sources against the prefixes of the newest set, leaving running containers alone", async () => {
    const bind = (source: string) =>
      spec({ mounts: [{ type: "bind", source, target: "/data", readOnly: false }] });
    const a = bind("/srv/data/a");
    const b = bind("/srv/other/b");
    await apply(h, makeDesired({ generation: 1, containers: [a, b], bindMountPrefixes: ["/srv/data"] }));
    expect(runningIds(h.engine)).toEqual([a.id]);
    expect(h.reporter.lastStatus(b.id)?.message).toMatch(
      /^bind mount of \/srv\/other\/b refused: it resolves to \/srv\/other\/b, outside the allowed host paths \(\/srv\/data\)/,
    );

    await apply(h, makeDesired({ generation: 2, containers: [a, b], bindMountPrefixes: [] }));
    expect(h.acks).toEqual([1, 2]);
    expect(runningIds(h.engine)).toEqual([a.id]);
    expect(h.engine.callsTo("start")).toHaveLength(1);
    await h.clock.advance(1000);
    expect(h.reporter.lastStatus(b.id)?.message).toMatch(/no host paths are allowed for bind mounts/);
  });

  it("acks even when a container fails to start, reporting the failure", async () => {
    const a = spec();
    h.engine.failNextStart("OCI runtime create failed");
    await apply(h, desired(4, [a]));
    expect(h.acks).toEqual([4]);
    expect(h.reporter.lastStatus(a.id)?.state).toBe("failed");
    expect(h.reporter.lastStatus(a.id)?.message).toMatch(/OCI runtime create failed/);
  });
});

describe("Reconciler after an agent restart", () => {
  function seeded(specs: TContainerSpec[], hostId = HOST): FakeEngine {
    const engine = new FakeEngine({ now: () => new Date(Date.UTC(2025, 0, 1)) });
    for (const s of specs) engine.seedContainer({ spec: s, hostId, specHash: hashContainerSpec(s) });
    return engine;
  }

  it("adopts running managed containers without starting or restarting any", async () => {
    const a = spec();
    const b = spec();
    h = harness(seeded([a, b]));
    h.engine.clearCalls();
    await h.reconciler.recover(null);
    await flushAsync();
    expect(h.engine.callsTo("start")).toHaveLength(0);
    expect(h.engine.callsTo("restart")).toHaveLength(0);
    expect(h.engine.callsTo("stop")).toHaveLength(0);
    expect(h.reconciler.containerCount).toBe(2);
    expect(h.reporter.lastStatus(a.id)).toMatchObject({
      state: "running",
      startedAt: "2025-01-01T00:00:00.000Z",
    });
    expect(
      h.reconciler
        .sampleTargets()
        .map((t) => t.containerId)
        .sort(),
    ).toEqual([a.id, b.id].sort());

    await apply(h, desired(9, [a, b]));
    expect(h.engine.callsTo("start")).toHaveLength(0);
    expect(h.engine.callsTo("stop")).toHaveLength(0);
    expect(h.acks).toEqual([9]);
  });

  let h: Harness;

  it("removes nothing before the first snapshot, then removes what it does not hold", async () => {
    const a = spec();
    const b = spec();
    h = harness(seeded([a, b]));
    await h.reconciler.recover(null);
    await h.clock.advance(60 * 60_000);
    expect(h.engine.callsTo("stop")).toHaveLength(0);
    expect(h.engine.callsTo("destroy")).toHaveLength(0);
    expect(h.engine.running()).toHaveLength(2);

    await apply(h, desired(1, [a]));
    expect(runningIds(h.engine)).toEqual([a.id]);
    expect(h.engine.callsTo("start")).toHaveLength(0);
  });

  it("holds a snapshot that arrives before recovery finished, then applies it", async () => {
    const a = spec();
    const b = spec();
    h = harness(seeded([a, b]));
    h.reconciler.submit(desired(5, [b]));
    await flushAsync();
    expect(h.acks).toEqual([]);
    expect(h.engine.callsTo("destroy")).toHaveLength(0);
    await h.reconciler.recover(null);
    await h.reconciler.idle();
    await flushAsync();
    expect(runningIds(h.engine)).toEqual([b.id]);
    expect(h.engine.callsTo("start")).toHaveLength(0);
    expect(h.acks).toEqual([5]);
  });

  it("replaces an adopted container whose spec changed while the agent was down", async () => {
    const a = spec();
    h = harness(seeded([a]));
    await h.reconciler.recover(null);
    const newer = { ...a, command: ["sleep", "10"] };
    await apply(h, desired(2, [newer]));
    expect(h.engine.running()).toHaveLength(1);
    expect(h.engine.running()[0]!.specHash).toBe(hashContainerSpec(newer));
  });

  it("leaves containers of another host id alone", async () => {
    const mine = spec();
    const theirs = spec();
    const engine = seeded([mine]);
    engine.seedContainer({ spec: theirs, hostId: "host-2", specHash: hashContainerSpec(theirs) });
    h = harness(engine);
    await h.reconciler.recover(null);
    await apply(h, desired(1, []));
    expect(runningIds(h.engine)).toEqual([theirs.id]);
  });

  it("supervises adopted containers with the cached snapshot's restart policy before the first snapshot", async () => {
    const a = spec({ restartPolicy: { name: "always" } });
    h = harness(seeded([a]));
    await h.reconciler.recover(desired(3, [a]));
    const engineId = h.engine.running()[0]!.engineId;
    h.engine.exit(engineId, { exitCode: 1 });
    await flushAsync();
    expect(h.reporter.lastStatus(a.id)?.state).toBe("restarting");
    await h.clock.runNext();
    expect(h.engine.callsTo("restart").map((c) => c.target)).toEqual([engineId]);
  });

  it("removes duplicate engine containers of one Fleet id with the first snapshot, keeping the running one", async () => {
    const a = spec();
    const engine = seeded([a]);
    const dup = engine.seedContainer({
      spec: { ...a, name: `${a.name}-old` },
      hostId: HOST,
      specHash: hashContainerSpec(a),
      running: false,
    });
    h = harness(engine);
    await h.reconciler.recover(null);
    expect(h.engine.containers.has(dup.engineId)).toBe(true);
    await apply(h, desired(1, [a]));
    expect(h.engine.containers.has(dup.engineId)).toBe(false);
    expect(runningIds(h.engine)).toEqual([a.id]);
  });
});

describe("Reconciler with containers desired stopped", () => {
  let h: Harness;
  beforeEach(async () => {
    h = harness();
    await h.reconciler.recover(null);
  });

  async function runningOne(s: TContainerSpec): Promise<string> {
    await apply(h, desired(1, [s]));
    const engineId = h.engine.running().find((c) => c.containerId === s.id)?.engineId;
    if (!engineId) throw new Error("container should run");
    return engineId;
  }

  it("stops the container and keeps it, with its logs, and never restarts it", async () => {
    const a = spec({ restartPolicy: { name: "always" } });
    const engineId = await runningOne(a);
    h.engine.writeLog(engineId, "stdout", "hello before the stop");
    h.engine.clearCalls();

    await apply(h, desired(2, [as("stopped", a)]));
    expect(h.acks).toEqual([1, 2]);
    expect(h.engine.callsTo("stop").map((c) => c.args)).toEqual([
      [engineId, DEFAULT_RESTART_TUNING.stopTimeoutSeconds],
    ]);
    expect(h.engine.callsTo("destroy")).toEqual([]);
    const kept = h.engine.containers.get(engineId);
    expect(kept).toMatchObject({ running: false, exitCode: 143 });
    expect(kept?.log.map((l) => l.line)).toEqual(["hello before the stop"]);
    expect(h.reporter.lastStatus(a.id)).toMatchObject({
      state: "stopped",
      engineId,
      exitCode: 143,
      restartCount: 0,
      message: "desired state is stopped",
    });
    expect(h.reconciler.engineIdOf(a.id)).toBe(engineId);
    expect(h.reconciler.sampleTargets()).toEqual([]);

    // An intentional stop is not a crash: nothing restarts it, however long it waits.
    await h.clock.advance(HOUR);
    expect(h.engine.callsTo("restart")).toEqual([]);
    expect(h.engine.callsTo("start")).toEqual([]);
    expect(h.clock.pendingCount).toBe(0);
    expect(h.reporter.statesOf(a.id)).not.toContain("restarting");
    expect(h.reporter.eventKinds(a.id)).toContain("container.stop");
    expect(h.reporter.eventKinds(a.id)).not.toContain("container.exit");
    expect(h.reporter.eventKinds(a.id)).not.toContain("container.crashloop");
  });

  it("leaves a container that is already stopped alone", async () => {
    const a = spec();
    await runningOne(a);
    await apply(h, desired(2, [as("stopped", a)]));
    h.engine.clearCalls();
    const reported = h.reporter.statuses.length;
    await apply(h, desired(3, [as("stopped", structuredClone(a))]));
    expect(h.engine.calls).toEqual([]);
    expect(h.reporter.statuses).toHaveLength(reported);
    expect(h.acks).toEqual([1, 2, 3]);
  });

  it("starts the same engine container again when it is desired running, its restart count afresh", async () => {
    const a = spec({ restartPolicy: { name: "on-failure", maxRetries: 1 } });
    const engineId = await runningOne(a);
    // Use up its one retry, so only a fresh count lets it restart after the start.
    h.engine.exit(engineId, { exitCode: 1 });
    await flushAsync();
    await h.clock.runNext();
    await flushAsync();
    expect(h.reporter.lastStatus(a.id)).toMatchObject({ state: "running", restartCount: 1 });

    await apply(h, desired(2, [as("stopped", a)]));
    h.engine.clearCalls();
    await apply(h, desired(3, [as("running", a)]));
    expect(h.engine.callsTo("restart").map((c) => c.target)).toEqual([engineId]);
    expect(h.engine.callsTo("start")).toEqual([]);
    expect(h.engine.callsTo("destroy")).toEqual([]);
    expect(h.engine.running().map((c) => c.engineId)).toEqual([engineId]);
    expect(h.reporter.lastStatus(a.id)).toMatchObject({ state: "running", engineId, restartCount: 0 });
    expect(h.reconciler.sampleTargets().map((t) => t.containerId)).toEqual([a.id]);
    expect(h.acks).toEqual([1, 2, 3]);

    // Supervised as before: a crash restarts it under its policy.
    h.engine.exit(engineId, { exitCode: 1 });
    await flushAsync();
    expect(h.reporter.lastStatus(a.id)?.state).toBe("restarting");
    await h.clock.runNext();
    await flushAsync();
    expect(h.reporter.lastStatus(a.id)).toMatchObject({ state: "running", restartCount: 1 });
  });

  it("does not create a container desired stopped that does not exist", async () => {
    const b = spec();
    await apply(h, desired(1, [as("stopped", b)]));
    expect(h.acks).toEqual([1]);
    expect(h.engine.callsTo("pullImage")).toEqual([]);
    expect(h.engine.callsTo("start")).toEqual([]);
    expect(h.engine.containers.size).toBe(0);
    expect(h.reconciler.containerCount).toBe(0);
    expect(h.reporter.statesOf(b.id)).toEqual([]);

    await apply(h, desired(2, [as("running", b)]));
    expect(runningIds(h.engine)).toEqual([b.id]);
  });

  it("keeps a stopped container whose spec changed as it is, and replaces it when it runs again", async () => {
    const a = spec();
    const oldEngineId = await runningOne(a);
    const changed = { ...a, env: { ...a.env, NEW: "1" } };
    await apply(h, desired(2, [as("stopped", changed)]));
    expect(h.engine.containers.get(oldEngineId)).toMatchObject({ running: false });
    expect(h.engine.callsTo("destroy")).toEqual([]);
    expect(h.reporter.lastStatus(a.id)?.state).toBe("stopped");

    // Still stopped with the new spec: nothing happens.
    h.engine.clearCalls();
    await apply(h, desired(3, [as("stopped", changed)]));
    expect(h.engine.calls).toEqual([]);

    await apply(h, desired(4, [as("running", changed)]));
    expect(h.engine.containers.has(oldEngineId)).toBe(false);
    const now = h.engine.running();
    expect(now).toHaveLength(1);
    expect(now[0]!.engineId).not.toBe(oldEngineId);
    expect(now[0]!.specHash).toBe(hashContainerSpec(changed));
    expect(h.reporter.lastStatus(a.id)).toMatchObject({ state: "running", engineId: now[0]!.engineId });
  });

  it("removes a stopped container once it leaves the set", async () => {
    const a = spec();
    const engineId = await runningOne(a);
    await apply(h, desired(2, [as("stopped", a)]));
    h.engine.clearCalls();
    await apply(h, desired(3, []));
    expect(h.engine.callsTo("stop")).toEqual([]);
    expect(h.engine.callsTo("destroy").map((c) => c.target)).toEqual([engineId]);
    expect(h.engine.containers.size).toBe(0);
    expect(h.reporter.lastStatus(a.id)?.state).toBe("removed");
  });

  it("cancels a pending restart when the container is stopped in its backoff", async () => {
    const a = spec({ restartPolicy: { name: "always" } });
    const engineId = await runningOne(a);
    h.engine.exit(engineId, { exitCode: 2 });
    await flushAsync();
    expect(h.reporter.lastStatus(a.id)?.state).toBe("restarting");
    h.engine.clearCalls();

    await apply(h, desired(2, [as("stopped", a)]));
    // It had already exited: nothing to stop in the engine.
    expect(h.engine.callsTo("stop")).toEqual([]);
    expect(h.reporter.lastStatus(a.id)).toMatchObject({ state: "stopped", exitCode: 2 });
    await h.clock.advance(HOUR);
    expect(h.engine.callsTo("restart")).toEqual([]);
    expect(h.engine.containers.get(engineId)?.running).toBe(false);
  });

  it("retries an engine stop that failed, without restarting the container meanwhile", async () => {
    const a = spec({ restartPolicy: { name: "always" } });
    const engineId = await runningOne(a);
    h.engine.failNext("stop", new DriverError("engine", "the engine is busy"));
    await apply(h, desired(2, [as("stopped", a)]));
    expect(h.acks).toEqual([1, 2]);
    expect(h.engine.containers.get(engineId)?.running).toBe(true);
    expect(h.reporter.lastStatus(a.id)?.message).toMatch(/could not stop: the engine is busy/);

    await h.clock.runNext();
    await flushAsync();
    expect(h.engine.callsTo("stop")).toHaveLength(2);
    expect(h.engine.containers.get(engineId)?.running).toBe(false);
    expect(h.reporter.lastStatus(a.id)?.state).toBe("stopped");
    await h.clock.advance(HOUR);
    expect(h.engine.callsTo("restart")).toEqual([]);
  });

  it("creates a new container on start when the kept one disappeared while stopped", async () => {
    const a = spec();
    const engineId = await runningOne(a);
    await apply(h, desired(2, [as("stopped", a)]));
    await h.driver.containers.destroy(engineId);
    await apply(h, desired(3, [as("running", a)]));
    const now = h.engine.running();
    expect(now.map((c) => c.containerId)).toEqual([a.id]);
    expect(now[0]!.engineId).not.toBe(engineId);
    expect(h.reporter.lastStatus(a.id)).toMatchObject({ state: "running", engineId: now[0]!.engineId });
  });
});

describe("Reconciler after an agent restart, with containers desired stopped", () => {
  function seededStopped(s: TContainerSpec): FakeEngine {
    const engine = new FakeEngine({ now: () => new Date(Date.UTC(2025, 0, 1)) });
    engine.seedContainer({
      spec: s,
      hostId: HOST,
      specHash: hashContainerSpec(s),
      running: false,
      exitCode: 137,
    });
    return engine;
  }

  it("keeps an exited container stopped when the last snapshot held it stopped, and starts it when told", async () => {
    const a = spec({ restartPolicy: { name: "always" } });
    const h = harness(seededStopped(a));
    const engineId = [...h.engine.containers.keys()][0]!;
    await h.reconciler.recover(desired(4, [as("stopped", a)]));
    await flushAsync();
    expect(h.reporter.lastStatus(a.id)).toMatchObject({ state: "stopped", engineId, exitCode: 137 });
    await h.clock.advance(HOUR);
    expect(h.engine.callsTo("restart")).toEqual([]);

    await apply(h, desired(5, [as("stopped", a)]));
    expect(h.engine.callsTo("restart")).toEqual([]);
    expect(h.engine.callsTo("destroy")).toEqual([]);

    await apply(h, desired(6, [as("running", a)]));
    expect(h.engine.callsTo("restart").map((c) => c.target)).toEqual([engineId]);
    expect(h.reporter.lastStatus(a.id)?.state).toBe("running");
  });

  it("keeps an exited container stopped when the first snapshot says so, though no snapshot was cached", async () => {
    const a = spec({ restartPolicy: { name: "always" } });
    const h = harness(seededStopped(a));
    await h.reconciler.recover(null);
    await flushAsync();
    expect(h.reporter.lastStatus(a.id)?.state).toBe("exited");
    await apply(h, desired(1, [as("stopped", a)]));
    expect(h.reporter.lastStatus(a.id)?.state).toBe("stopped");
    await h.clock.advance(HOUR);
    expect(h.engine.callsTo("restart")).toEqual([]);
  });
});
