// The link against a real WebSocket server in this process (FakeCentral), on
// loopback with short intervals: no external service, so a unit test.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TAgentAuth } from "@fleet/shared/protocol/agent-to-server";
import type { TServerFrame } from "@fleet/shared/protocol/server-to-agent";
import {
  makeContainerSample,
  makeHostFacts,
  makeHostReserve,
  makeHostSample,
  makeOpRequest,
} from "@fleet/shared/protocol/test-factories";
import { AGENT_CLOSE, PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateStore } from "../state-store";
import { FakeCentral } from "../testing/fake-central";
import { silentLogger } from "../testing/silent-logger";
import { AgentLink, type AgentLinkOptions, agentSocketUrl, JoinRejectedError } from "./agent-link";

let central: FakeCentral;
let stateDir: string;
const links: AgentLink[] = [];

beforeEach(async () => {
  central = new FakeCentral({ joinTokens: ["jt-1"] });
  await central.start();
  stateDir = await mkdtemp(join(tmpdir(), "fleet-link-"));
});

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.stop()));
  await central.stop();
  await rm(stateDir, { recursive: true, force: true });
});

interface TestAgent {
  link: AgentLink;
  store: StateStore;
  received: TServerFrame[];
  disconnects: number;
}

function startLink(overrides: Partial<AgentLinkOptions> = {}, joinToken: string | null = "jt-1"): TestAgent {
  const store = new StateStore(stateDir);
  let credential: { hostId: string; credential: string } | null = null;
  const agent: TestAgent = { link: null as unknown as AgentLink, store, received: [], disconnects: 0 };
  agent.link = new AgentLink({
    serverUrl: central.url,
    auth: (): TAgentAuth =>
      credential
        ? { kind: "credential", ...credential }
        : joinToken
          ? { kind: "join", joinToken }
          : { kind: "credential", hostId: "nobody", credential: "none" },
    hello: async () => ({
      name: "test-host",
      facts: makeHostFacts(),
      reserve: makeHostReserve(),
      agentVersion: "0.1.0",
    }),
    onWelcome: async (welcome) => {
      if (welcome.credential) {
        credential = { hostId: welcome.hostId, credential: welcome.credential };
        await store.saveCredential({ serverUrl: central.url, ...credential });
      }
    },
    onFrame: (frame) => agent.received.push(frame),
    onDisconnect: () => {
      agent.disconnects++;
    },
    heartbeat: () => ({ containers: 2, ackedGeneration: 4 }),
    log: silentLogger,
    tuning: {
      reconnectInitialMs: 20,
      reconnectMaxMs: 200,
      stableConnectionMs: 500,
      welcomeTimeoutMs: 1000,
      drainIntervalMs: 20,
      drainBatchesPerTick: 2,
    },
    ...overrides,
  });
  links.push(agent.link);
  agent.link.start();
  return agent;
}

function batch(seq: number, containers = 2) {
  return {
    containers: Array.from({ length: containers }, (_, i) =>
      makeContainerSample({ containerId: `c-${i}`, ts: seq }),
    ),
    host: makeHostSample({ ts: seq }),
  };
}

describe("agentSocketUrl", () => {
  it("maps http to ws and https to wss, appending /agent", () => {
    expect(agentSocketUrl("http://127.0.0.1:3000")).toBe("ws://127.0.0.1:3000/agent");
    expect(agentSocketUrl("https://fleet.example/base/")).toBe("wss://fleet.example/base/agent");
    expect(agentSocketUrl("wss://fleet.example")).toBe("wss://fleet.example/agent");
  });
});

describe("AgentLink", () => {
  it("joins with the token, stores the credential and uses it on the next connection", async () => {
    const agent = startLink();
    await central.waitFor("welcome", () => agent.link.isReady);
    expect(central.hellos).toEqual([{ kind: "join", joinToken: "jt-1" }]);
    const stored = await agent.store.loadCredential();
    expect(stored).toEqual({
      serverUrl: central.url,
      hostId: "host_1",
      credential: "cred-1",
      serverPin: null,
    });
    const hello = central.framesOf("hello")[0]!;
    expect(hello).toMatchObject({
      name: "test-host",
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: "0.1.0",
    });

    central.dropConnections();
    await central.waitFor("reconnect", () => agent.link.connectionCount === 2 && agent.link.isReady);
    expect(central.hellos[1]).toEqual({ kind: "credential", hostId: "host_1", credential: "cred-1" });
    expect(agent.disconnects).toBe(1);
  });

  it("sends heartbeats at the welcome's interval", async () => {
    startLink();
    await central.waitFor("three heartbeats", () => central.framesOf("heartbeat").length >= 3);
    const beats = central.framesOf("heartbeat");
    expect(beats[0]).toMatchObject({ containers: 2, ackedGeneration: 4 });
    const gaps = beats.slice(1).map((b, i) => b.ts - beats[i]!.ts);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(90);
  });

  it("spools metrics while the central is away and drains them in order, reporting what was dropped", async () => {
    const agent = startLink({ spoolLimits: { maxBatches: 5, maxSamples: 1000 } });
    await central.waitFor("welcome", () => agent.link.isReady);
    agent.link.sendMetrics(batch(1));
    await central.waitFor("live batch", () => central.framesOf("metrics").length === 1);

    const port = central.port;
    await central.stop();
    await central.waitFor("link down", () => !agent.link.isReady);
    for (let seq = 2; seq <= 9; seq++) agent.link.sendMetrics(batch(seq));
    expect(agent.link.spooledBatches).toBe(5);

    await central.start(port);
    await central.waitFor("drain", () => central.framesOf("metrics").length === 6);
    // One more live batch must come after the backlog.
    agent.link.sendMetrics(batch(10));
    await central.waitFor("live after drain", () => central.framesOf("metrics").length === 7);

    const metrics = central.framesOf("metrics");
    expect(metrics.map((m) => m.host?.ts)).toEqual([1, 5, 6, 7, 8, 9, 10]);
    // Batches 2, 3 and 4 were dropped: two container samples and one host sample each.
    expect(metrics.map((m) => m.droppedSamples)).toEqual([0, 9, 0, 0, 0, 0, 0]);
    expect(new Set(metrics.map((m) => m.batchId)).size).toBe(7);
    expect(central.hellos.at(-1)?.kind).toBe("credential");
  });

  it("spools metrics instead of sending while the socket's send buffer is past its bound", async () => {
    // A bound below zero: the buffer always counts as full.
    const agent = startLink({ tuning: { maxBufferedBytes: -1, drainIntervalMs: 20 } });
    await central.waitFor("welcome", () => agent.link.isReady);
    for (let seq = 1; seq <= 3; seq++) agent.link.sendMetrics(batch(seq));
    await new Promise((r) => setTimeout(r, 150));
    expect(agent.link.congested).toBe(true);
    expect(agent.link.spooledBatches).toBe(3);
    expect(central.framesOf("metrics")).toHaveLength(0);
  });

  it("splits a sweep larger than one frame may hold", async () => {
    const agent = startLink();
    await central.waitFor("welcome", () => agent.link.isReady);
    agent.link.sendMetrics(batch(1, 2500));
    await central.waitFor("three frames", () => central.framesOf("metrics").length === 3);
    const sizes = central.framesOf("metrics").map((m) => [m.containers.length, m.host !== null]);
    expect(sizes).toEqual([
      [1000, true],
      [1000, false],
      [500, false],
    ]);
  });

  it("answers a malformed frame with an error frame and stays up", async () => {
    const agent = startLink();
    await central.waitFor("welcome", () => agent.link.isReady);
    central.sendRaw("{not json");
    central.sendRaw(JSON.stringify({ type: "desired", generation: -1, containers: [] }));
    central.sendRaw(JSON.stringify({ type: "launch-missiles" }));
    await central.waitFor("three errors", () => central.framesOf("error").length === 3);
    const errors = central.framesOf("error");
    expect(errors.every((e) => e.code === "bad_frame")).toBe(true);
    expect(errors[0]?.message).toMatch(/not valid JSON/);
    expect(errors[1]?.message).toMatch(/invalid "desired" frame/);
    expect(errors[2]?.message).toMatch(/unknown server frame type "launch-missiles"/);
    const before = central.framesOf("heartbeat").length;
    await central.waitFor("heartbeat after errors", () => central.framesOf("heartbeat").length > before);
    expect(agent.link.isReady).toBe(true);
    expect(agent.link.connectionCount).toBe(1);
    expect(agent.received).toEqual([]);
  });

  it("hands checked frames to the agent", async () => {
    const agent = startLink();
    await central.waitFor("welcome", () => agent.link.isReady);
    const request = makeOpRequest({ id: "op-7" });
    central.send(request);
    await central.waitFor("frame", () => agent.received.length === 1);
    expect(agent.received[0]).toEqual(request);
  });

  it("holds frames that arrive right behind the welcome until the link is up", async () => {
    const request = makeOpRequest({ id: "op-early" });
    central.afterWelcome = [request];
    const agent = startLink({
      onWelcome: async () => {
        // Handling a welcome takes a while (credential stored, containers adopted).
        await new Promise((r) => setTimeout(r, 100));
      },
    });
    await central.waitFor("frame", () => agent.received.length === 1);
    expect(agent.received[0]).toEqual(request);
  });

  it("queues events while down and sends them after the next welcome", async () => {
    const agent = startLink();
    await central.waitFor("welcome", () => agent.link.isReady);
    const port = central.port;
    await central.stop();
    await central.waitFor("link down", () => !agent.link.isReady);
    const sent = agent.link.send({
      type: "event",
      ts: 1,
      kind: "container.exit",
      containerId: "c-1",
      message: "exited",
    });
    expect(sent).toBe(false);
    expect(
      agent.link.send({
        type: "container.status",
        containerId: "c-1",
        engineId: null,
        state: "exited",
        exitCode: 1,
        oomKilled: false,
        restartCount: 0,
        startedAt: null,
        finishedAt: null,
        message: null,
        health: null,
        healthMessage: null,
        ts: 1,
      }),
    ).toBe(false);
    await central.start(port);
    await central.waitFor("queued event", () => central.framesOf("event").length === 1);
    expect(central.framesOf("event")[0]).toMatchObject({ kind: "container.exit", containerId: "c-1" });
    expect(central.framesOf("container.status")).toHaveLength(0);
  });

  it("treats a rejected join token as fatal", async () => {
    const agent = startLink({}, "wrong-token");
    await expect(agent.link.done).rejects.toBeInstanceOf(JoinRejectedError);
    await expect(agent.link.done).rejects.toThrow(/rejected the join token/);
    expect(central.hellos).toHaveLength(1);
  });

  it("takes the central's 4401 close alone as a refusal of the join token", async () => {
    central.refuseByCloseOnly = true;
    const agent = startLink({}, "wrong-token");
    await expect(agent.link.done).rejects.toBeInstanceOf(JoinRejectedError);
  });

  it("keeps retrying with backoff when a stored credential is rejected", async () => {
    const agent = startLink({}, null);
    await central.waitFor("three attempts", () => central.hellos.length >= 3);
    expect(agent.link.isReady).toBe(false);
    let settled = false;
    agent.link.done.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
  });

  it("reconnects when no welcome arrives in time", async () => {
    central.silent = true;
    const agent = startLink({
      tuning: { welcomeTimeoutMs: 150, reconnectInitialMs: 10, reconnectMaxMs: 20 },
    });
    await central.waitFor("a second hello", () => central.framesOf("hello").length >= 2);
    central.silent = false;
    await central.waitFor("welcome", () => agent.link.isReady);
  });

  it("redials with growing, capped, jittered delays while the central stays away, and resets after a stable link", async () => {
    const delays: number[] = [];
    const agent = startLink({
      random: () => 0.999,
      onReconnectScheduled: (delayMs) => delays.push(delayMs),
      tuning: { reconnectInitialMs: 10, reconnectMaxMs: 80, stableConnectionMs: 100 },
    });
    await central.waitFor("welcome", () => agent.link.isReady);
    const port = central.port;
    await central.stop();
    await central.waitFor("six redials", () => delays.length >= 6);
    expect(delays.slice(0, 6)).toEqual([9, 19, 39, 79, 79, 79]);

    await central.start(port);
    await central.waitFor("back", () => agent.link.isReady);
    await new Promise((r) => setTimeout(r, 200));
    const before = delays.length;
    central.dropConnections();
    await central.waitFor("redial", () => delays.length > before);
    expect(delays[before]).toBe(9);
  });

  it("redials at once when its replica says 'reconnect elsewhere' (4012), not after the backoff", async () => {
    const delays: number[] = [];
    const agent = startLink({
      random: () => 0.999,
      onReconnectScheduled: (delayMs) => delays.push(delayMs),
      // The usual backoff would wait about 2 s.
      tuning: { reconnectInitialMs: 2000, reconnectMaxMs: 2000 },
    });
    await central.waitFor("welcome", () => agent.link.isReady);
    const closedAt = performance.now();
    central.closeConnections(AGENT_CLOSE.reconnectElsewhere, "central replica stopping");
    // Back so fast that polling for the gap could miss it: the scheduled redial tells.
    await central.waitFor("redial scheduled", () => delays.length === 1);
    await central.waitFor("back", () => agent.link.isReady && agent.link.connectionCount === 2);
    const tookMs = performance.now() - closedAt;
    expect(delays).toEqual([0]);
    expect(tookMs).toBeLessThan(300);
  });

  it("after 4012 tries a few times at short jittered intervals, then falls back to its backoff, keeping its spool", async () => {
    const delays: number[] = [];
    const agent = startLink({
      random: () => 0.999,
      onReconnectScheduled: (delayMs) => delays.push(delayMs),
      tuning: { reconnectInitialMs: 40, reconnectMaxMs: 80 },
    });
    await central.waitFor("welcome", () => agent.link.isReady);
    // Every replica the balancer could pick refuses for now.
    central.refuseUpgrades = true;
    central.closeConnections(AGENT_CLOSE.reconnectElsewhere, "central replica stopping");
    await central.waitFor("link down", () => !agent.link.isReady);
    for (let seq = 1; seq <= 3; seq++) agent.link.sendMetrics(batch(seq));
    await central.waitFor("six redials", () => delays.length >= 6);
    // At once, three jittered attempts under 250 ms, then the usual backoff from its start.
    expect(delays.slice(0, 6)).toEqual([0, 249, 249, 249, 39, 79]);
    expect(agent.link.spooledBatches).toBe(3);

    central.refuseUpgrades = false;
    await central.waitFor("back", () => agent.link.isReady);
    await central.waitFor("spool sent", () => central.framesOf("metrics").length === 3);
    expect(central.framesOf("metrics").map((m) => m.host?.ts)).toEqual([1, 2, 3]);
    expect(central.framesOf("metrics").every((m) => m.droppedSamples === 0)).toBe(true);
  });

  it("redials with its usual backoff when the central lost its database (4013)", async () => {
    const delays: number[] = [];
    const agent = startLink({
      random: () => 0.5,
      onReconnectScheduled: (delayMs) => delays.push(delayMs),
      tuning: { reconnectInitialMs: 200, reconnectMaxMs: 400 },
    });
    await central.waitFor("welcome", () => agent.link.isReady);
    central.closeConnections(AGENT_CLOSE.databaseUnavailable, "database unavailable");
    await central.waitFor("link down", () => !agent.link.isReady);
    agent.link.sendMetrics(batch(1));
    await central.waitFor("back", () => agent.link.isReady && agent.link.connectionCount === 2);
    expect(delays).toEqual([100]);
    await central.waitFor("spool sent", () => central.framesOf("metrics").length === 1);
  });

  it("closes cleanly on stop and never reconnects", async () => {
    const agent = startLink();
    await central.waitFor("welcome", () => agent.link.isReady);
    await agent.link.stop();
    await agent.link.done;
    await central.waitFor("closed", () => central.connectionCount === 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(central.hellos).toHaveLength(1);
  });
});
