// The agent on real engines (Docker and Podman, each private to this file),
// real cgroup files and the real kernel log, talking to an in-process central:
// containers run with their limits, metrics come from the kernel, an agent
// restart adopts containers without restarting them, an OOM kill is reported
// alike on both engines, and the `fleet-agent` process starts and stops cleanly.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { describeEachEngine } from "@fleet/test/harness/engines";
import { buildTestImage, TEST_IMAGE_TAG } from "@fleet/test/harness/test-image";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { Agent } from "./agent";
import { cgroupMetricsSource, kmsgOomSource } from "./metrics-source";
import { FLEET_LABELS } from "./runtime/driver";
import { EngineDriver } from "./runtime/engine/engine-driver";
import { StateStore } from "./state-store";
import type { RestartTuning } from "./supervisor/restart-policy";
import { FakeCentral } from "./testing/fake-central";
import { silentLogger } from "./testing/silent-logger";

const MIB = 1024 * 1024;
const binPath = fileURLToPath(new URL("../bin/fleet-agent.js", import.meta.url));

function spec(overrides: Partial<TContainerSpec>): TContainerSpec {
  return makeContainerSpec({
    image: TEST_IMAGE_TAG,
    command: ["sleep", "3600"],
    env: {},
    labels: {},
    resources: {
      cpuRequestMillis: 100,
      cpuLimitMillis: 500,
      memoryRequestBytes: 16 * MIB,
      memoryLimitBytes: 64 * MIB,
      pidsRequest: 10,
      pidsLimit: 100,
    },
    restartPolicy: { name: "always" },
    ...overrides,
  });
}

describeEachEngine("agent on a real engine", ({ kind, engine }) => {
  let central: FakeCentral;
  let stateDir: string;
  const agents: Agent[] = [];
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    await buildTestImage(engine());
  });

  beforeEach(async () => {
    central = new FakeCentral({
      joinTokens: ["jt-real"],
      hostId: `host_${kind}`,
      settings: { metricsIntervalMs: 300, heartbeatIntervalMs: 500 },
    });
    await central.start();
    stateDir = await mkdtemp(join(tmpdir(), "fleet-agent-it-"));
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    if (child && child.exitCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    child = null;
    await central.stop();
    await rm(stateDir, { recursive: true, force: true });
    for (const info of await engine().docker.listContainers({ all: true })) {
      await engine().docker.getContainer(info.Id).remove({ force: true });
    }
  });

  async function startAgent(
    joinToken: string | null,
    restartTuning?: Partial<RestartTuning>,
  ): Promise<Agent> {
    const e = engine();
    const driver = await EngineDriver.connect({ socketPath: e.socketPath, cgroupParent: e.cgroupParent });
    const fingerprint = await driver.containers.fingerprint();
    const agent = new Agent({
      config: {
        serverUrl: central.url,
        joinToken,
        name: `it-${kind}`,
        labels: {},
        metricsIntervalMs: 300,
        reserveCpuMillis: 0,
        reserveMemoryBytes: 0,
      },
      driver,
      store: new StateStore(stateDir),
      log: silentLogger,
      agentVersion: "0.0.0-it",
      metrics: cgroupMetricsSource({ diskPath: fingerprint.dataRoot, log: silentLogger }),
      kernelOoms: kmsgOomSource({ log: silentLogger }),
      linkTuning: { reconnectInitialMs: 50, reconnectMaxMs: 200 },
      ...(restartTuning ? { restartTuning } : {}),
    });
    agents.push(agent);
    await agent.start();
    await central.waitFor("welcome", () => agent.isConnected, 20_000);
    return agent;
  }

  function statusOf(containerId: string) {
    return central
      .framesOf("container.status")
      .filter((s) => s.containerId === containerId)
      .at(-1);
  }

  it("runs desired containers with their limits, streams cgroup metrics, and survives an agent restart", async () => {
    const first = await startAgent("jt-real");
    const web = spec({});
    central.send({ type: "desired", generation: 1, containers: [web] });
    await central.waitFor("ack", () => central.framesOf("ack").length === 1, 60_000);
    expect(statusOf(web.id)).toMatchObject({ state: "running" });
    const engineId = statusOf(web.id)!.engineId!;
    const inspected = await engine().docker.getContainer(engineId).inspect();
    expect(inspected.HostConfig.Memory).toBe(64 * MIB);
    expect(inspected.Config.Labels[FLEET_LABELS.hostId]).toBe(`host_${kind}`);

    await central.waitFor(
      "a metrics sample of the container",
      () => central.framesOf("metrics").some((m) => m.containers.some((c) => c.containerId === web.id)),
      20_000,
    );
    const sample = central
      .framesOf("metrics")
      .flatMap((m) => m.containers)
      .find((c) => c.containerId === web.id)!;
    expect(sample.memoryLimitBytes).toBe(64 * MIB);
    expect(sample.pidsCurrent).toBeGreaterThanOrEqual(1);
    expect(sample.memoryUsageBytes).toBeGreaterThan(0);

    const startedAt = statusOf(web.id)!.startedAt;
    await first.stop();
    expect((await engine().docker.getContainer(engineId).inspect()).State.Running).toBe(true);

    central.frames.length = 0;
    await startAgent(null);
    await central.waitFor("status after restart", () => statusOf(web.id) !== undefined, 20_000);
    expect(statusOf(web.id)).toMatchObject({ state: "running", engineId, startedAt });
    const after = await engine().docker.getContainer(engineId).inspect();
    expect(after.State.StartedAt).toBe(inspected.State.StartedAt);
    expect(after.RestartCount).toBe(0);

    central.send({ type: "desired", generation: 2, containers: [] });
    await central.waitFor("ack 2", () => central.framesOf("ack").some((a) => a.generation === 2), 60_000);
    expect(await engine().docker.listContainers({ all: true })).toHaveLength(0);
  });

  it("sends the health verdict in status frames and events; after an agent restart the check starts again from starting", async () => {
    const first = await startAgent("jt-real");
    const web = spec({
      command: ["nc", "-ll", "-p", "9000", "-e", "true"],
      // A one-second interval leaves the resent status after the restart time to show `starting`.
      healthCheck: {
        test: { type: "tcp", port: 9000 },
        intervalMs: 1000,
        timeoutMs: 3000,
        retries: 2,
        startPeriodMs: 0,
        restartOnUnhealthy: false,
      },
    });
    central.send({ type: "desired", generation: 1, containers: [web] });
    await central.waitFor("healthy", () => statusOf(web.id)?.health === "healthy", 60_000);
    const healthEvents = () =>
      central
        .framesOf("event")
        .filter((e) => e.kind === "container.health" && e.containerId === web.id)
        .map((e) => e.data?.health);
    expect(healthEvents()).toEqual(["starting", "healthy"]);
    expect(statusOf(web.id)?.healthMessage).toBeNull();

    await first.stop();
    central.frames.length = 0;
    await startAgent(null);
    await central.waitFor("healthy again", () => statusOf(web.id)?.health === "healthy", 60_000);
    const verdicts = central
      .framesOf("container.status")
      .filter((f) => f.containerId === web.id)
      .map((f) => f.health);
    expect(verdicts.indexOf("starting")).toBeGreaterThanOrEqual(0);
    expect(verdicts.indexOf("starting")).toBeLessThan(verdicts.indexOf("healthy"));
  });

  it("reports an OOM kill as oomKilled on this engine too", async () => {
    await startAgent("jt-real");
    const hog = spec({
      command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
      resources: {
        cpuRequestMillis: 100,
        cpuLimitMillis: null,
        memoryRequestBytes: 8 * MIB,
        memoryLimitBytes: 8 * MIB,
        pidsRequest: 1,
        pidsLimit: null,
      },
      restartPolicy: { name: "no" },
    });
    central.send({ type: "desired", generation: 1, containers: [hog] });
    await central.waitFor("exit", () => statusOf(hog.id)?.state === "exited", 60_000);
    expect(statusOf(hog.id)).toMatchObject({ state: "exited", exitCode: 137, oomKilled: true });
    const oom = central.framesOf("event").find((e) => e.kind === "container.oom" && e.containerId === hog.id);
    expect(oom).toBeDefined();
  });

  it("measures a busy loop limited to 0.2 CPU at about 0.2 cores, with throttling counted", async () => {
    await startAgent("jt-real");
    const busy = spec({
      command: ["sh", "-c", "while :; do :; done"],
      resources: {
        cpuRequestMillis: 200,
        cpuLimitMillis: 200,
        memoryRequestBytes: 8 * MIB,
        memoryLimitBytes: 32 * MIB,
        pidsRequest: 1,
        pidsLimit: 10,
      },
    });
    central.send({ type: "desired", generation: 1, containers: [busy] });
    await central.waitFor("running", () => statusOf(busy.id)?.state === "running", 60_000);
    const samplesOfBusy = () =>
      central
        .framesOf("metrics")
        .flatMap((m) => m.containers)
        .filter((c) => c.containerId === busy.id);
    // Skip the first samples (the loop is still starting), then average over ~3 s.
    await central.waitFor("warm samples", () => samplesOfBusy().length >= 3, 20_000);
    const from = samplesOfBusy().at(-1)!;
    await new Promise((r) => setTimeout(r, 3000));
    const to = samplesOfBusy().at(-1)!;
    const cores = (to.cpuUsageNs - from.cpuUsageNs) / ((to.ts - from.ts) * 1e6);
    expect(cores).toBeGreaterThan(0.12);
    expect(cores).toBeLessThan(0.23);
    expect(to.cpuThrottledPeriods).toBeGreaterThan(from.cpuThrottledPeriods);
    expect(to.cpuThrottledNs).toBeGreaterThan(from.cpuThrottledNs);
  });

  it("restarts a failing container with a growing backoff, then reports it as crash-looping", async () => {
    await startAgent("jt-real", { initialBackoffMs: 1000, maxBackoffMs: 10_000, crashloopRestarts: 3 });
    const failing = spec({ command: ["sh", "-c", "exit 3"], restartPolicy: { name: "on-failure" } });
    central.send({ type: "desired", generation: 1, containers: [failing] });
    const startsOf = () =>
      central.framesOf("event").filter((e) => e.kind === "container.start" && e.containerId === failing.id);
    await central.waitFor("four starts", () => startsOf().length >= 4, 60_000);
    const times = startsOf().map((e) => e.ts);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Backoff 1 → 2 → 4 s; each gap also carries the difference between two engine start
    // times (above a second on a loaded Podman: a 400 ms start made this flaky), so compare
    // with margin rather than exactly.
    expect(gaps.at(-1)!).toBeGreaterThan(3000);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]! * 1.5);
    await central.waitFor(
      "crashloop",
      () =>
        central
          .framesOf("event")
          .some((e) => e.kind === "container.crashloop" && e.containerId === failing.id),
      20_000,
    );
    expect(statusOf(failing.id)).toMatchObject({ exitCode: 3 });
  });

  it("runs as the fleet-agent process and leaves containers running on SIGTERM", async () => {
    const e = engine();
    child = spawn(
      process.execPath,
      [
        binPath,
        "--server",
        central.url,
        "--join-token",
        "jt-real",
        "--engine",
        e.dockerHost,
        "--cgroup-parent",
        e.cgroupParent,
        "--state-dir",
        stateDir,
        "--name",
        `proc-${kind}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"], cwd: tmpdir() },
    );
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await central
      .waitFor("hello from the process", () => central.framesOf("hello").length === 1, 30_000)
      .catch((error: Error) => {
        throw new Error(`${error.message}\n${stdout}\n${stderr}`);
      });
    const web = spec({});
    central.send({ type: "desired", generation: 1, containers: [web] });
    await central.waitFor("ack", () => central.framesOf("ack").length === 1, 60_000);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { msg: string });
    expect(lines.map((l) => l.msg)).toContain("shutting down; containers keep running");
    const running = await e.docker.listContainers();
    expect(running.map((c) => c.Labels[FLEET_LABELS.containerId])).toEqual([web.id]);
    expect(await new StateStore(stateDir).loadCredential()).toMatchObject({ hostId: `host_${kind}` });
  });
});
