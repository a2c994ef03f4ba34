// The fleet's background duties on two central replicas sharing one database:
// exactly one replica runs them (the one holding the duty lease); when it dies
// without releasing the lease, the other takes them within the lease's TTL
// and one try (production timings), and its offline sweep neither marks
// offline a host whose agent redials after the takeover nor marks a really
// gone host offline twice.
import { randomUUID } from "node:crypto";
import { eventually } from "@fleet/test/harness/eventually";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DUTY_LEASE_TUNING } from "../db/duty-lease";
import { createEventBus } from "../events/event-bus";
import { createTestUserWithToken } from "../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../testing/test-server";

const MIB = 1024 * 1024;
const OFFLINE_AFTER_MS = 2000;
const RECONNECT_GRACE_MS = 2000;
const HEARTBEAT_MS = 400;
const TAKEOVER_GOAL_MS = 15_000;

describe("background duties on two replicas", () => {
  const database = useTestDatabase();
  let a: TestServer;
  let b: TestServer;
  let aClosed = false;
  const agents: FakeAgent[] = [];
  const heartbeats: ReturnType<typeof setInterval>[] = [];
  let admin: ReturnType<typeof createTestClient>;

  async function replica(id: string): Promise<TestServer> {
    return startTestServer({
      databaseUrl: database().url,
      env: {
        FLEET_REPLICA_ID: id,
        FLEET_OFFLINE_AFTER: `${OFFLINE_AFTER_MS}ms`,
        FLEET_HEARTBEAT_INTERVAL: `${HEARTBEAT_MS}ms`,
      },
      bus: createEventBus(),
      // The lease keeps production's TTL and intervals: the takeover measured is the real one.
      tuning: { gateway: { offlineReconnectGraceMs: RECONNECT_GRACE_MS } },
    });
  }

  beforeAll(async () => {
    a = await replica("duties-a");
    b = await replica("duties-b");
    const { token } = await createTestUserWithToken({ db: b.db, role: "admin" });
    admin = createTestClient(b.url, { bearer: token });
  });

  afterAll(async () => {
    for (const timer of heartbeats) clearInterval(timer);
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await Promise.all([aClosed ? null : a?.close(), b?.close()]);
  });

  const answerOp = (request: { op: { kind: string } }) =>
    request.op.kind === "volume.list"
      ? ({ ok: true, result: { volumes: [] } } as const)
      : request.op.kind === "network.list"
        ? ({ ok: true, result: { networks: [] } } as const)
        : ({ ignore: true } as const);

  /** A host joined through `server`, sending heartbeats as a real agent does. */
  async function join(server: TestServer): Promise<FakeAgent> {
    const { token } = await admin.joinToken.create.mutate({ labels: {} });
    const agent = await connectFakeAgent({
      url: server.url,
      joinToken: token,
      name: `host-${randomUUID().slice(0, 8)}`,
      facts: { cpus: 2, memoryBytes: 1024 * MIB, labels: {} },
      reserve: { cpuMillis: 0, memoryBytes: 0 },
      answerOp,
    });
    agents.push(agent);
    beat(agent);
    return agent;
  }

  function beat(agent: FakeAgent): () => void {
    const timer = setInterval(() => agent.sendHeartbeat(), HEARTBEAT_MS);
    heartbeats.push(timer);
    return () => clearInterval(timer);
  }

  async function hostState(hostId: string) {
    const host = await b.db.host.findUniqueOrThrow({ where: { id: hostId }, select: { status: true } });
    const offlineEvents = await b.db.event.count({ where: { hostId, kind: "host.offline" } });
    return { status: host.status, offlineEvents };
  }

  const holders = () =>
    [a, b].filter((server) => !(server === a && aClosed) && server.fleet.services.duties.isHeld());

  it("runs the duties on exactly one replica, the first to claim the lease", async () => {
    expect(a.fleet.services.duties.isHeld()).toBe(true);
    expect(b.fleet.services.duties.isHeld()).toBe(false);
    expect(a.fleet.services.gateway.offlineSweep.isRunning()).toBe(true);
    expect(b.fleet.services.gateway.offlineSweep.isRunning()).toBe(false);
    // Through several renewals and tries of the other.
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(holders()).toEqual([a]);
    }
    const row = await b.db.dutyLease.findUniqueOrThrow({ where: { name: "duties" } });
    expect(row.holder).toBe("duties-a");
    expect(row.token).toBe(1n);
  });

  it("moves the duties to the other replica within 15 s when the holder dies without releasing them; no host is marked offline by the takeover and a gone one only once", {
    timeout: 60_000,
  }, async () => {
    const onSurvivor = await join(b);
    const redials = await join(a);
    const gone = await join(a);
    // Everyone is heard for a while, on both replicas.
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
    for (const agent of [onSurvivor, redials, gone])
      expect((await hostState(agent.hostId)).status).toBe("online");

    // The holder dies: its duties stop without the lease being released, its sockets go.
    const diedAt = Date.now();
    await a.fleet.services.duties.abandon();
    aClosed = true;
    await a.close();
    expect(b.fleet.services.duties.isHeld()).toBe(false);

    await eventually(
      "replica b holds the duties",
      async () => b.fleet.services.duties.isHeld(),
      (held) => held,
      { timeoutMs: TAKEOVER_GOAL_MS + 5000, intervalMs: 20 },
    );
    const takeoverMs = Date.now() - diedAt;
    console.log(
      `duty takeover after the holder died: ${takeoverMs} ms (lease TTL ${DEFAULT_DUTY_LEASE_TUNING.ttlMs} ms, tries every ${DEFAULT_DUTY_LEASE_TUNING.retryIntervalMs} ms)`,
    );
    expect(takeoverMs).toBeLessThan(TAKEOVER_GOAL_MS);
    expect(takeoverMs).toBeLessThanOrEqual(
      DEFAULT_DUTY_LEASE_TUNING.ttlMs + DEFAULT_DUTY_LEASE_TUNING.retryIntervalMs + 1500,
    );
    expect(b.fleet.services.gateway.offlineSweep.isRunning()).toBe(true);
    const row = await b.db.dutyLease.findUniqueOrThrow({ where: { name: "duties" } });
    expect(row).toMatchObject({ holder: "duties-b", token: 2n });

    // The redialling agent comes back after the takeover: silent far longer than
    // FLEET_OFFLINE_AFTER by then, but within the grace its sweeper gives hosts it has not yet heard.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await hostState(redials.hostId)).status).toBe("online");
    const back = await connectFakeAgent({
      url: b.url,
      credential: { hostId: redials.hostId, credential: redials.credential },
      answerOp,
    });
    agents.push(back);
    beat(back);

    // The gone host goes offline once its grace and the reconnect allowance have passed.
    await eventually(
      "the gone host is offline",
      () => hostState(gone.hostId),
      (state) => state.status === "offline",
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    const goneOfflineAfterMs = Date.now() - diedAt;
    expect(goneOfflineAfterMs).toBeGreaterThanOrEqual(
      takeoverMs + OFFLINE_AFTER_MS + RECONNECT_GRACE_MS - 500,
    );
    // Well past every grace: still once, and nobody else.
    await new Promise((resolve) => setTimeout(resolve, 2 * OFFLINE_AFTER_MS + RECONNECT_GRACE_MS));
    expect(await hostState(gone.hostId)).toEqual({ status: "offline", offlineEvents: 1 });
    expect(await hostState(redials.hostId)).toEqual({ status: "online", offlineEvents: 0 });
    expect(await hostState(onSurvivor.hostId)).toEqual({ status: "online", offlineEvents: 0 });
    expect(onSurvivor.isOpen()).toBe(true);
    expect(back.isOpen()).toBe(true);
  });

  it("keeps marking a silent host offline on the new holder, once, and drops its socket", async () => {
    const agent = await join(b);
    const stop = beat(agent);
    await new Promise((resolve) => setTimeout(resolve, 2 * HEARTBEAT_MS));
    stop();
    for (const timer of heartbeats) clearInterval(timer);
    const closed = await agent.waitForClose(4 * OFFLINE_AFTER_MS);
    expect(closed.code).toBe(1006);
    expect(await hostState(agent.hostId)).toEqual({ status: "offline", offlineEvents: 1 });
  });
});
