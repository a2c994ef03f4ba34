// An agent's link handed from a central replica that stops to another, as a
// rolling upgrade does it: the agent's real link (AgentLink) dials a small
// balancer (each new connection goes to the first replica whose /readyz
// answers 200), replica 1 is closed as SIGTERM closes it (drain: readyz 503,
// 4012 "reconnect elsewhere"), and the agent must be welcomed by replica 2
// at once, with every metric batch it sent across the handover stored.
// Prints the reconnect time.
import { randomUUID } from "node:crypto";
import { AgentLink } from "@fleet/agent/link/agent-link";
import type { TAgentAuth } from "@fleet/shared/protocol/agent-to-server";
import { makeHostFacts, makeHostReserve, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { createEventBus } from "@fleet/web/server/events/event-bus";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { createTestClient, startTestServer, type TestServer } from "@fleet/web/server/testing/test-server";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../harness/eventually";
import { useTestDatabase } from "../harness/postgres";
import { startTcpProxy, type TcpProxy, type TcpTarget } from "../harness/tcp-proxy";

async function ready(server: TestServer): Promise<boolean> {
  const response = await fetch(`${server.url}/readyz`).catch(() => null);
  return response?.status === 200;
}

function targetOf(server: TestServer): TcpTarget {
  const url = new URL(server.url);
  return { host: url.hostname, port: Number(url.port) };
}

describe("an agent handed over between replicas", () => {
  const database = useTestDatabase();
  let r1: TestServer;
  let r2: TestServer;
  let balancer: TcpProxy;
  let link: AgentLink | null = null;

  beforeAll(async () => {
    const replica = (id: string, drainMs: number) =>
      startTestServer({
        databaseUrl: database().url,
        env: { FLEET_REPLICA_ID: id, FLEET_OFFLINE_AFTER: "10m", FLEET_METRICS_INTERVAL: "1s" },
        bus: createEventBus(),
        tuning: { metrics: { flushIntervalMs: 50 } },
        drainMs,
      });
    r1 = await replica("handover-r1", 500);
    r2 = await replica("handover-r2", 0);
    balancer = await startTcpProxy(async () => {
      for (const server of [r1, r2]) if (await ready(server)) return targetOf(server);
      return null;
    });
  });

  afterAll(async () => {
    await link?.stop();
    await Promise.all([r1, r2].map((server) => server?.close()));
    await balancer?.close();
  });

  it("redials at once when its replica drains and lands on the other, losing no metric batch", async () => {
    const { token: adminToken } = await createTestUserWithToken({ db: r2.db, role: "admin" });
    const { token } = await createTestClient(r2.url, { bearer: adminToken }).joinToken.create.mutate({
      ttl: "10m",
    });
    let credential: { hostId: string; credential: string } | null = null;
    const welcomes: { at: number }[] = [];
    link = new AgentLink({
      serverUrl: `http://127.0.0.1:${balancer.port}`,
      auth: (): TAgentAuth =>
        credential ? { kind: "credential", ...credential } : { kind: "join", joinToken: token },
      hello: async () => ({
        name: `handover-${randomUUID().slice(0, 8)}`,
        facts: makeHostFacts(),
        reserve: makeHostReserve(),
        agentVersion: "0.1.0",
      }),
      onWelcome: async (welcome) => {
        if (welcome.credential) credential = { hostId: welcome.hostId, credential: welcome.credential };
        welcomes.push({ at: performance.now() });
      },
      onFrame: () => {},
      heartbeat: () => ({ containers: 0, ackedGeneration: null }),
      log: pino({ level: "silent" }),
    });
    link.start();
    await eventually("the first welcome", async () => link?.isReady, Boolean, { timeoutMs: 10_000 });
    const hostId = (credential as { hostId: string } | null)?.hostId ?? "";
    const holder = () =>
      r2.db.host.findUniqueOrThrow({ where: { id: hostId }, select: { connectedReplica: true } });
    expect((await holder()).connectedReplica).toBe("handover-r1");

    // A batch every 100 ms across the handover.
    const sent: number[] = [];
    const base = Date.now();
    let seq = 0;
    const sender = setInterval(() => {
      const ts = base + ++seq;
      sent.push(ts);
      link?.sendMetrics({ containers: [], host: makeHostSample({ ts }) });
    }, 100);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stoppedAt = performance.now();
      const closed = r1.close();
      await eventually(
        "the second welcome",
        async () => welcomes.length,
        (count) => count >= 2,
        {
          timeoutMs: 5000,
          intervalMs: 5,
        },
      );
      const reconnectMs = (welcomes[1]?.at ?? 0) - stoppedAt;
      console.log(
        `agent reconnect after 4012 (drain of its replica to welcome on another): ${reconnectMs.toFixed(0)} ms`,
      );
      expect(reconnectMs).toBeLessThan(1000);
      await closed;
      expect((await holder()).connectedReplica).toBe("handover-r2");
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      clearInterval(sender);
    }
    await eventually(
      "every batch stored",
      () => r2.db.hostSample.count({ where: { hostId, ts: { gte: new Date(base) } } }),
      (count) => count === sent.length,
      { timeoutMs: 5000 },
    );
    const host = await r2.db.host.findUniqueOrThrow({ where: { id: hostId }, select: { status: true } });
    expect(host.status).toBe("online");
  });
});
