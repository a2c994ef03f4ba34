// The latest metrics of a host whose agent is connected to one replica, seen
// through another: its API (metrics.host, metrics.container, the fleet
// summary) and its live messages. Then the reader alone against rows: what
// it reads, what it leaves to the frames, and its window.
import { randomUUID } from "node:crypto";
import { makeContainerSample, makeHostSample } from "@fleet/shared/protocol/test-factories";
import { eventually } from "@fleet/test/harness/eventually";
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventBus, type LiveMetrics } from "../../events/event-bus";
import { createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../../testing/test-server";
import { LatestSamples } from "./latest-samples";
import { RemoteLatest } from "./remote-latest";
import { insertContainerSamples, insertHostSamples } from "./sample-writer";

const MIB = 1024 * 1024;
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe("latest metrics on every replica", () => {
  const database = useTestDatabase();
  let r1: TestServer;
  let r2: TestServer;
  let token: string;
  const agents: FakeAgent[] = [];

  beforeAll(async () => {
    const replica = (id: string) =>
      startTestServer({
        databaseUrl: database().url,
        env: { FLEET_REPLICA_ID: id, FLEET_OFFLINE_AFTER: "10m" },
        bus: createEventBus(),
        tuning: { metrics: { flushIntervalMs: 50, livePublishIntervalMs: 200 } },
      });
    r1 = await replica("metrics-r1");
    r2 = await replica("metrics-r2");
    ({ token } = await createTestUserWithToken({ db: r1.db, role: "admin" }));
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await Promise.all([r1, r2].map((server) => server?.close()));
  });

  async function hostOn(server: TestServer): Promise<{ agent: FakeAgent; containerId: string }> {
    const { token: joinToken } = await createTestClient(server.url, {
      bearer: token,
    }).joinToken.create.mutate({
      labels: {},
    });
    const agent = await connectFakeAgent({
      url: server.url,
      joinToken,
      name: `host-${randomUUID().slice(0, 8)}`,
      facts: { cpus: 4, memoryBytes: 4096 * MIB, labels: {} },
      reserve: { cpuMillis: 0, memoryBytes: 0 },
      answerOp: () => ({ ignore: true }),
    });
    agents.push(agent);
    const container = await server.db.container.create({
      data: {
        name: `c-${randomUUID().slice(0, 8)}`,
        hostId: agent.hostId,
        image: "busybox:1.36",
        spec: {},
        cpuRequestMillis: 100,
        memoryRequestBytes: 0n,
        pidsRequest: 0,
      },
      select: { id: true },
    });
    return { agent, containerId: container.id };
  }

  it("shows on replica 2 what an agent connected to replica 1 sends, in its API and its live messages", async () => {
    const { agent, containerId } = await hostOn(r1);
    const live: LiveMetrics[] = [];
    const unsubscribe = r2.fleet.services.bus.subscribe("metrics.live", (message) => live.push(message));
    try {
      const ts = Date.now();
      agent.sendMetrics({
        containers: [
          makeContainerSample({ containerId, ts, cpuCores: 0.75, memoryWorkingSetBytes: 40 * MIB }),
        ],
        host: makeHostSample({ ts, cpuCores: 2.5, memoryUsedBytes: 3 * 1024 * MIB }),
      });
      // Replica 1 holds it from the frame.
      await eventually(
        "the sample on replica 1",
        async () => r1.fleet.services.metrics.latestHost(agent.hostId)?.sample.ts,
        (seen) => seen === ts,
      );
      const sentAt = performance.now();
      const api2 = createTestClient(r2.url, { bearer: token });
      const hostView = await eventually(
        "the host's latest sample through replica 2",
        () => api2.metrics.host.query({ hostId: agent.hostId, range: "1h" }),
        (view) => view.latest?.sample.ts === ts,
        { timeoutMs: 5000 },
      );
      const seenAfterMs = performance.now() - sentAt;
      expect(hostView.latest?.sample).toMatchObject({ cpuCores: 2.5, memoryUsedBytes: 3 * 1024 * MIB });
      const containerView = await api2.metrics.container.query({ containerId, range: "1h" });
      expect(containerView.latest?.sample).toMatchObject({
        ts,
        cpuCores: 0.75,
        memoryWorkingSetBytes: 40 * MIB,
      });
      const summary = await api2.metrics.fleet.query({ range: "1h" });
      expect(summary.summary).toBeDefined();
      await eventually(
        "a live message on replica 2",
        async () => live,
        (messages) =>
          messages.some(
            (message) =>
              message.hosts.some((entry) => entry.hostId === agent.hostId && entry.sample.ts === ts) &&
              message.containers.some((entry) => entry.sample.containerId === containerId),
          ),
      );
      // A second or so behind: the write queue, then one read interval.
      expect(seenAfterMs).toBeLessThan(3000);

      // A newer sample follows; an older one (a spool drained late) does not replace it.
      agent.sendMetrics({ containers: [], host: makeHostSample({ ts: ts + 1000, cpuCores: 3 }) });
      agent.sendMetrics({ containers: [], host: makeHostSample({ ts: ts - 60_000, cpuCores: 9 }) });
      await eventually(
        "the newer sample through replica 2",
        async () => r2.fleet.services.metrics.latestHost(agent.hostId)?.sample,
        (sample) => sample?.ts === ts + 1000,
      );
      expect(r2.fleet.services.metrics.latestHost(agent.hostId)?.sample.cpuCores).toBe(3);
    } finally {
      unsubscribe();
    }
  });

  it("reads only hosts held elsewhere, newest row per subject, within its window", async () => {
    const db = r1.db;
    const now = Date.now();
    const hostIds = {
      remote: `rl-remote-${randomUUID().slice(0, 6)}`,
      local: `rl-local-${randomUUID().slice(0, 6)}`,
    };
    for (const [key, id] of Object.entries(hostIds)) {
      await db.host.create({
        data: {
          id,
          name: id,
          status: "online",
          connectedReplica: key === "remote" ? "another-replica" : "me",
          memoryCapacityBytes: 4096n * BigInt(MIB),
        },
      });
    }
    await insertHostSamples(db, [
      { kind: "host", hostId: hostIds.remote, sample: makeHostSample({ ts: now - 2000, cpuCores: 1 }) },
      { kind: "host", hostId: hostIds.remote, sample: makeHostSample({ ts: now - 1000, cpuCores: 2 }) },
      { kind: "host", hostId: hostIds.local, sample: makeHostSample({ ts: now - 1000, cpuCores: 5 }) },
    ]);
    await insertContainerSamples(db, [
      {
        kind: "container",
        hostId: hostIds.remote,
        sample: makeContainerSample({ containerId: "rl-c1", ts: now - 1000, cpuCores: 0.5 }),
      },
      // Older than the first read's window: not read.
      {
        kind: "container",
        hostId: hostIds.remote,
        sample: makeContainerSample({ containerId: "rl-c2", ts: now - 60_000 }),
      },
    ]);
    const latest = new LatestSamples();
    let changes = 0;
    const reader = new RemoteLatest({
      db,
      latest,
      replicaId: "me",
      localHostIds: () => [hostIds.local],
      intervalMs: 1000,
      metricsIntervalMs: 5000,
      firstWindowMs: 15_000,
      now: () => Date.now(),
      changed: () => {
        changes++;
      },
      log: quiet,
    });
    const report = await reader.refresh();
    expect(report.containers).toBeGreaterThanOrEqual(1);
    expect(latest.host(hostIds.remote)?.sample).toMatchObject({ ts: now - 1000, cpuCores: 2 });
    expect(latest.host(hostIds.local)).toBeUndefined();
    expect(latest.container("rl-c1")).toMatchObject({ hostId: hostIds.remote, sample: { cpuCores: 0.5 } });
    expect(latest.container("rl-c2")).toBeUndefined();
    expect(changes).toBe(1);

    // Nothing new: nothing recorded, nobody told.
    const again = await reader.refresh();
    expect(again).toMatchObject({ containers: 0, hosts: 0 });
    expect(changes).toBe(1);

    await db.host.deleteMany({ where: { id: { in: Object.values(hostIds) } } });
  });
});
