// A central replica as a load balancer and its agents see it: /healthz and
// /readyz, its row among the replicas, a SIGTERM drain (readyz 503, agents
// told to reconnect elsewhere, the agent port closed, HTTP still served for
// the drain period) and a
// database outage (readyz 503, the API 503 and retryable, agents closed with
// 4013 and refused until the database is back, then everything as before).
// The outage is a TCP proxy between this central and the shared test
// Postgres, cut and restored: the server other test files use stays up.
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { connect } from "node:net";
import { makeContainerSample, makeEvent, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { AGENT_CLOSE } from "@fleet/shared/protocol/version";
import { eventually } from "@fleet/test/harness/eventually";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { startTcpProxy, type TcpProxy } from "@fleet/test/harness/tcp-proxy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "./db/client";
import { createEventBus } from "./events/event-bus";
import { createTestUserWithToken } from "./testing/factories";
import { createTestClient, startTestServer, type TestServer, trpcErrorCode } from "./testing/test-server";

const MIB = 1024 * 1024;

async function get(url: string, method = "GET"): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method });
  return { status: response.status, text: await response.text() };
}

/** The raw answer to a WebSocket upgrade on /agent (the status line is what matters). */
function upgradeStatus(serverUrl: string): Promise<number> {
  const { hostname, port } = new URL(serverUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      path: "/agent",
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

function tcpConnect(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve();
    });
    socket.on("error", reject);
  });
}

describe("a central replica's lifecycle", () => {
  const database = useTestDatabase();
  let db: PrismaClient;

  beforeAll(() => {
    db = createPrismaClient(database().url);
  });
  afterAll(async () => {
    await db.$disconnect();
  });

  async function joinAgent(server: TestServer, token: string): Promise<FakeAgent> {
    const { token: joinToken } = await createTestClient(server.url, {
      bearer: token,
    }).joinToken.create.mutate({
      labels: {},
    });
    return connectFakeAgent({
      url: server.url,
      joinToken,
      name: `host-${randomUUID().slice(0, 8)}`,
      facts: { cpus: 2, memoryBytes: 2048 * MIB, labels: {} },
      reserve: { cpuMillis: 0, memoryBytes: 0 },
      answerOp: () => ({ ignore: true }),
    });
  }

  it("answers /healthz and /readyz without credentials, registers itself, and leaves the registry on close", async () => {
    const server = await startTestServer({
      databaseUrl: database().url,
      env: { FLEET_REPLICA_ID: "lifecycle-a" },
      bus: createEventBus(),
    });
    try {
      expect(await get(`${server.url}/healthz`)).toEqual({ status: 200, text: "ok\n" });
      expect(await get(`${server.url}/readyz`)).toEqual({ status: 200, text: "ready\n" });
      expect((await get(`${server.url}/readyz`, "HEAD")).status).toBe(200);
      expect((await get(`${server.url}/readyz`, "POST")).status).toBe(405);
      // No body, no query string changes anything.
      expect((await get(`${server.url}/readyz?x=${"a".repeat(2000)}`)).status).toBe(200);

      const row = await db.centralReplica.findUnique({ where: { id: "lifecycle-a" } });
      expect(row).toMatchObject({ internalUrl: server.url, stopping: false });
      expect(row?.version).toMatch(/^\d+\.\d+\.\d+\+/);
      expect((await server.fleet.services.replicas.liveReplicas()).map((replica) => replica.id)).toContain(
        "lifecycle-a",
      );
    } finally {
      await server.close();
    }
    expect(await db.centralReplica.findUnique({ where: { id: "lifecycle-a" } })).toBeNull();
  });

  it("drains on close: readyz 503 and stopping, agents told to reconnect elsewhere and refused, HTTP served for the drain period", async () => {
    const server = await startTestServer({
      databaseUrl: database().url,
      env: { FLEET_REPLICA_ID: "lifecycle-b", FLEET_OFFLINE_AFTER: "10m" },
      bus: createEventBus(),
      drainMs: 1500,
    });
    let closed: Promise<void> | null = null;
    try {
      const { token } = await createTestUserWithToken({ db: server.db, role: "admin" });
      const agent = await joinAgent(server, token);
      const agentClosed = agent.waitForClose(5000);

      const startedAt = performance.now();
      closed = server.close();
      expect(await agentClosed).toEqual({
        code: AGENT_CLOSE.reconnectElsewhere,
        reason: "central replica stopping: reconnect now",
      });
      expect(performance.now() - startedAt).toBeLessThan(1000);
      expect(await get(`${server.url}/readyz`)).toEqual({
        status: 503,
        text: "draining: this replica is stopping\n",
      });
      expect((await get(`${server.url}/healthz`)).status).toBe(200);
      expect(await upgradeStatus(server.url)).toBe(503);
      // The agent port takes no new connection: a TCP balancer sends the redial to another replica.
      await expect(tcpConnect(server.fleet.agentUrl)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      await eventually(
        "the row marked stopping",
        () => db.centralReplica.findUnique({ where: { id: "lifecycle-b" } }),
        (row) => row?.stopping === true,
      );
      // The API still answers during the drain.
      expect((await createTestClient(server.url).health.query()).status).toBe("ok");

      await closed;
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(1500);
      expect(await db.centralReplica.findUnique({ where: { id: "lifecycle-b" } })).toBeNull();
      // The host was not marked offline by a replica stopping.
      const host = await db.host.findUniqueOrThrow({ where: { id: agent.hostId }, select: { status: true } });
      expect(host.status).toBe("online");
    } finally {
      await (closed ?? server.close());
    }
  });

  describe("through a database outage", () => {
    let proxy: TcpProxy;
    let server: TestServer;
    let token: string;

    beforeAll(async () => {
      const url = new URL(database().url);
      proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
      server = await startTestServer({
        databaseUrl: proxy.urlThrough(database().url),
        env: { FLEET_REPLICA_ID: "lifecycle-c", FLEET_OFFLINE_AFTER: "10m" },
        bus: createEventBus(),
      });
      ({ token } = await createTestUserWithToken({ db, role: "admin" }));
    });
    afterAll(async () => {
      proxy?.restore();
      await server?.close();
      await proxy?.close();
    });

    it("answers 503 (readyz, the API, agents) while the database is away and serves as before once it is back", async () => {
      const api = createTestClient(server.url, { bearer: token });
      const agent = await joinAgent(server, token);
      // The hello is done once its first desired set arrived.
      await agent.waitFor("desired");
      expect((await api.host.list.query({})).items.map((host) => host.id)).toContain(agent.hostId);
      const agentClosed = agent.waitForClose(10_000);
      const container = await db.container.create({
        data: {
          name: `held-${randomUUID().slice(0, 8)}`,
          hostId: agent.hostId,
          image: "busybox:1.36",
          spec: {},
          cpuRequestMillis: 10,
          memoryRequestBytes: 0n,
          pidsRequest: 0,
        },
        select: { id: true },
      });

      proxy.cut();
      const cutAt = performance.now();
      // Frames received before the outage is noticed are held, then written once the database is back.
      const heldTs = Date.now();
      const marker = `held through the outage ${randomUUID()}`;
      agent.sendMetrics({
        containers: [makeContainerSample({ containerId: container.id, ts: heldTs })],
        host: makeHostSample({ ts: heldTs }),
      });
      agent.send(makeEvent({ kind: "agent.warning", containerId: undefined, message: marker, data: {} }));
      const readyz = await eventually(
        "readyz 503",
        () => get(`${server.url}/readyz`),
        (answer) => answer.status === 503,
        { timeoutMs: 5000 },
      );
      const detectedMs = performance.now() - cutAt;
      expect(readyz.text).toMatch(/^database unreachable: /);
      expect(detectedMs).toBeLessThan(3000);
      expect((await get(`${server.url}/healthz`)).status).toBe(200);

      // The API: 503, retryable, said at once rather than after a hung query.
      const callStarted = performance.now();
      const failure = await api.host.list.query({}).then(
        () => null,
        (error: unknown) => error,
      );
      expect(trpcErrorCode(failure)).toBe("SERVICE_UNAVAILABLE");
      expect(performance.now() - callStarted).toBeLessThan(500);
      const raw = await fetch(`${server.url}/api/trpc/host.list`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(raw.status).toBe(503);
      expect(raw.headers.get("retry-after")).toBe("2");

      // The other entrances that need the database first say so too.
      for (const path of ["/metrics", "/api/uploads"]) {
        const answer = await fetch(`${server.url}${path}`, {
          method: path === "/metrics" ? "GET" : "POST",
          headers: { authorization: `Bearer ${token}` },
        });
        expect(answer.status).toBe(503);
        expect(answer.headers.get("retry-after")).toBe("2");
      }

      // Agents: closed with 4013 and refused until the database is back.
      expect((await agentClosed).code).toBe(AGENT_CLOSE.databaseUnavailable);
      expect(await upgradeStatus(server.url)).toBe(503);

      // Long enough for several retries of what is held.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      proxy.restore();
      await eventually(
        "readyz 200",
        () => get(`${server.url}/readyz`),
        (answer) => answer.status === 200,
        { timeoutMs: 5000 },
      );
      await eventually(
        "what was received during the outage, written",
        async () => ({
          hostSamples: await db.hostSample.count({ where: { hostId: agent.hostId, ts: new Date(heldTs) } }),
          containerSamples: await db.containerSample.count({
            where: { containerId: container.id, ts: new Date(heldTs) },
          }),
          events: await db.event.count({ where: { hostId: agent.hostId, message: marker } }),
        }),
        (written) => written.hostSamples === 1 && written.containerSamples === 1 && written.events === 1,
        { timeoutMs: 10_000 },
      );
      const stats = server.fleet.services.metrics.stats();
      expect(stats.unverifiedSamplesDropped).toBe(0);
      expect(stats.queue).toMatchObject({ failedRows: 0, droppedRows: 0 });

      await agent.reconnect();
      expect(agent.isOpen()).toBe(true);
      const hosts = (await api.host.list.query({})).items;
      expect(hosts.find((host) => host.id === agent.hostId)?.status).toBe("online");
      await agent.close();
    });
  });
});
