// The gateway end to end: fake agents speaking the real protocol over real
// WebSockets to a real HTTP server, with a real Postgres behind it.

import { randomUUID } from "node:crypto";
import type { TContainerSample } from "@fleet/shared/domain/metrics";
import {
  makeContainerSample,
  makeEvent,
  makeHostFacts,
  makeHostSample,
} from "@fleet/shared/protocol/test-factories";
import { AGENT_CLOSE, PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import { eventually } from "@fleet/test/harness/eventually";
import {
  connectFakeAgent,
  type FakeAgent,
  type FakeAgentOptions,
  FakeAgentRefusedError,
  openRawAgentSocket,
} from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Prisma } from "../db/client";
import { holdMainPool } from "../db/testing/hold-main-pool";
import { isAppError } from "../errors";
import { createJoinToken } from "../services/join-token/create-join-token";
import { createMetricsService, type MetricsService } from "../services/metrics/metrics-service";
import { createTestUser } from "../testing/factories";
import { startTestServer, type TestServer } from "../testing/test-server";
import { hashToken } from "../tokens";
import { DEFAULT_HOST_PIDS_CAPACITY, GATEWAY_CLOSE, OP_TIMEOUT_GRACE_MS } from "./gateway-limits";
import { authenticateHellos, BAD_CREDENTIAL_MESSAGE } from "./host-auth";
import { OpError } from "./op-broker";
import { type GatewayTestServer, startGatewayTestServer } from "./testing/gateway-test-server";

const MIB = 1024 * 1024;
describe("gateway", () => {
  const database = useTestDatabase();
  let server: GatewayTestServer;
  let metricsService: MetricsService;
  const agents: FakeAgent[] = [];

  beforeAll(async () => {
    server = await startGatewayTestServer({
      databaseUrl: database().url,
      tuning: { helloTimeoutMs: 300 },
      metrics: ({ db, env, bus }) => {
        metricsService = createMetricsService({ db, env, bus, log: pino({ level: "silent" }) });
        return metricsService;
      },
    });
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await metricsService?.stop();
    await server?.close();
  });

  async function join(options: Partial<FakeAgentOptions> = {}): Promise<FakeAgent> {
    const agent = await connectFakeAgent({
      url: server.url,
      joinToken: options.joinToken ?? (await server.createJoinToken()),
      name: options.name ?? `host-${randomUUID().slice(0, 8)}`,
      ...options,
    });
    agents.push(agent);
    return agent;
  }

  async function refusal(promise: Promise<unknown>): Promise<FakeAgentRefusedError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof FakeAgentRefusedError) return error;
      throw error;
    }
    throw new Error("expected the central to refuse the agent");
  }

  async function insertContainer(
    hostId: string | null,
    overrides: Partial<Prisma.ContainerUncheckedCreateInput> = {},
  ): Promise<string> {
    const name = `app-${randomUUID().slice(0, 8)}`;
    const row = await server.db.container.create({
      data: {
        name,
        hostId,
        image: "127.0.0.1:5000/fleet/busybox:1.36",
        spec: { command: ["sleep", "3600"], env: { MODE: "test" }, ports: [], labels: { app: "demo" } },
        cpuRequestMillis: 100,
        cpuLimitMillis: 500,
        memoryRequestBytes: BigInt(32 * MIB),
        memoryLimitBytes: BigInt(64 * MIB),
        pidsRequest: 10,
        pidsLimit: 100,
        restartPolicy: "on_failure",
        restartMaxRetries: 3,
        ...overrides,
      },
      select: { id: true },
    });
    return row.id;
  }

  function eventsOf(hostId: string) {
    return server.db.event.findMany({
      where: { hostId },
      orderBy: { id: "asc" },
      select: { kind: true, message: true, severity: true, containerId: true, data: true },
    });
  }

  describe("joining", () => {
    it("creates the host from a join token and hands out a credential once", async () => {
      const token = await server.createJoinToken({ labels: { zone: "b", tier: "gold" } });
      const agent = await join({
        joinToken: token,
        name: "joiner",
        facts: { cpus: 8, memoryBytes: 16 * 1024 * MIB, labels: { zone: "a", disk: "ssd" } },
        reserve: { cpuMillis: 500, memoryBytes: 1024 * MIB },
      });

      const welcome = await agent.waitFor("welcome");
      expect(welcome.credential).toMatch(/^fleet_host_/);
      expect(welcome.settings).toEqual({ metricsIntervalMs: 5000, heartbeatIntervalMs: 1000 });
      const host = await server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } });
      expect(host).toMatchObject({
        name: "joiner",
        status: "online",
        // The administrator's zone wins over the agent's own.
        labels: { zone: "b", tier: "gold", disk: "ssd" },
        credentialHash: hashToken(agent.credential),
        agentVersion: "0.1.0-fake",
        cpuCapacityMillis: 8000,
        cpuAllocatableMillis: 7500,
        memoryCapacityBytes: BigInt(16 * 1024 * MIB),
        memoryAllocatableBytes: BigInt(15 * 1024 * MIB),
        pidsCapacity: DEFAULT_HOST_PIDS_CAPACITY,
      });
      expect(host.connectedAt).not.toBeNull();
      expect(host.lastSeenAt).not.toBeNull();
      expect(host.facts).toMatchObject({ cpus: 8, engine: { name: "docker" } });

      const used = await server.db.joinToken.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } });
      expect(used.usedAt).not.toBeNull();
      expect(used.usedByHostId).toBe(agent.hostId);

      expect((await eventsOf(agent.hostId)).map((event) => event.kind)).toEqual([
        "host.joined",
        "host.connected",
      ]);
      expect(server.publishedOn("event").filter((event) => event.hostId === agent.hostId)).toHaveLength(2);
      expect(server.publishedOn("host.changed")).toContainEqual({ hostId: agent.hostId });

      // After the welcome comes the whole desired set (empty so far), acknowledged by the agent.
      const desired = await agent.waitFor("desired");
      expect(desired.containers).toEqual([]);
      await eventually(
        "the ack to be recorded",
        () =>
          server.db.host.findUniqueOrThrow({
            where: { id: agent.hostId },
            select: { ackedGeneration: true },
          }),
        (row) => row.ackedGeneration === desired.generation,
      );
      expect(server.gateway.isConnected(agent.hostId)).toBe(true);
      expect(server.gateway.connectedHostIds()).toContain(agent.hostId);
      expect(agent.invalidFrames).toEqual([]);
    });

    it("refuses a join token used before", async () => {
      const token = await server.createJoinToken();
      await join({ joinToken: token });
      const refused = await refusal(connectFakeAgent({ url: server.url, joinToken: token, name: "second" }));
      expect(refused.error).toMatchObject({
        type: "error",
        code: "unauthorized",
        message: "join token already used",
      });
      expect(refused.closeCode).toBe(GATEWAY_CLOSE.unauthorized);
      expect(await server.db.host.count({ where: { name: "second" } })).toBe(0);
    });

    it("refuses an expired join token and an unknown one", async () => {
      const expired = await server.createJoinToken({
        now: new Date(Date.now() - 2 * 60 * 60_000),
        ttlMs: 60 * 60_000,
      });
      const late = await refusal(connectFakeAgent({ url: server.url, joinToken: expired, name: "late" }));
      expect(late.error).toMatchObject({ code: "unauthorized", message: "join token expired" });
      expect(late.closeCode).toBe(4401);
      const unknown = await refusal(
        connectFakeAgent({ url: server.url, joinToken: "fleet_join_nope", name: "x" }),
      );
      expect(unknown.error).toMatchObject({ code: "unauthorized", message: "unknown join token" });
    });

    it("lets only one of two agents presenting the same token at once join", async () => {
      const token = await server.createJoinToken();
      const attempts = await Promise.allSettled(
        [1, 2, 3].map((n) => connectFakeAgent({ url: server.url, joinToken: token, name: `racer-${n}` })),
      );
      const joined = attempts.filter((attempt) => attempt.status === "fulfilled");
      for (const attempt of joined) agents.push(attempt.value);
      expect(joined).toHaveLength(1);
      expect(await server.db.host.count({ where: { name: { startsWith: "racer-" } } })).toBe(1);
    });

    it("gives a clashing name the next free suffix", async () => {
      const first = await join({ name: "twin" });
      const second = await join({ name: "twin" });
      const third = await join({ name: "twin" });
      const names = await server.db.host.findMany({
        where: { id: { in: [first.hostId, second.hostId, third.hostId] } },
        select: { name: true },
        orderBy: { createdAt: "asc" },
      });
      expect(names.map((host) => host.name)).toEqual(["twin", "twin-2", "twin-3"]);
      const joined = await eventsOf(second.hostId);
      expect(joined[0]?.message).toBe('host twin-2 joined the fleet (the name "twin" was taken)');
    });

    it("answers another protocol version with version_mismatch and closes", async () => {
      const refused = await refusal(
        connectFakeAgent({ url: server.url, joinToken: await server.createJoinToken(), protocolVersion: 99 }),
      );
      expect(refused.error?.code).toBe("version_mismatch");
      expect(refused.error?.message).toContain(`protocol version ${PROTOCOL_VERSION}, this agent 99`);
      expect(refused.closeCode).toBe(GATEWAY_CLOSE.versionMismatch);
    });
  });

  describe("connecting with a credential", () => {
    it("reconnects as the same host, without a new credential, and records the connection", async () => {
      const agent = await join();
      const firstConnectedAt = (await server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } }))
        .connectedAt;
      const hostId = agent.hostId;
      await agent.close();
      // The server notices the close after the agent does; wait, so the order of events is fixed.
      await eventually(
        "the disconnect event",
        () => eventsOf(hostId),
        (events) => events.some((event) => event.kind === "host.disconnected"),
      );
      expect(server.gateway.isConnected(hostId)).toBe(false);
      await agent.reconnect();
      const welcomes = agent.frames.filter((frame) => frame.type === "welcome");
      expect(welcomes).toHaveLength(2);
      expect(welcomes[1]).toMatchObject({ hostId });
      expect(welcomes[1]?.type === "welcome" && welcomes[1].credential).toBeUndefined();
      const host = await server.db.host.findUniqueOrThrow({ where: { id: hostId } });
      expect(host.status).toBe("online");
      expect(host.connectedAt?.getTime()).toBeGreaterThan(firstConnectedAt?.getTime() ?? 0);
      await eventually(
        "the reconnect events",
        () => eventsOf(hostId),
        (events) =>
          events.map((event) => event.kind).join() ===
          "host.joined,host.connected,host.disconnected,host.connected",
      );
      // Every welcome is followed by the current desired set, under a higher generation.
      const generations = agent.frames.flatMap((frame) =>
        frame.type === "desired" ? [frame.generation] : [],
      );
      await agent.waitFor("desired", (frame) => frame.generation > (generations[0] ?? 0));
    });

    it("refuses a wrong credential and an unknown host with the same answer", async () => {
      const agent = await join();
      const wrong = await refusal(
        connectFakeAgent({
          url: server.url,
          credential: { hostId: agent.hostId, credential: "fleet_host_wrong" },
        }),
      );
      const unknown = await refusal(
        connectFakeAgent({
          url: server.url,
          credential: { hostId: "no-such-host", credential: agent.credential },
        }),
      );
      for (const refused of [wrong, unknown]) {
        expect(refused.error).toMatchObject({ code: "unauthorized", message: BAD_CREDENTIAL_MESSAGE });
        expect(refused.closeCode).toBe(4401);
      }
      // The refused attempts did not disturb the live connection.
      expect(agent.isOpen()).toBe(true);
    });

    it("replaces the older connection of a host with the newer one (4409)", async () => {
      const first = await join();
      const second = await connectFakeAgent({
        url: server.url,
        credential: { hostId: first.hostId, credential: first.credential },
      });
      agents.push(second);
      expect(await first.waitForClose()).toEqual({ code: GATEWAY_CLOSE.replaced, reason: "replaced" });
      expect(first.frames.at(-1)).toMatchObject({ type: "error", code: "conflict" });
      expect(server.gateway.isConnected(first.hostId)).toBe(true);
      // The newer connection is the one operations go to.
      const answered = server.gateway.request(first.hostId, { kind: "image.list" }, { timeoutMs: 2000 });
      const request = await second.waitFor("op.request");
      second.send({
        type: "op.result",
        id: request.id,
        ok: true,
        kind: "image.list",
        result: { images: [] },
      });
      await expect(answered).resolves.toEqual({ images: [] });
      // The replaced socket's close is not a disconnect of the host.
      const kinds = (await eventsOf(first.hostId)).map((event) => event.kind);
      expect(kinds).not.toContain("host.disconnected");
    });

    it("counts the hellos it has not answered yet, for the replica registry", async () => {
      const hosts = await Promise.all(Array.from({ length: 3 }, () => join()));
      await Promise.all(hosts.map((agent) => agent.close()));
      // A hello is answered once its welcome and desired set have gone out.
      const answered = () =>
        eventually(
          "every hello answered",
          async () => server.gateway.hellosWaiting(),
          (waiting) => waiting === 0,
        );
      await answered();
      // While the database keeps them waiting, the hellos are counted.
      const release = await holdMainPool(server.db);
      let connecting: Promise<FakeAgent[]>;
      try {
        connecting = Promise.all(
          hosts.map((agent) =>
            connectFakeAgent({
              url: server.url,
              credential: { hostId: agent.hostId, credential: agent.credential },
            }),
          ),
        );
        await eventually(
          "three hellos waiting",
          async () => server.gateway.hellosWaiting(),
          (waiting) => waiting === 3,
        );
      } finally {
        await release();
      }
      agents.push(...(await connecting));
      await answered();
    });

    it("welcomes hellos that arrive together each under its own epoch, refusing only the bad ones", async () => {
      const hosts = await Promise.all(Array.from({ length: 7 }, () => join()));
      const [twice, wrong, gone] = hosts as [FakeAgent, FakeAgent, FakeAgent];
      await server.db.host.update({
        where: { id: gone.hostId },
        data: { removedAt: new Date(), credentialHash: null },
      });
      await Promise.all(hosts.map((agent) => agent.close()));
      const epochsBefore = new Map(
        (
          await server.db.host.findMany({
            where: { id: { in: hosts.map((agent) => agent.hostId) } },
            select: { id: true, connectionEpoch: true },
          })
        ).map((row) => [row.id, row.connectionEpoch]),
      );
      const connect = (agent: FakeAgent, credential = agent.credential) =>
        connectFakeAgent({ url: server.url, credential: { hostId: agent.hostId, credential } });
      // All at once: the hellos wait together behind the first ones and are handled as a batch.
      const attempts = await Promise.allSettled([
        ...hosts.slice(3).map((agent) => connect(agent)),
        connect(twice),
        connect(wrong, "fleet_host_wrong"),
        connect(gone),
        connect(twice),
      ]);
      const connected = attempts.flatMap((attempt) =>
        attempt.status === "fulfilled" ? [attempt.value] : [],
      );
      agents.push(...connected);
      const refusals = attempts.flatMap((attempt) =>
        attempt.status === "rejected" && attempt.reason instanceof FakeAgentRefusedError
          ? [attempt.reason]
          : [],
      );
      expect(refusals.map((refused) => refused.closeCode).sort()).toEqual([
        GATEWAY_CLOSE.unauthorized,
        GATEWAY_CLOSE.hostRemoved,
      ]);
      expect(connected).toHaveLength(6);
      // The host that said hello twice: both welcomed, one after the other, the older replaced.
      const twins = connected.filter((agent) => agent.hostId === twice.hostId);
      expect(twins).toHaveLength(2);
      const replaced = await Promise.race(twins.map((agent) => agent.waitForClose()));
      expect(replaced.code).toBe(GATEWAY_CLOSE.replaced);
      const rows = await server.db.host.findMany({
        where: { id: { in: hosts.map((agent) => agent.hostId) } },
        select: { id: true, connectionEpoch: true, status: true, address: true },
      });
      for (const row of rows) {
        const raised =
          row.id === twice.hostId ? 2 : row.id === wrong.hostId || row.id === gone.hostId ? 0 : 1;
        expect(row.connectionEpoch - (epochsBefore.get(row.id) ?? 0)).toBe(raised);
        if (raised > 0) expect(row).toMatchObject({ status: "online", address: "127.0.0.1" });
      }
      // Every welcome names its own host; each live connection gets its desired set.
      for (const agent of connected) {
        expect((await agent.waitFor("welcome")).hostId).toBe(agent.hostId);
        if (agent.isOpen()) await agent.waitFor("desired");
      }
      const connects = await server.db.event.groupBy({
        by: ["hostId"],
        where: { kind: "host.connected", hostId: { in: hosts.map((agent) => agent.hostId) } },
        _count: true,
      });
      const counts = new Map(connects.map((row) => [row.hostId, row._count]));
      expect(counts.get(twice.hostId)).toBe(3);
      expect(counts.get(wrong.hostId)).toBe(1);
      expect(counts.get(gone.hostId)).toBe(1);
      expect(counts.get(hosts[3]?.hostId ?? "")).toBe(2);
    });

    it("checks a batch of credential hellos in one go, a host twice in it under two epochs", async () => {
      const [a, b] = await Promise.all([join(), join()]);
      if (!a || !b) throw new Error("two hosts joined");
      const before = await server.db.host.findMany({
        where: { id: { in: [a.hostId, b.hostId] } },
        select: { id: true, connectionEpoch: true },
      });
      const epochOf = (id: string) => before.find((row) => row.id === id)?.connectionEpoch ?? -1;
      const attempt = (agent: FakeAgent, credential = agent.credential) => ({
        hello: {
          type: "hello" as const,
          protocolVersion: PROTOCOL_VERSION,
          auth: { kind: "credential" as const, hostId: agent.hostId, credential },
          name: "batch",
          facts: makeHostFacts(),
          reserve: { cpuMillis: 0, memoryBytes: 0 },
          agentVersion: "0.1.0-fake",
        },
        address: null,
      });
      const outcomes = await authenticateHellos({
        db: server.db,
        now: new Date(),
        replicaId: "batch-test",
        attempts: [attempt(a), attempt(b, "fleet_host_wrong"), attempt(a), attempt(b)],
      });
      expect(outcomes.map((outcome) => (outcome.ok ? outcome.epoch : outcome.closeCode))).toEqual([
        epochOf(a.hostId) + 1,
        GATEWAY_CLOSE.unauthorized,
        epochOf(a.hostId) + 2,
        epochOf(b.hostId) + 1,
      ]);
      expect(outcomes[0]?.ok && outcomes[0].events.map((event) => [event.kind, event.hostId])).toEqual([
        ["host.connected", a.hostId],
      ]);
    });

    it("drops the connection of a removed host (4410) and refuses it from then on", async () => {
      const agent = await join();
      await server.db.host.update({
        where: { id: agent.hostId },
        data: { removedAt: new Date(), credentialHash: null },
      });
      server.bus.publish("host.removed", { hostId: agent.hostId });
      expect((await agent.waitForClose()).code).toBe(GATEWAY_CLOSE.hostRemoved);
      const refused = await refusal(
        connectFakeAgent({
          url: server.url,
          credential: { hostId: agent.hostId, credential: agent.credential },
        }),
      );
      expect(refused.closeCode).toBe(GATEWAY_CLOSE.hostRemoved);
      expect(refused.error?.message).toMatch(/removed from the fleet/);
    });
  });

  describe("the first frame", () => {
    it("must come within the hello deadline", async () => {
      const socket = await openRawAgentSocket(server.url);
      const closed = await socket.closed;
      expect(closed.code).toBe(GATEWAY_CLOSE.helloTimeout);
    });

    it("must be a hello", async () => {
      const socket = await openRawAgentSocket(server.url);
      socket.ws.send(JSON.stringify({ type: "heartbeat", ts: 1, containers: 0, ackedGeneration: null }));
      expect((await socket.closed).code).toBe(GATEWAY_CLOSE.badFrames);
      expect(JSON.parse(socket.received[0] ?? "{}")).toMatchObject({ type: "error", code: "bad_frame" });
    });
  });

  describe("heartbeats", () => {
    it("update lastSeenAt, and a heartbeat's ack heals a lost ack frame", async () => {
      const agent = await join({ autoAck: false });
      const desired = await agent.waitFor("desired");
      const before = await server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      agent.sendHeartbeat({ ackedGeneration: desired.generation });
      const after = await eventually(
        "lastSeenAt to move",
        () => server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } }),
        (host) => (host.lastSeenAt?.getTime() ?? 0) > (before.lastSeenAt?.getTime() ?? 0),
      );
      expect(after.ackedGeneration).toBe(desired.generation);
    });
  });

  describe("desired state", () => {
    it("sends the whole set with a rising generation after a container is placed, and records the ack", async () => {
      const agent = await join();
      const first = await agent.waitFor("desired");
      const elsewhere = await join();
      const running = await insertContainer(agent.hostId);
      // A stopped container stays in the set, so its agent keeps it (exited) for a later start.
      const stopped = await insertContainer(agent.hostId, { desiredState: "stopped" });
      await insertContainer(agent.hostId, { removedAt: new Date(), desiredState: "removed" });
      await insertContainer(agent.hostId, { removedAt: new Date(), desiredState: "stopped" });
      await insertContainer(elsewhere.hostId);
      await insertContainer(elsewhere.hostId, { desiredState: "stopped" });

      const pushed = await server.gateway.pushDesired(agent.hostId);
      expect(pushed).toMatchObject({ sent: true, containers: 2 });
      expect(pushed.generation).toBeGreaterThan(first.generation);
      const desired = await agent.waitFor("desired", (frame) => frame.generation === pushed.generation);
      expect(desired.containers).toEqual([
        expect.objectContaining({
          id: running,
          runState: "running",
          image: "127.0.0.1:5000/fleet/busybox:1.36",
          command: ["sleep", "3600"],
          restartPolicy: { name: "on-failure", maxRetries: 3 },
          resources: expect.objectContaining({ memoryLimitBytes: 64 * MIB, pidsLimit: 100 }),
        }),
        expect.objectContaining({ id: stopped, runState: "stopped", command: ["sleep", "3600"] }),
      ]);
      await eventually(
        "the pushed generation to be acked",
        () => server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } }),
        (host) => host.ackedGeneration === pushed.generation && host.desiredGeneration === pushed.generation,
      );

      const second = await insertContainer(agent.hostId);
      await server.db.container.update({ where: { id: stopped }, data: { desiredState: "running" } });
      const again = await server.gateway.pushDesired(agent.hostId);
      const next = await agent.waitFor("desired", (frame) => frame.generation === again.generation);
      expect(next.containers.map((spec) => [spec.id, spec.runState])).toEqual([
        [running, "running"],
        [stopped, "running"],
        [second, "running"],
      ]);
    });

    it("raises the generation for a host that is away and sends the set when it comes back", async () => {
      const agent = await join();
      await agent.close();
      const container = await insertContainer(agent.hostId);
      const pushed = await server.gateway.pushDesired(agent.hostId);
      expect(pushed.sent).toBe(false);
      await agent.reconnect();
      const desired = await agent.waitFor("desired", (frame) => frame.generation > (pushed.generation ?? 0));
      expect(desired.containers.map((spec) => spec.id)).toEqual([container]);
    });

    it("ignores an ack for a generation never handed out", async () => {
      const agent = await join({ autoAck: false });
      const desired = await agent.waitFor("desired");
      agent.send({ type: "ack", generation: desired.generation + 100 });
      agent.send({ type: "ack", generation: desired.generation });
      await eventually(
        "the ack to be recorded",
        () => server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } }),
        (host) => host.ackedGeneration === desired.generation,
      );
    });
  });

  describe("container status", () => {
    it("updates the row and records the start latency on the first running report", async () => {
      const agent = await join();
      const requestedAt = new Date(Date.now() - 1500);
      const container = await insertContainer(agent.hostId, { requestedAt });
      agent.sendStatus({ containerId: container, state: "pulling", engineId: null, startedAt: null });
      agent.sendStatus({
        containerId: container,
        state: "running",
        engineId: "e".repeat(64),
        restartCount: 0,
        startedAt: "2025-01-01T00:00:01.123456789Z",
      });
      const row = await eventually(
        "the container to run",
        () => server.db.container.findUniqueOrThrow({ where: { id: container } }),
        (value) => value.actualState === "running",
      );
      expect(row.engineId).toBe("e".repeat(64));
      expect(row.startedAt?.toISOString()).toBe("2025-01-01T00:00:01.123Z");
      expect(row.runningReportedAt).not.toBeNull();
      expect(row.startLatencyMs).toBe((row.runningReportedAt?.getTime() ?? 0) - requestedAt.getTime());
      expect(row.startLatencyMs).toBeGreaterThanOrEqual(1500);
      expect(server.publishedOn("container.changed")).toContainEqual({
        containerId: container,
        hostId: agent.hostId,
      });

      // A later running report (after a restart) keeps the first latency.
      agent.sendStatus({ containerId: container, state: "running", restartCount: 1 });
      const later = await eventually(
        "the restart to be recorded",
        () => server.db.container.findUniqueOrThrow({ where: { id: container } }),
        (value) => value.restartCount === 1,
      );
      expect(later.startLatencyMs).toBe(row.startLatencyMs);
    });

    it("stores the ports the engine bound while running, and a digest only where none is pinned", async () => {
      const agent = await join();
      const digestOf = (hex: string) => `sha256:${hex.repeat(64)}`;
      const byTag = await insertContainer(agent.hostId);
      const pinned = await insertContainer(agent.hostId, { imageDigest: digestOf("a") });
      const ports = [
        { containerPort: 80, protocol: "tcp" as const, hostIp: "0.0.0.0", hostPort: 32801 },
        { containerPort: 53, protocol: "udp" as const, hostIp: "127.0.0.1", hostPort: 5353 },
      ];
      for (const containerId of [byTag, pinned]) {
        agent.sendStatus({
          containerId,
          state: "running",
          imageDigest: digestOf("b"),
          publishedPorts: ports,
        });
      }
      const rowOf = (id: string) =>
        eventually(
          "the running status to be stored",
          () => server.db.container.findUniqueOrThrow({ where: { id } }),
          (row) => row.actualState === "running",
        );
      expect(await rowOf(byTag)).toMatchObject({ imageDigest: digestOf("b"), publishedPorts: ports });
      // A deployment's pinned digest is what it asked for; the report does not overwrite it.
      expect(await rowOf(pinned)).toMatchObject({ imageDigest: digestOf("a"), publishedPorts: ports });

      // An older agent sends neither field: what is known stays.
      agent.sendStatus({ containerId: byTag, state: "running", restartCount: 1 });
      const still = await eventually(
        "the restart to be recorded",
        () => server.db.container.findUniqueOrThrow({ where: { id: byTag } }),
        (row) => row.restartCount === 1,
      );
      expect(still).toMatchObject({ imageDigest: digestOf("b"), publishedPorts: ports });
      // Stopped, nothing is bound any more; the digest it ran is kept.
      agent.sendStatus({ containerId: byTag, state: "exited", exitCode: 0, restartCount: 2 });
      const exited = await eventually(
        "the exit to be recorded",
        () => server.db.container.findUniqueOrThrow({ where: { id: byTag } }),
        (row) => row.actualState === "exited",
      );
      expect(exited).toMatchObject({ imageDigest: digestOf("b"), publishedPorts: [] });
    });

    it("counts an OOM kill once even when the status is repeated after a reconnect", async () => {
      const agent = await join();
      const container = await insertContainer(agent.hostId);
      const oom = {
        containerId: container,
        state: "exited" as const,
        exitCode: 137,
        oomKilled: true,
        finishedAt: "2025-01-01T00:05:00Z",
      };
      agent.sendStatus(oom);
      agent.sendStatus(oom);
      await agent.reconnect();
      agent.sendStatus(oom);
      agent.sendStatus({
        ...oom,
        state: "running",
        oomKilled: false,
        exitCode: null,
        finishedAt: null,
        restartCount: 1,
      });
      agent.sendStatus({ ...oom, finishedAt: "2025-01-01T00:09:00Z", restartCount: 1 });
      const row = await eventually(
        "the OOM exit to be recorded",
        () => server.db.container.findUniqueOrThrow({ where: { id: container } }),
        (value) => value.finishedAt?.toISOString() === "2025-01-01T00:09:00.000Z",
      );
      expect(row).toMatchObject({ oomKillCount: 2, oomKilled: true, exitCode: 137, actualState: "exited" });
    });

    it("writes nothing for a status the row already holds, as every reconnect resends them", async () => {
      const agent = await join();
      const container = await insertContainer(agent.hostId);
      const marker = await insertContainer(agent.hostId);
      const running = {
        containerId: container,
        state: "running" as const,
        engineId: "f".repeat(64),
        startedAt: "2025-01-01T00:00:01.5Z",
        publishedPorts: [{ containerPort: 80, protocol: "tcp" as const, hostIp: "0.0.0.0", hostPort: 8080 }],
      };
      agent.sendStatus(running);
      const stored = await eventually(
        "the container to run",
        () => server.db.container.findUniqueOrThrow({ where: { id: container } }),
        (value) => value.actualState === "running",
      );
      const changes = () =>
        server.publishedOn("container.changed").filter((notice) => notice.containerId === container).length;
      const changesBefore = changes();

      await agent.reconnect();
      agent.sendStatus(running);
      // Frames of a connection are handled in order: once the marker's status is in, the repeat was handled.
      agent.sendStatus({ containerId: marker, state: "running" });
      await eventually(
        "the marker's status",
        () => server.db.container.findUniqueOrThrow({ where: { id: marker } }),
        (value) => value.actualState === "running",
      );
      const after = await server.db.container.findUniqueOrThrow({ where: { id: container } });
      expect(after.updatedAt).toEqual(stored.updatedAt);
      expect(changes()).toBe(changesBefore);

      agent.sendStatus({ ...running, publishedPorts: [] });
      await eventually(
        "the changed ports to be stored",
        () => server.db.container.findUniqueOrThrow({ where: { id: container } }),
        (value) => Array.isArray(value.publishedPorts) && value.publishedPorts.length === 0,
      );
      expect(changes()).toBe(changesBefore + 1);
    });

    it("records a stopped container's state without touching its desired state or capacity", async () => {
      const agent = await join();
      const container = await insertContainer(agent.hostId, { desiredState: "stopped" });
      const before = await server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } });
      agent.sendStatus({
        containerId: container,
        state: "stopped",
        engineId: "f".repeat(64),
        exitCode: 137,
        finishedAt: "2025-01-01T00:05:00Z",
        message: "stopped: desired state is stopped",
      });
      const row = await eventually(
        "the stop to be recorded",
        () => server.db.container.findUniqueOrThrow({ where: { id: container } }),
        (value) => value.actualState === "stopped",
      );
      expect(row).toMatchObject({
        desiredState: "stopped",
        exitCode: 137,
        oomKilled: false,
        oomKillCount: 0,
        engineId: "f".repeat(64),
        statusMessage: "stopped: desired state is stopped",
        removedAt: null,
      });
      const after = await server.db.host.findUniqueOrThrow({ where: { id: agent.hostId } });
      expect(after.cpuAllocatedMillis).toBe(before.cpuAllocatedMillis);
      // Still in the host's desired set, kept stopped.
      const pushed = await server.gateway.pushDesired(agent.hostId);
      const desired = await agent.waitFor("desired", (frame) => frame.generation === pushed.generation);
      expect(desired.containers.map((entry) => [entry.id, entry.runState])).toEqual([[container, "stopped"]]);
    });

    it("ignores statuses for containers that are not on the sending host", async () => {
      const agent = await join();
      const other = await join();
      const theirs = await insertContainer(other.hostId);
      agent.sendStatus({ containerId: theirs, state: "failed", message: "stale agent" });
      agent.sendStatus({ containerId: "no-such-container", state: "running" });
      // A frame after them proves they were handled (frames are handled in order).
      const mine = await insertContainer(agent.hostId);
      agent.sendStatus({ containerId: mine, state: "running" });
      await eventually(
        "my container to run",
        () => server.db.container.findUniqueOrThrow({ where: { id: mine } }),
        (row) => row.actualState === "running",
      );
      const untouched = await server.db.container.findUniqueOrThrow({ where: { id: theirs } });
      expect(untouched).toMatchObject({ actualState: "pending", statusMessage: null });
      expect(agent.isOpen()).toBe(true);
      expect(agent.frames.filter((frame) => frame.type === "error")).toEqual([]);
    });

    it("stores agent events, linking only the host's own containers", async () => {
      const agent = await join();
      const other = await join();
      const mine = await insertContainer(agent.hostId);
      const theirs = await insertContainer(other.hostId);
      agent.send(makeEvent({ kind: "container.oom", containerId: mine, ts: Date.now() - 1000 }));
      agent.send(
        makeEvent({ kind: "container.crashloop", containerId: theirs, message: "not mine", data: {} }),
      );
      agent.send(makeEvent({ kind: "agent.error", containerId: undefined, message: "disk full", data: {} }));
      const events = await eventually(
        "the agent's error event",
        () => eventsOf(agent.hostId),
        (rows) => rows.some((row) => row.kind === "agent.error"),
      );
      expect(events.find((row) => row.kind === "container.oom")).toMatchObject({
        containerId: mine,
        severity: "warning",
      });
      expect(events.find((row) => row.kind === "container.crashloop")).toMatchObject({
        containerId: null,
        data: { reportedContainerId: theirs },
      });
      expect(events.find((row) => row.kind === "agent.error")).toMatchObject({
        severity: "error",
        message: "disk full",
      });
    });
  });

  describe("metrics", () => {
    it("hands metrics frames to the metrics service, which stores the host's samples", async () => {
      const agent = await join();
      const container = await insertContainer(agent.hostId);
      const samples: TContainerSample[] = [makeContainerSample({ containerId: container, ts: Date.now() })];
      agent.sendMetrics({ containers: samples, host: makeHostSample({ ts: Date.now() }) });
      await eventually(
        "the host sample to be stored",
        async () => {
          await metricsService.flush();
          return server.db.hostSample.count({ where: { hostId: agent.hostId } });
        },
        (count) => count === 1,
      );
      expect(await server.db.containerSample.count({ where: { containerId: container } })).toBe(1);
      expect(metricsService.latestContainer(container)).toBeDefined();
    });
  });

  describe("operations", () => {
    it("streams progress and resolves with the agent's result", async () => {
      const agent = await join({
        answerOp: (request) =>
          request.op.kind === "logs"
            ? {
                ok: true,
                progress: [{ kind: "log", stream: "stdout", line: "one" }],
                result: { lines: [{ stream: "stdout", line: "two" }], truncated: false },
              }
            : { ok: false, code: "unsupported", message: "not here" },
      });
      const progress: unknown[] = [];
      const result = await server.gateway.request(
        agent.hostId,
        { kind: "logs", containerId: "c-1", tail: 10 },
        { onProgress: (data) => progress.push(data) },
      );
      expect(result).toEqual({ lines: [{ stream: "stdout", line: "two" }], truncated: false });
      expect(progress).toEqual([{ kind: "log", stream: "stdout", line: "one" }]);

      const failed = server.gateway.request(agent.hostId, { kind: "image.list" });
      await expect(failed).rejects.toMatchObject({
        code: "PRECONDITION_FAILED",
        opErrorCode: "unsupported",
        message: "not here",
      });
    });

    it("times out when the agent never answers", async () => {
      const agent = await join({ answerOp: () => ({ ignore: true }) });
      const started = Date.now();
      const error = await server.gateway
        .request(agent.hostId, { kind: "image.list" }, { timeoutMs: 100 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpError);
      expect(error).toMatchObject({ opErrorCode: "timeout" });
      expect(Date.now() - started).toBeGreaterThanOrEqual(100 + OP_TIMEOUT_GRACE_MS - 50);
      // The agent was told to stop.
      await agent.waitFor("op.cancel");
    });

    it("sends op.cancel on abort and settles with the agent's answer", async () => {
      const agent = await join({ answerOp: () => ({ ignore: true }) });
      const abort = new AbortController();
      const pending = server.gateway.request(
        agent.hostId,
        { kind: "logs", containerId: "c-1", follow: true },
        { signal: abort.signal },
      );
      const request = await agent.waitFor("op.request");
      abort.abort();
      const cancel = await agent.waitFor("op.cancel");
      expect(cancel.id).toBe(request.id);
      await expect(pending).rejects.toMatchObject({ opErrorCode: "cancelled", code: "CONFLICT" });
    });

    it("fails a request in flight when the agent disconnects, and refuses requests to an offline host", async () => {
      const name = `leaver-${randomUUID().slice(0, 8)}`;
      const agent = await join({ name, answerOp: () => ({ ignore: true }) });
      const settled = server.gateway
        .request(agent.hostId, { kind: "image.pull", image: "127.0.0.1:5000/app:1" })
        .catch((e: unknown) => e);
      await agent.waitFor("op.request");
      await agent.close();
      const error = await settled;
      expect(isAppError(error)).toBe(true);
      expect(error).toMatchObject({ code: "PRECONDITION_FAILED", message: `host ${name} disconnected` });
      await expect(server.gateway.request(agent.hostId, { kind: "image.list" })).rejects.toMatchObject({
        code: "PRECONDITION_FAILED",
        message: `host ${agent.hostId} is offline`,
      });
    });

    it("uploads a build context in chunks", async () => {
      const agent = await join();
      const bytes = Buffer.alloc(1300 * 1024, 7);
      await server.gateway.upload(agent.hostId, "ctx-1", bytes);
      const last = await agent.waitFor("upload.chunk", (frame) => frame.final);
      const chunks = agent.frames.filter((frame) => frame.type === "upload.chunk");
      expect(last.seq).toBe(2);
      expect(Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.data, "base64"))).equals(bytes)).toBe(
        true,
      );
    });
  });

  describe("through the real app server", () => {
    it("welcomes an agent on /agent, pushes desired state, and on shutdown tells it to reconnect elsewhere (4012)", async () => {
      let fleet: TestServer | null = null;
      // Test servers stay below the ephemeral port range; retry if the random port is taken.
      for (let attempt = 0; attempt < 5 && !fleet; attempt++) {
        const port = String(20_000 + Math.floor(Math.random() * 12_000));
        fleet = await startTestServer({ databaseUrl: database().url, env: { PORT: port } }).catch(() => null);
      }
      if (!fleet) throw new Error("could not start the app server");
      const admin = await createTestUser({ db: fleet.db, role: "admin" });
      const { token } = await createJoinToken({
        db: fleet.db,
        bus: { publish() {} },
        caller: { actor: { userId: admin.id, email: admin.email }, clientAddress: "127.0.0.1" },
        now: new Date(),
        createdById: admin.id,
        ttlMs: 60_000,
        labels: {},
        agentEndpoint: fleet.fleet.agentEndpoint,
      });
      const agent = await connectFakeAgent({
        url: fleet.url,
        joinToken: token,
        name: `via-app-${randomUUID().slice(0, 8)}`,
      });
      const gateway = fleet.fleet.services.gateway;
      expect(gateway.isConnected(agent.hostId)).toBe(true);
      const container = await fleet.db.container.create({
        data: {
          name: `app-${randomUUID().slice(0, 8)}`,
          hostId: agent.hostId,
          image: "127.0.0.1:5000/fleet/busybox:1.36",
          spec: {},
          cpuRequestMillis: 10,
          memoryRequestBytes: 0n,
          pidsRequest: 0,
        },
        select: { id: true },
      });
      const pushed = await gateway.pushDesired(agent.hostId);
      const desired = await agent.waitFor("desired", (frame) => frame.generation === pushed.generation);
      expect(desired.containers.map((spec) => spec.id)).toEqual([container.id]);

      // The app server drains first: its agents dial another replica at once.
      await fleet.close();
      expect(await agent.waitForClose()).toEqual({
        code: AGENT_CLOSE.reconnectElsewhere,
        reason: "central replica stopping: reconnect now",
      });
    });
  });
});
