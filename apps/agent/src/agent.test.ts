// The whole agent against an in-process central (real WebSocket on loopback)
// and the fake driver: join, reconcile, ack, restart without restarting
// containers, metrics, kernel OOMs, operations, clean shutdown.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import {
  makeContainerSample,
  makeContainerSpec,
  makeHostSample,
} from "@fleet/shared/protocol/test-factories";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Agent, type AgentOptions } from "./agent";
import type { KernelOom, KernelOomSource, MetricsSource, SampleTarget } from "./metrics-source";
import { FakeDriver } from "./runtime/fake/fake-driver";
import { FakeEngine } from "./runtime/fake/fake-engine";
import { StateStore } from "./state-store";
import { FakeCentral } from "./testing/fake-central";
import { silentLogger } from "./testing/silent-logger";

let central: FakeCentral;
let stateDir: string;
let engine: FakeEngine;
let driver: FakeDriver;
const agents: Agent[] = [];

beforeEach(async () => {
  central = new FakeCentral({
    joinTokens: ["jt-agent"],
    hostId: "host_7",
    settings: { metricsIntervalMs: 100, heartbeatIntervalMs: 100 },
  });
  await central.start();
  stateDir = await mkdtemp(join(tmpdir(), "fleet-agent-"));
  engine = new FakeEngine();
  driver = new FakeDriver(engine);
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  await central.stop();
  await rm(stateDir, { recursive: true, force: true });
});

class FakeMetrics implements MetricsSource {
  readonly sweeps: SampleTarget[][] = [];
  oomKills = new Map<string, number>();
  async sample(targets: readonly SampleTarget[]) {
    this.sweeps.push([...targets]);
    return {
      containers: targets.map((t) =>
        makeContainerSample({
          containerId: t.containerId,
          ts: Date.now(),
          oomKills: this.oomKills.get(t.containerId) ?? 0,
        }),
      ),
      host: makeHostSample({ ts: Date.now(), containers: targets.length }),
    };
  }
}

class FakeKernelOoms implements KernelOomSource {
  private listener: ((oom: KernelOom) => void) | null = null;
  async start(onOom: (oom: KernelOom) => void) {
    this.listener = onOom;
    return true;
  }
  async stop() {
    this.listener = null;
  }
  emit(engineId: string) {
    this.listener?.({ engineId, ts: Date.now() });
  }
}

function startAgent(overrides: Partial<AgentOptions> = {}): Agent {
  const agent = new Agent({
    config: {
      serverUrl: central.url,
      joinToken: "jt-agent",
      name: "edge-1",
      labels: { zone: "a" },
      metricsIntervalMs: 5000,
      reserveCpuMillis: 100,
      reserveMemoryBytes: 256 * 1024 * 1024,
    },
    driver,
    store: new StateStore(stateDir),
    log: silentLogger,
    agentVersion: "9.9.9",
    restartTuning: { initialBackoffMs: 20, oomSettleMs: 0 },
    linkTuning: { reconnectInitialMs: 20, reconnectMaxMs: 100 },
    ...overrides,
  });
  agents.push(agent);
  return agent;
}

function desired(generation: number, containers: TContainerSpec[]) {
  return { type: "desired" as const, generation, containers };
}

function statusOf(containerId: string) {
  return central
    .framesOf("container.status")
    .filter((s) => s.containerId === containerId)
    .at(-1);
}

describe("Agent", () => {
  it("joins, runs the desired set, acks it and reports statuses", async () => {
    const agent = startAgent();
    await agent.start();
    await central.waitFor("welcome", () => agent.isConnected);
    const hello = central.framesOf("hello")[0]!;
    expect(hello).toMatchObject({
      name: "edge-1",
      agentVersion: "9.9.9",
      auth: { kind: "join", joinToken: "jt-agent" },
      facts: { cpus: 4, engine: { name: "docker" }, labels: { zone: "a" }, agentVersion: "9.9.9" },
      reserve: { cpuMillis: 100, memoryBytes: 256 * 1024 * 1024 },
    });
    expect(await new StateStore(stateDir).loadCredential()).toMatchObject({
      hostId: "host_7",
      credential: "cred-1",
    });

    const a = makeContainerSpec({ image: "127.0.0.1:5000/app:1" });
    const b = makeContainerSpec({ image: "127.0.0.1:5000/app:1" });
    central.send(desired(3, [a, b]));
    await central.waitFor("ack", () => central.framesOf("ack").length === 1);
    expect(central.framesOf("ack")[0]).toEqual({ type: "ack", generation: 3 });
    expect(
      engine
        .running()
        .map((c) => c.containerId)
        .sort(),
    ).toEqual([a.id, b.id].sort());
    expect(statusOf(a.id)).toMatchObject({ state: "running", engineId: expect.any(String) });
    const kinds = central.framesOf("event").map((e) => e.kind);
    expect(kinds).toContain("image.pulled");
    expect(kinds).toContain("container.start");
    await central.waitFor("heartbeat with the generation", () =>
      central.framesOf("heartbeat").some((h) => h.ackedGeneration === 3 && h.containers === 2),
    );
  });

  it("restarts without restarting a container: adopts, resends statuses, removes nothing before the snapshot", async () => {
    const first = startAgent();
    await first.start();
    await central.waitFor("welcome", () => first.isConnected);
    const a = makeContainerSpec({ restartPolicy: { name: "always" } });
    const b = makeContainerSpec();
    engine.images.add(a.image);
    central.send(desired(1, [a, b]));
    await central.waitFor("ack", () => central.framesOf("ack").length === 1);
    const startedAt = statusOf(a.id)!.startedAt;
    await first.stop();
    expect(engine.running()).toHaveLength(2);
    expect(engine.callsTo("stop")).toHaveLength(0);

    engine.clearCalls();
    central.frames.length = 0;
    const second = startAgent({ config: { ...firstConfig(), joinToken: null } });
    await second.start();
    await central.waitFor("welcome", () => second.isConnected);
    expect(central.hellos.at(-1)).toEqual({ kind: "credential", hostId: "host_7", credential: "cred-1" });
    await central.waitFor(
      "statuses resent",
      () => statusOf(a.id) !== undefined && statusOf(b.id) !== undefined,
    );
    expect(statusOf(a.id)).toMatchObject({ state: "running", startedAt });
    expect(central.framesOf("event").filter((e) => e.kind === "container.adopt")).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.callsTo("start")).toHaveLength(0);
    expect(engine.callsTo("restart")).toHaveLength(0);
    expect(engine.callsTo("stop")).toHaveLength(0);
    expect(engine.callsTo("destroy")).toHaveLength(0);

    central.send(desired(2, [a]));
    await central.waitFor("ack 2", () => central.framesOf("ack").some((f) => f.generation === 2));
    expect(engine.running().map((c) => c.containerId)).toEqual([a.id]);
    expect(engine.callsTo("start")).toHaveLength(0);

    // The adopted container is supervised with its restart policy.
    engine.exit(engine.running()[0]!.engineId, { exitCode: 1 });
    await central.waitFor(
      "restarted",
      () => engine.callsTo("restart").length === 1 && statusOf(a.id)?.state === "running",
    );
    expect(statusOf(a.id)?.restartCount).toBe(1);
  });

  it("keeps a container desired stopped across an agent restart, then starts the same one", async () => {
    const first = startAgent();
    await first.start();
    await central.waitFor("welcome", () => first.isConnected);
    const a = makeContainerSpec({ restartPolicy: { name: "always" } });
    engine.images.add(a.image);
    central.send(desired(1, [a]));
    await central.waitFor("ack 1", () => central.framesOf("ack").some((f) => f.generation === 1));
    const engineId = engine.running()[0]!.engineId;

    central.send({ type: "desired", generation: 2, containers: [{ ...a, runState: "stopped" }] });
    await central.waitFor("ack 2", () => central.framesOf("ack").some((f) => f.generation === 2));
    expect(statusOf(a.id)).toMatchObject({ state: "stopped", engineId });
    expect(engine.containers.get(engineId)?.running).toBe(false);
    await first.stop();

    engine.clearCalls();
    central.frames.length = 0;
    const second = startAgent({ config: { ...firstConfig(), joinToken: null } });
    await second.start();
    await central.waitFor("welcome", () => second.isConnected);
    await central.waitFor("status resent", () => statusOf(a.id) !== undefined);
    // The kept snapshot says stopped: its restart policy does not bring it back.
    expect(statusOf(a.id)).toMatchObject({ state: "stopped", engineId });
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.callsTo("restart")).toHaveLength(0);
    expect(engine.callsTo("destroy")).toHaveLength(0);

    central.send(desired(3, [a]));
    await central.waitFor("ack 3", () => central.framesOf("ack").some((f) => f.generation === 3));
    expect(engine.callsTo("restart").map((c) => c.target)).toEqual([engineId]);
    expect(engine.running().map((c) => c.engineId)).toEqual([engineId]);
    expect(statusOf(a.id)).toMatchObject({ state: "running", engineId });
  });

  it("streams metrics of running containers and counts OOMs from the kernel log", async () => {
    const metrics = new FakeMetrics();
    const kernel = new FakeKernelOoms();
    const agent = startAgent({ metrics, kernelOoms: kernel });
    await agent.start();
    await central.waitFor("welcome", () => agent.isConnected);
    const a = makeContainerSpec({ restartPolicy: { name: "no" } });
    engine.images.add(a.image);
    central.send(desired(1, [a]));
    await central.waitFor("ack", () => central.framesOf("ack").length === 1);
    await central.waitFor("metrics with the container", () =>
      central.framesOf("metrics").some((m) => m.containers.some((c) => c.containerId === a.id)),
    );
    const batch = central.framesOf("metrics").find((m) => m.containers.length > 0)!;
    expect(batch.host).not.toBeNull();
    expect(batch.droppedSamples).toBe(0);

    // Podman 4: the engine says nothing, the kernel log names the memcg.
    const engineId = engine.running()[0]!.engineId;
    kernel.emit(engineId);
    engine.exit(engineId, { exitCode: 137, oomKilled: false });
    await central.waitFor("exit status", () => statusOf(a.id)?.state === "exited");
    expect(statusOf(a.id)).toMatchObject({ exitCode: 137, oomKilled: true });
    expect(central.framesOf("event").some((e) => e.kind === "container.oom" && e.containerId === a.id)).toBe(
      true,
    );
  });

  it("counts an OOM from a risen cgroup oom_kill counter", async () => {
    const metrics = new FakeMetrics();
    const agent = startAgent({ metrics });
    await agent.start();
    await central.waitFor("welcome", () => agent.isConnected);
    const a = makeContainerSpec({ restartPolicy: { name: "no" } });
    engine.images.add(a.image);
    central.send(desired(1, [a]));
    await central.waitFor("ack", () => central.framesOf("ack").length === 1);
    metrics.oomKills.set(a.id, 1);
    const sweepsBefore = metrics.sweeps.length;
    await central.waitFor("a sweep seeing the counter", () => metrics.sweeps.length > sweepsBefore + 1);
    engine.exit(engine.running()[0]!.engineId, { exitCode: 137, oomKilled: false });
    await central.waitFor("exit status", () => statusOf(a.id)?.state === "exited");
    expect(statusOf(a.id)?.oomKilled).toBe(true);
  });

  it("answers operations from the central", async () => {
    const agent = startAgent();
    await agent.start();
    await central.waitFor("welcome", () => agent.isConnected);
    const a = makeContainerSpec();
    engine.images.add(a.image);
    central.send(desired(1, [a]));
    await central.waitFor("ack", () => central.framesOf("ack").length === 1);
    engine.writeLog(engine.running()[0]!.engineId, "stdout", "hello from c");
    central.send({
      type: "op.request",
      id: "op-logs",
      timeoutMs: 5000,
      op: { kind: "logs", containerId: a.id, tail: 10, follow: false, stdout: true, stderr: true },
    });
    await central.waitFor("result", () => central.framesOf("op.result").length === 1);
    expect(central.framesOf("op.result")[0]).toMatchObject({
      id: "op-logs",
      ok: true,
      result: { lines: [{ stream: "stdout", line: "hello from c" }] },
    });
  });

  it("stops cleanly: closes the link and leaves containers running", async () => {
    const agent = startAgent();
    await agent.start();
    await central.waitFor("welcome", () => agent.isConnected);
    const a = makeContainerSpec();
    engine.images.add(a.image);
    central.send(desired(1, [a]));
    await central.waitFor("ack", () => central.framesOf("ack").length === 1);
    engine.clearCalls();
    await agent.stop();
    await agent.done;
    await central.waitFor("closed", () => central.connectionCount === 0);
    expect(engine.running()).toHaveLength(1);
    expect(engine.calls.filter((c) => c.method !== "events")).toEqual([]);
  });

  it("refuses to start without a credential or a join token", async () => {
    const agent = startAgent({ config: { ...firstConfig(), joinToken: null } });
    await expect(agent.start()).rejects.toThrow(/no host credential in .*credential.json and no join token/);
  });
});

function firstConfig(): AgentOptions["config"] {
  return {
    serverUrl: central.url,
    joinToken: "jt-agent",
    name: "edge-1",
    labels: { zone: "a" },
    metricsIntervalMs: 5000,
    reserveCpuMillis: 100,
    reserveMemoryBytes: 256 * 1024 * 1024,
  };
}
