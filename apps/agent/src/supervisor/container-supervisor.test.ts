import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import { hashContainerSpec } from "@fleet/shared/domain/spec-hash";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { flushAsync, ManualClock } from "@fleet/shared/testing/manual-clock";
import { beforeEach, describe, expect, it } from "vitest";
import { RuntimeHealthProber } from "../health/health-prober";
import type { StartOptions } from "../runtime/container-driver";
import { DriverError } from "../runtime/driver";
import { FakeDriver } from "../runtime/fake/fake-driver";
import { FakeEngine } from "../runtime/fake/fake-engine";
import { RecordingReporter } from "../testing/recording-reporter";
import { silentLogger } from "../testing/silent-logger";
import { BindMountPolicy } from "./bind-mount-policy";
import { ContainerSupervisor, type SupervisorDeps } from "./container-supervisor";
import { ImagePuller } from "./image-puller";
import { OomTracker } from "./oom-tracker";
import { RestartTracker, type RestartTuning } from "./restart-policy";

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

interface Harness {
  clock: ManualClock;
  engine: FakeEngine;
  driver: FakeDriver;
  reporter: RecordingReporter;
  oom: OomTracker;
  deps: SupervisorDeps;
}

function harness(overrides: Partial<RestartTuning> = {}, images: string[] = []): Harness {
  const clock = new ManualClock();
  const engine = new FakeEngine({ now: () => new Date(clock.now()), images });
  const driver = new FakeDriver(engine);
  const reporter = new RecordingReporter();
  const oom = new OomTracker();
  const deps: SupervisorDeps = {
    containers: driver.containers,
    clock,
    hostId: "host-1",
    tuning: { ...tuning, ...overrides },
    reporter,
    oom,
    images: new ImagePuller(driver.images),
    bindMounts: new BindMountPolicy(),
    health: new RuntimeHealthProber(driver.containers),
    log: silentLogger,
  };
  return { clock, engine, driver, reporter, oom, deps };
}

function specWith(policy: TContainerSpec["restartPolicy"]): TContainerSpec {
  return makeContainerSpec({ restartPolicy: policy });
}

async function started(h: Harness, spec: TContainerSpec): Promise<ContainerSupervisor> {
  h.engine.images.add(spec.image);
  const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
  await sup.ready;
  await flushAsync();
  expect(sup.state).toBe("running");
  return sup;
}

async function exit(
  h: Harness,
  sup: ContainerSupervisor,
  exitCode: number,
  oomKilled = false,
): Promise<void> {
  h.engine.exit(sup.engineId!, { exitCode, oomKilled });
  await flushAsync();
}

describe("RestartTracker", () => {
  it("doubles the delay from 1s and caps it at 5 minutes", () => {
    const tracker = new RestartTracker({ ...tuning, crashloopRestarts: 1000 });
    const delays = Array.from({ length: 11 }, (_, i) => tracker.plan(i * 1000, i * 1000 - 10).delayMs);
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((s) => s * SECOND));
  });

  it("starts the backoff over after a stable run", () => {
    const tracker = new RestartTracker(tuning);
    tracker.plan(0, 0);
    tracker.plan(1000, 900);
    expect(tracker.plan(2000, 1900).delayMs).toBe(4 * SECOND);
    const later = 2000 + 11 * MINUTE;
    expect(tracker.plan(later, 2000).delayMs).toBe(1 * SECOND);
  });

  it("reports a crash loop after 5 restarts within 10 minutes, retrying at the cap", () => {
    const tracker = new RestartTracker(tuning);
    const plans = Array.from({ length: 7 }, (_, i) => tracker.plan(i * SECOND, i * SECOND - 100));
    expect(plans.map((p) => p.crashloop)).toEqual([false, false, false, false, false, true, true]);
    expect(plans[5]?.delayMs).toBe(5 * MINUTE);
  });

  it("forgets restarts older than the window", () => {
    const tracker = new RestartTracker({ ...tuning, stableRunMs: 60 * MINUTE });
    for (let i = 0; i < 5; i++) tracker.plan(i * SECOND, i * SECOND - 100);
    expect(tracker.plan(11 * MINUTE, 11 * MINUTE - 100).crashloop).toBe(false);
  });
});

describe("ContainerSupervisor", () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it("pulls a missing image, creates and starts the container, reporting each step", async () => {
    const spec = specWith({ name: "no" });
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    await sup.ready;
    expect(h.engine.callsTo("pullImage").map((c) => c.target)).toEqual([spec.image]);
    expect(h.engine.callsTo("start")).toHaveLength(1);
    expect(h.reporter.statesOf(spec.id)).toEqual(["pending", "pulling", "pulling", "creating", "running"]);
    expect(h.reporter.eventKinds(spec.id)).toEqual(["container.create", "container.start"]);
    const status = h.reporter.lastStatus(spec.id)!;
    expect(status.engineId).toBe(sup.engineId);
    expect(status.startedAt).toBe(new Date(h.clock.now()).toISOString());
    expect(sup.sampleTarget()).toEqual({ containerId: spec.id, pid: expect.any(Number) });
  });

  it("reports the image digest and published ports while running, and no ports once exited", async () => {
    const spec = makeContainerSpec({
      restartPolicy: { name: "no" },
      ports: [
        { containerPort: 80, protocol: "tcp" },
        { containerPort: 53, hostPort: 5353, protocol: "udp", hostIp: "127.0.0.1" },
      ],
    });
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    expect(h.reporter.lastStatus(spec.id)).toMatchObject({ imageDigest: null, publishedPorts: [] });
    await sup.ready;
    await flushAsync();
    const pulledDigest = h.engine.imageDigests.get(spec.image);
    expect(pulledDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(h.reporter.lastStatus(spec.id)).toMatchObject({
      state: "running",
      imageDigest: pulledDigest,
      publishedPorts: [
        { containerPort: 80, protocol: "tcp", hostIp: "0.0.0.0", hostPort: expect.any(Number) },
        { containerPort: 53, protocol: "udp", hostIp: "127.0.0.1", hostPort: 5353 },
      ],
    });
    await exit(h, sup, 0);
    expect(h.reporter.lastStatus(spec.id)).toMatchObject({
      state: "exited",
      imageDigest: pulledDigest,
      publishedPorts: [],
    });
  });

  it("reports no digest for an image that did not come from a registry", async () => {
    const spec = specWith({ name: "no" });
    await started(h, spec);
    expect(h.reporter.lastStatus(spec.id)?.imageDigest).toBeNull();
  });

  it("does not pull an image that is present", async () => {
    await started(h, specWith({ name: "no" }));
    expect(h.engine.callsTo("pullImage")).toHaveLength(0);
  });

  it("reports a failed pull and retries it with backoff", async () => {
    const spec = specWith({ name: "no" });
    h.engine.failNextPull(spec.image, "registry unreachable");
    h.engine.failNextPull(spec.image, "registry unreachable");
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    await sup.ready;
    expect(sup.state).toBe("failed");
    expect(h.reporter.lastStatus(spec.id)?.message).toMatch(/registry unreachable \(retrying in 1s\)/);
    await h.clock.advance(1 * SECOND);
    expect(sup.state).toBe("failed");
    expect(h.reporter.lastStatus(spec.id)?.message).toMatch(/retrying in 2s/);
    await h.clock.advance(2 * SECOND);
    expect(sup.state).toBe("running");
    expect(h.engine.callsTo("pullImage")).toHaveLength(3);
  });

  describe("restart policy", () => {
    it("no: an exited container stays exited", async () => {
      const sup = await started(h, specWith({ name: "no" }));
      await exit(h, sup, 1);
      await h.clock.advance(10 * MINUTE);
      expect(sup.state).toBe("exited");
      expect(h.engine.callsTo("restart")).toHaveLength(0);
      const status = h.reporter.lastStatus(sup.containerId)!;
      expect(status).toMatchObject({ state: "exited", exitCode: 1, oomKilled: false, restartCount: 0 });
      expect(status.message).toBe("restart policy is no");
      expect(status.finishedAt).not.toBeNull();
      expect(h.reporter.eventKinds(sup.containerId)).toContain("container.exit");
    });

    it("on-failure:2 restarts twice on failure, then gives up", async () => {
      const sup = await started(h, specWith({ name: "on-failure", maxRetries: 2 }));
      await exit(h, sup, 3);
      expect(sup.state).toBe("restarting");
      await h.clock.advance(1 * SECOND);
      expect(sup.state).toBe("running");
      await exit(h, sup, 3);
      await h.clock.advance(2 * SECOND);
      expect(sup.state).toBe("running");
      expect(sup.restartCount).toBe(2);
      await exit(h, sup, 3);
      await h.clock.advance(10 * MINUTE);
      expect(sup.state).toBe("exited");
      expect(h.engine.callsTo("restart")).toHaveLength(2);
      expect(h.reporter.lastStatus(sup.containerId)?.message).toMatch(/gave up after 2 restarts/);
      expect(h.reporter.eventKinds(sup.containerId).filter((k) => k === "container.restart")).toHaveLength(2);
    });

    it("on-failure does not restart a successful exit", async () => {
      const sup = await started(h, specWith({ name: "on-failure" }));
      await exit(h, sup, 0);
      await h.clock.advance(MINUTE);
      expect(sup.state).toBe("exited");
      expect(h.engine.callsTo("restart")).toHaveLength(0);
    });

    it("always restarts after any exit, with growing delays", async () => {
      const sup = await started(h, specWith({ name: "always" }));
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) {
        await exit(h, sup, 0);
        expect(sup.state).toBe("restarting");
        delays.push(h.clock.pendingDelays()[0]!);
        await h.clock.runNext();
        expect(sup.state).toBe("running");
      }
      expect(delays).toEqual([1, 2, 4, 8].map((s) => s * SECOND));
      expect(h.engine.callsTo("restart")).toHaveLength(4);
      expect(h.engine.callsTo("start")).toHaveLength(1);
      expect(h.reporter.lastStatus(sup.containerId)?.restartCount).toBe(4);
    });

    it("resets the backoff after a stable run", async () => {
      const sup = await started(h, specWith({ name: "always" }));
      for (let i = 0; i < 3; i++) {
        await exit(h, sup, 1);
        await h.clock.runNext();
      }
      await h.clock.advance(11 * MINUTE);
      await exit(h, sup, 1);
      expect(h.clock.pendingDelays()).toEqual([1 * SECOND]);
    });

    it("marks a crash loop after 5 quick restarts, emits it once and retries at the cap", async () => {
      const sup = await started(h, specWith({ name: "always" }));
      for (let i = 0; i < 5; i++) {
        await exit(h, sup, 1);
        expect(sup.state).toBe("restarting");
        await h.clock.runNext();
      }
      await exit(h, sup, 1);
      expect(sup.state).toBe("crashloop");
      expect(h.clock.pendingDelays()).toEqual([5 * MINUTE]);
      await h.clock.runNext();
      expect(sup.state).toBe("running");
      await exit(h, sup, 1);
      expect(sup.state).toBe("crashloop");
      expect(h.reporter.eventKinds(sup.containerId).filter((k) => k === "container.crashloop")).toHaveLength(
        1,
      );
    });

    it("recreates a container that vanished from the engine when the policy says so", async () => {
      const sup = await started(h, specWith({ name: "always" }));
      const oldId = sup.engineId!;
      await h.driver.containers.destroy(oldId);
      await flushAsync();
      expect(sup.state).toBe("restarting");
      await h.clock.runNext();
      await sup.ready;
      expect(sup.state).toBe("running");
      expect(sup.engineId).not.toBe(oldId);
      expect(h.engine.callsTo("start")).toHaveLength(2);
    });
  });

  describe("OOM kills", () => {
    it("takes the engine's word (Docker)", async () => {
      const sup = await started(h, specWith({ name: "no" }));
      await exit(h, sup, 137, true);
      expect(h.reporter.lastStatus(sup.containerId)).toMatchObject({ state: "exited", oomKilled: true });
      expect(h.reporter.eventKinds(sup.containerId)).toContain("container.oom");
    });

    it("takes the kernel log's word when the engine says nothing (Podman 4)", async () => {
      const sup = await started(h, specWith({ name: "no" }));
      h.oom.noteKernelOom(sup.engineId!, h.clock.now());
      await exit(h, sup, 137, false);
      expect(h.reporter.lastStatus(sup.containerId)?.oomKilled).toBe(true);
      const oomEvent = h.reporter.events.find((e) => e.kind === "container.oom");
      expect(oomEvent?.data?.sources).toBe("kernel-log");
    });

    it("takes a risen oom_kill counter's word", async () => {
      const sup = await started(h, specWith({ name: "no" }));
      h.oom.noteOomCounter(sup.containerId, 0);
      h.oom.noteOomCounter(sup.containerId, 1);
      await exit(h, sup, 137, false);
      expect(h.reporter.lastStatus(sup.containerId)?.oomKilled).toBe(true);
      expect(h.reporter.events.find((e) => e.kind === "container.oom")?.data?.sources).toBe("cgroup-counter");
    });

    it("reports no OOM when no source saw one", async () => {
      const sup = await started(h, specWith({ name: "no" }));
      h.oom.noteOomCounter(sup.containerId, 0);
      await exit(h, sup, 137, false);
      expect(h.reporter.lastStatus(sup.containerId)?.oomKilled).toBe(false);
      expect(h.reporter.eventKinds(sup.containerId)).not.toContain("container.oom");
    });

    it("waits briefly after a SIGKILL exit for the kernel log to name the OOM", async () => {
      h = harness({ oomSettleMs: 750 });
      const sup = await started(h, specWith({ name: "no" }));
      await exit(h, sup, 137, false);
      expect(h.reporter.lastStatus(sup.containerId)?.state).toBe("running");
      h.oom.noteKernelOom(sup.engineId!, h.clock.now());
      await h.clock.advance(750);
      expect(h.reporter.lastStatus(sup.containerId)).toMatchObject({ state: "exited", oomKilled: true });
    });

    it("does not carry an OOM of one run into the next", async () => {
      const sup = await started(h, specWith({ name: "always" }));
      await exit(h, sup, 137, true);
      await h.clock.runNext();
      expect(sup.state).toBe("running");
      expect(h.reporter.lastStatus(sup.containerId)?.oomKilled).toBe(false);
      await exit(h, sup, 1, false);
      expect(h.reporter.lastStatus(sup.containerId)?.oomKilled).toBe(false);
    });
  });

  it("remove stops and destroys the container and reports it removed", async () => {
    const sup = await started(h, specWith({ name: "always" }));
    const engineId = sup.engineId!;
    await sup.remove("no longer desired");
    expect(h.engine.callsTo("stop").map((c) => c.args)).toEqual([[engineId, 3]]);
    expect(h.engine.callsTo("destroy").map((c) => c.target)).toEqual([engineId]);
    expect(h.engine.containers.has(engineId)).toBe(false);
    expect(sup.state).toBe("removed");
    // The stop's exit must not count as a crash.
    await h.clock.advance(10 * MINUTE);
    expect(h.engine.callsTo("restart")).toHaveLength(0);
    expect(h.reporter.eventKinds(sup.containerId).slice(-2)).toEqual(["container.stop", "container.remove"]);
  });

  it("remove cancels a pending restart", async () => {
    const sup = await started(h, specWith({ name: "always" }));
    await exit(h, sup, 1);
    expect(h.clock.pendingCount).toBe(1);
    await sup.remove("gone");
    expect(h.clock.pendingCount).toBe(0);
    expect(h.engine.callsTo("stop")).toHaveLength(0);
    expect(h.engine.callsTo("destroy")).toHaveLength(1);
  });

  it("adopts a running container without starting it, reporting its real start time", async () => {
    const spec = specWith({ name: "always" });
    const earlier = new Date(h.clock.now() - 3 * 3600 * SECOND);
    const seeded = h.engine.seedContainer({ spec, hostId: "host-1", specHash: hashContainerSpec(spec) });
    seeded.startedAt = earlier;
    const [found] = await h.driver.containers.recover();
    h.engine.clearCalls();
    const sup = ContainerSupervisor.adopt(h.deps, found!, spec);
    await flushAsync();
    expect(sup.state).toBe("running");
    expect(h.engine.callsTo("start")).toHaveLength(0);
    expect(h.engine.callsTo("restart")).toHaveLength(0);
    expect(h.reporter.lastStatus(spec.id)?.startedAt).toBe(earlier.toISOString());
    expect(h.reporter.eventKinds(spec.id)).toEqual(["container.adopt"]);
    await exit(h, sup, 1);
    expect(sup.state).toBe("restarting");
  });

  it("holds the restart policy of an adopted exited container until its spec is known", async () => {
    const spec = specWith({ name: "always" });
    h.engine.seedContainer({
      spec,
      hostId: "host-1",
      specHash: hashContainerSpec(spec),
      running: false,
      exitCode: 2,
    });
    const [found] = await h.driver.containers.recover();
    const sup = ContainerSupervisor.adopt(h.deps, found!, null);
    await flushAsync();
    expect(sup.state).toBe("exited");
    expect(h.clock.pendingCount).toBe(0);
    sup.provideSpec(spec);
    expect(sup.state).toBe("restarting");
    await h.clock.runNext();
    expect(sup.state).toBe("running");
    expect(h.engine.callsTo("restart")).toHaveLength(1);
  });

  it("detach leaves the container running and touches nothing", async () => {
    const sup = await started(h, specWith({ name: "always" }));
    h.engine.clearCalls();
    sup.detach();
    await h.clock.advance(MINUTE);
    expect(h.engine.running()).toHaveLength(1);
    expect(h.engine.calls).toHaveLength(0);
  });

  it("a stop while the image is still being pulled abandons the launch and creates nothing", async () => {
    const spec = specWith({ name: "always" });
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    await sup.stop();
    await flushAsync();
    expect(sup.state).toBe("stopped");
    expect(h.engine.callsTo("start")).toHaveLength(0);
    expect(h.engine.containers.size).toBe(0);
    expect(h.clock.pendingCount).toBe(0);

    // Started later, it is created then.
    await sup.start();
    await flushAsync();
    expect(sup.state).toBe("running");
    expect(h.engine.running().map((c) => c.containerId)).toEqual([spec.id]);
  });

  it("a stop during a restart stops what the restart started", async () => {
    const sup = await started(h, specWith({ name: "always" }));
    const engineId = sup.engineId!;
    await exit(h, sup, 1);
    expect(sup.state).toBe("restarting");
    // Hold the engine's answer to the restart, so the stop arrives while it is in flight.
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const restart = h.driver.containers.restart.bind(h.driver.containers);
    h.driver.containers.restart = async (id) => {
      await gate;
      return restart(id);
    };
    await h.clock.runNext();
    expect(h.engine.callsTo("restart")).toHaveLength(0);
    const stopping = sup.stop();
    release();
    await stopping;
    await flushAsync();
    expect(h.engine.callsTo("restart")).toHaveLength(1);
    expect(h.engine.callsTo("stop").map((c) => c.target)).toEqual([engineId]);
    expect(h.engine.containers.get(engineId)?.running).toBe(false);
    expect(sup.state).toBe("stopped");
    expect(h.reporter.statesOf(sup.containerId).at(-2)).toBe("restarting");
    expect(sup.sampleTarget()).toBeNull();
    await h.clock.advance(10 * MINUTE);
    expect(h.engine.callsTo("restart")).toHaveLength(1);
  });
});

describe("ContainerSupervisor bind mounts", () => {
  let h: Harness;
  /** Symlinks by path as the host's filesystem resolves them; anything else is its own real path. */
  let links: Map<string, string>;
  let missing: Set<string>;

  beforeEach(() => {
    h = harness();
    links = new Map();
    missing = new Set();
    h.deps.bindMounts = new BindMountPolicy(async (path) => {
      if (missing.has(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return links.get(path) ?? path;
    });
    h.deps.bindMounts.update(["/srv/data"]);
  });

  function bindSpec(source: string): TContainerSpec {
    const spec = makeContainerSpec({
      restartPolicy: { name: "always" },
      mounts: [{ type: "bind", source, target: "/data", readOnly: false }],
    });
    h.engine.images.add(spec.image);
    return spec;
  }

  function startedSources(): string[] {
    return h.engine
      .callsTo("start")
      .flatMap((call) =>
        (call.args[0] as StartOptions).spec.mounts.flatMap((m) => (m.type === "bind" ? [m.source] : [])),
      );
  }

  it("refuses a source whose real path leaves the allowed prefixes, naming that path, creating nothing, and retries", async () => {
    links.set("/srv/data/r", "/");
    const spec = bindSpec("/srv/data/r");
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    await sup.ready;
    expect(h.engine.callsTo("start")).toHaveLength(0);
    expect(h.reporter.lastStatus(spec.id)).toMatchObject({
      state: "failed",
      engineId: null,
      message:
        "bind mount of /srv/data/r refused: it resolves to /, outside the allowed host paths (/srv/data) (retrying in 1s)",
    });
    expect(h.reporter.eventKinds(spec.id)).toEqual(["agent.error"]);

    // The operator fixes the link; the next attempt creates the container with the real path.
    links.set("/srv/data/r", "/srv/data/real");
    await h.clock.advance(1 * SECOND);
    expect(sup.state).toBe("running");
    expect(startedSources()).toEqual(["/srv/data/real"]);
  });

  it("creates the container with the real path of a source that stays inside", async () => {
    links.set("/srv/data/current", "/srv/data/releases/7");
    const spec = bindSpec("/srv/data/current");
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    await sup.ready;
    expect(sup.state).toBe("running");
    expect(startedSources()).toEqual(["/srv/data/releases/7"]);
  });

  it("refuses every bind mount while no host paths are allowed, and a missing source", async () => {
    h.deps.bindMounts.update([]);
    const none = bindSpec("/srv/data/app");
    await ContainerSupervisor.create(h.deps, none, hashContainerSpec(none)).ready;
    expect(h.reporter.lastStatus(none.id)?.message).toBe(
      "bind mount of /srv/data/app refused: no host paths are allowed for bind mounts (retrying in 1s)",
    );

    h.deps.bindMounts.update(["/srv/data"]);
    missing.add("/srv/data/missing");
    const gone = bindSpec("/srv/data/missing");
    await ContainerSupervisor.create(h.deps, gone, hashContainerSpec(gone)).ready;
    expect(h.reporter.lastStatus(gone.id)?.message).toBe(
      "bind mount of /srv/data/missing refused: bind source path does not exist (retrying in 1s)",
    );
    expect(h.engine.callsTo("start")).toHaveLength(0);
  });

  it("removes instead of restarting a container whose source became a symlink, then refuses it afresh", async () => {
    const spec = bindSpec("/srv/data/app");
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    await sup.ready;
    const engineId = sup.engineId!;
    links.set("/srv/data/app", "/");
    h.engine.failNext(
      "restart",
      new DriverError("bind-mount-refused", "bind mount of /srv/data/app refused: it now resolves to /"),
    );
    await exit(h, sup, 1);
    await h.clock.runNext();
    expect(h.engine.callsTo("restart")).toHaveLength(1);
    expect(h.engine.callsTo("destroy").map((c) => c.target)).toEqual([engineId]);
    expect(h.engine.containers.has(engineId)).toBe(false);
    expect(h.engine.callsTo("start")).toHaveLength(1);
    expect(h.reporter.lastStatus(spec.id)).toMatchObject({
      state: "failed",
      engineId: null,
      message:
        "bind mount of /srv/data/app refused: it resolves to /, outside the allowed host paths (/srv/data) (retrying in 1s)",
    });
    expect(h.reporter.eventKinds(spec.id)).toContain("agent.warning");
  });

  it("after a stop, starting again checks the held source the same way", async () => {
    const spec = bindSpec("/srv/data/app");
    const sup = ContainerSupervisor.create(h.deps, spec, hashContainerSpec(spec));
    await sup.ready;
    const engineId = sup.engineId!;
    await sup.stop();
    links.set("/srv/data/app", "/srv/data/other");
    h.engine.failNext("restart", new DriverError("bind-mount-refused", "it now resolves to /srv/data/other"));
    await sup.start();
    expect(h.engine.containers.has(engineId)).toBe(false);
    expect(sup.state).toBe("running");
    expect(sup.engineId).not.toBe(engineId);
    expect(startedSources()).toEqual(["/srv/data/app", "/srv/data/other"]);
  });
});
