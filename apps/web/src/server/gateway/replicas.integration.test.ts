// Several central replicas on one database, each a whole central (its own
// replica id, bus and notifier) with fake agents on real sockets: a change made
// on one replica reaches an agent connected to another (NOTIFY, or the
// periodic comparison when notifications are off), a newer connection of a
// host supersedes the older one wherever it is and fences it out, and hostile
// notifications change nothing.

import { randomUUID } from "node:crypto";
import { makeEvent } from "@fleet/shared/protocol/test-factories";
import { eventually } from "@fleet/test/harness/eventually";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventBus } from "../events/event-bus";
import { recordEvent } from "../events/record-event";
import type { AppRouter } from "../routers/_app";
import { createSseTestClient, recordSubscription } from "../routers/event/testing/sse-test-client";
import { API_TOKEN_CACHE_TTL_MS } from "../services/auth/api-token-cache";
import { createTestUserWithToken } from "../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../testing/test-server";
import { DESIRED_CHANNEL, HOST_CONNECTION_CHANNEL } from "./cluster-sync";
import { GATEWAY_CLOSE } from "./gateway-limits";

const MIB = 1024 * 1024;

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

describe("several central replicas on one database", () => {
  const database = useTestDatabase();
  /** r1 compares rarely (what reaches its agents in time came by NOTIFY), r2 every second, r3 sends no notifications. */
  let r1: TestServer;
  let r2: TestServer;
  let r3: TestServer;
  const agents: FakeAgent[] = [];
  let admin: ReturnType<typeof createTestClient>;

  async function replica(id: string, tuning: Parameters<typeof startTestServer>[0]["tuning"]) {
    return startTestServer({
      databaseUrl: database().url,
      // Fake agents send no heartbeats on their own: a long grace keeps them online.
      env: { FLEET_REPLICA_ID: id, FLEET_OFFLINE_AFTER: "10m" },
      bus: createEventBus(),
      tuning,
    });
  }

  beforeAll(async () => {
    r1 = await replica("r1", { gateway: { clusterCompareIntervalMs: 60_000 } });
    r2 = await replica("r2", { gateway: { clusterCompareIntervalMs: 1000 } });
    r3 = await replica("r3", { gateway: { clusterCompareIntervalMs: 2000 }, notificationsDisabled: true });
    const { token } = await createTestUserWithToken({ db: r1.db, role: "admin" });
    admin = createTestClient(r1.url, { bearer: token });
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await Promise.all([r1, r2, r3].map((server) => server?.close()));
  });

  async function join(server: TestServer, labels: Record<string, string> = {}): Promise<FakeAgent> {
    const { token } = await admin.joinToken.create.mutate({ labels });
    const agent = await connectFakeAgent({
      url: server.url,
      joinToken: token,
      name: `host-${randomUUID().slice(0, 8)}`,
      facts: { cpus: 4, memoryBytes: 4096 * MIB, labels: {} },
      reserve: { cpuMillis: 0, memoryBytes: 0 },
      answerOp: (request) =>
        request.op.kind === "volume.list"
          ? { ok: true, result: { volumes: [] } }
          : request.op.kind === "network.list"
            ? { ok: true, result: { networks: [] } }
            : { ignore: true },
    });
    agents.push(agent);
    return agent;
  }

  /** The same host dialing again on another replica, its first connection left open. */
  async function dialAgain(server: TestServer, agent: FakeAgent, autoAck = true): Promise<FakeAgent> {
    const again = await connectFakeAgent({
      url: server.url,
      credential: { hostId: agent.hostId, credential: agent.credential },
      autoAck,
    });
    agents.push(again);
    return again;
  }

  function hostRow(hostId: string) {
    return r1.db.host.findUniqueOrThrow({
      where: { id: hostId },
      select: {
        connectedReplica: true,
        connectionEpoch: true,
        desiredGeneration: true,
        ackedGeneration: true,
        address: true,
      },
    });
  }

  async function receivesGeneration(
    agent: FakeAgent,
    generation: number,
    timeoutMs: number,
  ): Promise<number> {
    const started = performance.now();
    await agent.waitFor("desired", (frame) => frame.generation >= generation, timeoutMs);
    return performance.now() - started;
  }

  it("a welcome claims the host for its replica under a new epoch", async () => {
    const agent = await join(r1);
    await eventually(
      "the host row to name r1",
      () => hostRow(agent.hostId),
      (row) => row.connectedReplica === "r1" && row.connectionEpoch === 1,
    );
    // A clean close releases the host; a reconnect claims it again with the next epoch.
    await agent.close();
    await eventually(
      "the host row to name no replica",
      () => hostRow(agent.hostId),
      (row) => row.connectedReplica === null,
    );
    await agent.reconnect();
    await agent.waitFor("welcome", undefined, 5000);
    await eventually(
      "the host row to name r1 again",
      () => hostRow(agent.hostId),
      (row) => row.connectedReplica === "r1" && row.connectionEpoch === 2,
    );
  });

  it("a desired set raised on another replica reaches the agent within 1 s (NOTIFY): p50/p99 over 50 pushes", async () => {
    const agent = await join(r1);
    await agent.waitFor("desired");
    const latencies: number[] = [];
    for (let round = 0; round < 50; round++) {
      const started = performance.now();
      const pushed = await r2.fleet.services.gateway.pushDesired(agent.hostId);
      expect(pushed.sent).toBe(false);
      await agent.waitFor("desired", (frame) => frame.generation >= (pushed.generation ?? 0), 2000);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `NOTIFY delivery (push on r2 → desired frame at the agent on r1), ${latencies.length} pushes: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`,
    );
    expect(p99).toBeLessThan(1000);
    // The agent acked the last one through r1.
    await eventually(
      "the last generation acked",
      () => hostRow(agent.hostId),
      (row) => row.ackedGeneration === row.desiredGeneration,
    );
  });

  it("container.run through another replica's API reaches the agent within 1 s", async () => {
    const agent = await join(r1, { pool: "run-elsewhere" });
    await agent.waitFor("desired");
    const { token } = await createTestUserWithToken({ db: r2.db, role: "operator" });
    const onR2 = createTestClient(r2.url, { bearer: token });
    const started = performance.now();
    const { container, placement } = await onR2.container.run.mutate({
      image: "127.0.0.1:5000/fleet/busybox:1.36",
      command: "sleep 3600",
      memory: "16m",
      cpus: "100m",
      constraints: "pool=run-elsewhere",
    });
    expect(placement.hostId).toBe(agent.hostId);
    await agent.waitFor("desired", (frame) => frame.containers.some((c) => c.id === container.id), 1000);
    console.log(
      `container.run on r2 → desired at the agent on r1: ${(performance.now() - started).toFixed(1)} ms`,
    );
  });

  it("without notifications, the holder's comparison delivers within its interval", async () => {
    const agent = await join(r2);
    await agent.waitFor("desired");
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      const pushed = await r3.fleet.services.gateway.pushDesired(agent.hostId);
      expect(pushed.sent).toBe(false);
      // r2 compares every second; a snapshot and the socket add a little.
      waits.push(await receivesGeneration(agent, pushed.generation ?? 0, 1500));
    }
    console.log(
      `fallback delivery (NOTIFY off, 1 s comparison): ${waits.map((ms) => ms.toFixed(0)).join(", ")} ms`,
    );
  });

  it("a connection on another replica supersedes the older one, which is closed (4409) and releases nothing", async () => {
    const first = await join(r1);
    await first.waitFor("desired");
    const before = await hostRow(first.hostId);
    const closed = first.waitForClose(3000);
    const second = await dialAgain(r2, first);
    const started = performance.now();
    expect((await closed).code).toBe(GATEWAY_CLOSE.replaced);
    console.log(
      `superseded connection closed ${(performance.now() - started).toFixed(1)} ms after the new welcome`,
    );
    // Its close on r1 leaves the row to r2, and records no disconnect for a host that is connected.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await hostRow(first.hostId);
    expect(after).toMatchObject({ connectedReplica: "r2", connectionEpoch: before.connectionEpoch + 1 });
    const disconnects = await r1.db.event.count({
      where: { hostId: first.hostId, kind: "host.disconnected" },
    });
    expect(disconnects).toBe(0);
    expect(r1.fleet.services.gateway.isConnected(first.hostId)).toBe(false);
    expect(r2.fleet.services.gateway.isConnected(first.hostId)).toBe(true);
    // Pushes from r1 now go to r2's connection.
    const pushed = await r1.fleet.services.gateway.pushDesired(first.hostId);
    expect(pushed.sent).toBe(false);
    await receivesGeneration(second, pushed.generation ?? 0, 1000);
  });

  it("a stale connection's frames write nothing (fenced by epoch), and the comparison closes it", async () => {
    // r3 hears no notifications: its connection stays open, stale, until its comparison (2 s).
    const stale = await join(r3);
    await stale.waitFor("desired");
    const container = await r1.db.container.create({
      data: {
        name: `fenced-${randomUUID().slice(0, 8)}`,
        hostId: stale.hostId,
        image: "127.0.0.1:5000/fleet/busybox:1.36",
        spec: { command: ["sleep", "3600"], env: {}, ports: [], labels: {} },
        cpuRequestMillis: 100,
        cpuLimitMillis: 100,
        memoryRequestBytes: BigInt(16 * MIB),
        memoryLimitBytes: BigInt(16 * MIB),
        pidsRequest: 10,
        pidsLimit: 10,
      },
      select: { id: true },
    });
    const staleEpochGeneration = (await hostRow(stale.hostId)).desiredGeneration;
    // It acks by hand: the acked generation moves only when this test says.
    const fresh = await dialAgain(r1, stale, false);
    const freshDesired = await fresh.waitFor("desired");
    fresh.send({ type: "ack", generation: freshDesired.generation });
    await eventually(
      "the fresh connection's ack",
      () => hostRow(stale.hostId),
      (row) => row.ackedGeneration === freshDesired.generation,
    );
    expect(stale.isOpen()).toBe(true);
    const eventsBefore = await r1.db.event.count({ where: { hostId: stale.hostId } });

    // The stale connection reports: a status, an event, an ack of a generation above the acked one.
    const raised = await r1.fleet.services.gateway.pushDesired(stale.hostId);
    await receivesGeneration(fresh, raised.generation ?? 0, 1000);
    stale.sendStatus({ containerId: container.id, state: "running", message: "from the stale connection" });
    stale.send(makeEvent({ kind: "agent.warning", message: "from the stale connection" }));
    stale.send({ type: "ack", generation: raised.generation ?? 0 });
    stale.sendHeartbeat({ ackedGeneration: raised.generation ?? 0 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(stale.isOpen()).toBe(true);

    const row = await r1.db.container.findUniqueOrThrow({
      where: { id: container.id },
      select: { actualState: true, statusMessage: true },
    });
    expect(row.statusMessage).not.toBe("from the stale connection");
    expect(
      await r1.db.event.count({ where: { hostId: stale.hostId, message: "from the stale connection" } }),
    ).toBe(0);
    expect(await r1.db.event.count({ where: { hostId: stale.hostId } })).toBe(eventsBefore);
    expect((await hostRow(stale.hostId)).ackedGeneration).toBe(freshDesired.generation);
    expect(staleEpochGeneration).toBeLessThan(raised.generation ?? 0);

    // The fresh connection's reports do count.
    fresh.sendStatus({ containerId: container.id, state: "running", message: "from the fresh connection" });
    await eventually(
      "the fresh status stored",
      () =>
        r1.db.container.findUniqueOrThrow({ where: { id: container.id }, select: { statusMessage: true } }),
      (value) => value.statusMessage === "from the fresh connection",
    );

    // r3's comparison finds the newer epoch and closes its connection.
    const close = await stale.waitForClose(3500);
    expect(close.code).toBe(GATEWAY_CLOSE.replaced);
    expect((await hostRow(stale.hostId)).connectedReplica).toBe("r1");
  });

  it("an event recorded on one replica appears in an event stream on another, a large one too", async () => {
    const { token } = await createTestUserWithToken({ db: r2.db, role: "viewer" });
    const viewer = createSseTestClient<AppRouter>(r2.url, token);
    const live = recordSubscription<{ id: string; kind: string; message: string }>((handlers) =>
      viewer.event.stream.subscribe({ kindPrefix: "bridge." }, handlers),
    );
    const record = (kind: string, message = "across replicas") =>
      recordEvent({ db: r1.db, bus: r1.fleet.services.bus, kind, message });
    try {
      // The subscription is in place once an event published now arrives; keep publishing until one does.
      const deadline = Date.now() + 5000;
      while (live.items.length === 0) {
        if (Date.now() > deadline) throw new Error("no bridged event reached the stream on r2");
        const started = performance.now();
        const first = await record("bridge.first");
        try {
          await live.waitFor((items) => items.some((item) => item.id === first.id.toString()), 200);
          console.log(`event on r1 → stream on r2: ${(performance.now() - started).toFixed(1)} ms`);
        } catch {}
      }
      // Too large for one notification: it travels as its id and r2 reads the row.
      const large = await record("bridge.large", "x".repeat(9000));
      await live.waitFor((items) => items.some((item) => item.id === large.id.toString()), 2000);
      expect(live.items.find((item) => item.id === large.id.toString())?.data.message).toHaveLength(9000);
      // No repeats: each row once.
      const ids = live.items.map((item) => item.id);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      live.unsubscribe();
    }
  });

  it("a token revoked on one replica closes its stream on another at once (access.changed bridged)", async () => {
    const { token } = await createTestUserWithToken({ db: r1.db, role: "viewer" });
    // A raw SSE request, so a reconnecting client cannot hide the close.
    const controller = new AbortController();
    const query = new URLSearchParams({ input: JSON.stringify({ json: { kindPrefix: "revoke." } }) });
    const response = await fetch(`${r2.url}/api/trpc/event.stream?${query}`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    let text = "";
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const ended = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
        }
      } catch {
        // A connection the server destroyed ends the read with an error: ended all the same.
      }
      return performance.now();
    })();
    try {
      await eventually(
        "the stream on r2 to open",
        async () => text,
        (value) => /retry:|: ping|connected/.test(value),
      );
      const onR1 = createTestClient(r1.url, { bearer: token });
      const [own] = (await onR1.apiToken.list.query()).items;
      await onR1.apiToken.revoke.mutate({ id: own!.id });
      const revokedAt = performance.now();
      // The periodic recheck is 30 s away: only the bridged access.changed closes it this soon.
      const closedAfter =
        (await Promise.race([
          ended,
          new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 2000)),
        ])) - revokedAt;
      console.log(`revoked on r1 → stream on r2 closed: ${closedAfter.toFixed(1)} ms`);
      expect(closedAfter).toBeLessThan(1000);
    } finally {
      controller.abort();
    }
  });

  it("a token revoked on one replica is refused on another on its next calls, though that one had just accepted it", async () => {
    const { token } = await createTestUserWithToken({ db: r1.db, role: "viewer" });
    const onR2 = createTestClient(r2.url, { bearer: token });
    // Accepted on r2, which keeps it for API_TOKEN_CACHE_TTL_MS.
    await onR2.host.list.query({});
    const acceptedAt = performance.now();
    const onR1 = createTestClient(r1.url, { bearer: token });
    const [own] = (await onR1.apiToken.list.query()).items;
    await onR1.apiToken.revoke.mutate({ id: own!.id });
    const refusal = await eventually(
      "r2 to refuse the revoked token",
      () =>
        onR2.host.list.query({}).then(
          () => null,
          (error: unknown) => error,
        ),
      (error) => error !== null,
    );
    expect((refusal as Error).message).toBe("this API token has been revoked");
    // Only the bridged access.changed explains a refusal before r2's copy ran out.
    expect(performance.now() - acceptedAt).toBeLessThan(API_TOKEN_CACHE_TTL_MS);
  });

  it("hostile notifications are dropped; the replicas keep working", async () => {
    const agent = await join(r1);
    await agent.waitFor("desired");
    const epoch = (await hostRow(agent.hostId)).connectionEpoch;
    const raw = new pg.Client({ connectionString: database().url });
    await raw.connect();
    try {
      const payloads = [
        "not json",
        "{",
        "null",
        "[]",
        '"a string"',
        "{}",
        JSON.stringify({ hostId: 42 }),
        JSON.stringify({ hostId: "../../etc", epoch: 1, replica: "x" }),
        JSON.stringify({ hostId: agent.hostId, epoch: -1, replica: "x" }),
        JSON.stringify({ hostId: agent.hostId, epoch: "9", replica: "x" }),
        JSON.stringify({ hostId: "x".repeat(5000) }),
        JSON.stringify({ hostId: agent.hostId, pad: "x".repeat(7800) }),
        // A forged epoch: the row is the truth, so the live connection stays.
        JSON.stringify({ hostId: agent.hostId, epoch: epoch + 1000, replica: "forger" }),
        JSON.stringify({ hostId: randomUUID() }),
        // A forged removal on the bus: believed only if the row says so, so the agent stays.
        JSON.stringify({ o: "forger", t: "host.removed", p: { hostId: agent.hostId } }),
        JSON.stringify({ o: "forger", t: "event", ref: "1".repeat(30) }),
      ];
      for (const channel of [HOST_CONNECTION_CHANNEL, DESIRED_CHANNEL, "fleet_bus"]) {
        for (const payload of payloads) await raw.query("SELECT pg_notify($1, $2)", [channel, payload]);
      }
    } finally {
      await raw.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(agent.isOpen()).toBe(true);
    expect(await hostRow(agent.hostId)).toMatchObject({ connectedReplica: "r1", connectionEpoch: epoch });
    const pushed = await r2.fleet.services.gateway.pushDesired(agent.hostId);
    await receivesGeneration(agent, pushed.generation ?? 0, 1000);
    expect(agent.invalidFrames).toEqual([]);
  });
});
