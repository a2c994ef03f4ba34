// Liveness with real time and a short grace (FLEET_OFFLINE_AFTER=1s): its own
// database, so no host of another test file is swept offline by this server.
import { randomUUID } from "node:crypto";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayTestServer, startGatewayTestServer } from "./testing/gateway-test-server";

const OFFLINE_AFTER_MS = 1000;
describe("gateway liveness", () => {
  const database = useTestDatabase();
  let server: GatewayTestServer;
  const offlineHookCalls: string[] = [];
  const agents: FakeAgent[] = [];

  beforeAll(async () => {
    server = await startGatewayTestServer({
      databaseUrl: database().url,
      env: { FLEET_OFFLINE_AFTER: "1s", FLEET_HEARTBEAT_INTERVAL: "300ms" },
    });
    server.gateway.onHostOffline((hostId) => {
      offlineHookCalls.push(hostId);
    });
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await server?.close();
  });

  async function join(): Promise<FakeAgent> {
    const agent = await connectFakeAgent({
      url: server.url,
      joinToken: await server.createJoinToken(),
      name: `live-${randomUUID().slice(0, 8)}`,
    });
    agents.push(agent);
    return agent;
  }

  function statusOf(hostId: string) {
    return server.db.host
      .findUniqueOrThrow({ where: { id: hostId }, select: { status: true } })
      .then((h) => h.status);
  }

  async function kindsOf(hostId: string): Promise<string[]> {
    const events = await server.db.event.findMany({
      where: { hostId },
      orderBy: { id: "asc" },
      select: { kind: true },
    });
    return events.map((event) => event.kind);
  }

  /** Sends heartbeats at the welcome's interval until stopped. */
  function keepAlive(agent: FakeAgent): () => void {
    const timer = setInterval(() => agent.sendHeartbeat(), 300);
    return () => clearInterval(timer);
  }

  describe("host liveness", () => {
    it("keeps a host that sends heartbeats online past the grace period", async () => {
      const agent = await join();
      const stop = keepAlive(agent);
      await new Promise((resolve) => setTimeout(resolve, 2.5 * OFFLINE_AFTER_MS));
      stop();
      expect(await statusOf(agent.hostId)).toBe("online");
      expect(offlineHookCalls).not.toContain(agent.hostId);
      expect(agent.isOpen()).toBe(true);
    });

    it("marks a silent host offline within the grace, calls the hook, drops the socket; a reconnect brings it back", async () => {
      const agent = await join();
      const silentSince = Date.now();
      const closed = await agent.waitForClose(4 * OFFLINE_AFTER_MS);
      const tookMs = Date.now() - silentSince;
      expect(tookMs).toBeGreaterThanOrEqual(OFFLINE_AFTER_MS - 50);
      // One sweep (a quarter of the grace) late at most, plus scheduling slack.
      expect(tookMs).toBeLessThan(OFFLINE_AFTER_MS * 2);
      expect(closed.code).toBe(1006);
      expect(await statusOf(agent.hostId)).toBe("offline");
      expect(offlineHookCalls.filter((id) => id === agent.hostId)).toHaveLength(1);
      expect(await kindsOf(agent.hostId)).toContain("host.offline");
      expect(server.publishedOn("host.changed")).toContainEqual({ hostId: agent.hostId });
      expect(server.gateway.isConnected(agent.hostId)).toBe(false);

      await agent.reconnect();
      expect(await statusOf(agent.hostId)).toBe("online");
      const kinds = await kindsOf(agent.hostId);
      expect(kinds.slice(kinds.indexOf("host.offline"))).toEqual(
        expect.arrayContaining(["host.offline", "host.connected", "host.online"]),
      );
      expect(offlineHookCalls.filter((id) => id === agent.hostId)).toHaveLength(1);
    });

    it("gives a closed connection the grace to come back, then marks it offline", async () => {
      const agent = await join();
      const stop = keepAlive(agent);
      await agent.close();
      await new Promise((resolve) => setTimeout(resolve, OFFLINE_AFTER_MS / 2));
      await agent.reconnect();
      await new Promise((resolve) => setTimeout(resolve, OFFLINE_AFTER_MS * 0.8));
      expect(await statusOf(agent.hostId)).toBe("online");
      stop();

      await agent.close();
      await new Promise((resolve) => setTimeout(resolve, OFFLINE_AFTER_MS * 1.6));
      expect(await statusOf(agent.hostId)).toBe("offline");
      expect(offlineHookCalls).toContain(agent.hostId);
    });
  });
});
