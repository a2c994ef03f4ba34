// The two halves together, with nothing faked: the real central (tRPC API,
// /agent gateway, metric ingest) on a real Postgres, and the real `fleet-agent`
// process driving a real engine (Docker, then Podman). A host joins with a join
// token, `container.run` places a container on it, the agent starts it with the
// limits in the kernel's cgroup files, its metrics land in the central's history,
// stop keeps the engine container (exited, logs readable) and start runs that
// same one again, and remove takes it out of the engine.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveCgroupDirs } from "@fleet/agent/metrics/cgroup/paths";
import { readCgroupLimits } from "@fleet/agent/metrics/cgroup/read-cgroup";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { createTestClient, startTestServer, type TestServer } from "@fleet/web/server/testing/test-server";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { describeEachEngine } from "../harness/engines";
import { eventually } from "../harness/eventually";
import { useTestDatabase } from "../harness/postgres";
import { buildTestImage, TEST_IMAGE_TAG } from "../harness/test-image";

const MIB = 1024 * 1024;
const agentBin = fileURLToPath(new URL("../../apps/agent/bin/fleet-agent.js", import.meta.url));

const database = useTestDatabase();
let server: TestServer;
let client: ReturnType<typeof createTestClient>;

beforeAll(async () => {
  server = await startTestServer({
    databaseUrl: database().url,
    env: { FLEET_METRICS_INTERVAL: "1s", FLEET_HEARTBEAT_INTERVAL: "1s" },
  });
  const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
  client = createTestClient(server.url, { bearer: admin.token });
});

afterAll(async () => {
  await server?.close();
});

describeEachEngine("the real agent against the real central", ({ kind, engine }) => {
  let agent: ChildProcess | null = null;
  let stateDir = "";
  let output = "";

  beforeAll(async () => {
    await buildTestImage(engine());
    stateDir = await mkdtemp(join(tmpdir(), "fleet-real-agent-"));
  });

  afterEach(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill("SIGTERM");
      await once(agent, "exit");
    }
    agent = null;
    await rm(stateDir, { recursive: true, force: true });
  });

  it("joins, runs a container with its limits, reports metrics, stops and starts it in place, and removes it", async () => {
    const { token } = await client.joinToken.create.mutate({ ttl: "10m" });
    const e = engine();
    agent = spawn(
      process.execPath,
      [
        agentBin,
        ...["--server", server.url, "--join-token", token, "--engine", e.dockerHost],
        ...[
          "--cgroup-parent",
          e.cgroupParent,
          "--state-dir",
          stateDir,
          "--name",
          `real-${kind}`,
          "--label",
          `engine=${kind}`,
        ],
      ],
      { stdio: ["ignore", "pipe", "pipe"], cwd: tmpdir() },
    );
    agent.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    agent.stderr?.on("data", (chunk) => {
      output += chunk;
    });

    const host = await eventually(
      "the host to come online",
      async () => (await client.host.list.query({})).items.find((h) => h.name === `real-${kind}`),
      (h) => h?.status === "online",
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch((error) => {
      throw new Error(`${error.message}\nagent output:\n${output.slice(-4000)}`);
    });

    const greeting = `hello from ${kind}`;
    const { container, placement } = await client.container.run.mutate({
      image: TEST_IMAGE_TAG,
      // Says something for the logs, and leaves at once on SIGTERM (a bare `sleep`
      // as pid 1 ignores it and would hold every stop for the whole timeout).
      command: ["sh", "-c", `trap 'exit 0' TERM; echo '${greeting}'; while true; do sleep 1; done`],
      // Would bring back a container whose stop the agent mistook for a crash.
      restart: "always",
      memory: "64m",
      cpus: "0.5",
      pids: 50,
      // The other engine's host may still count as online: pin the container to this one.
      constraints: `engine=${kind}`,
    });
    expect(placement.hostId).toBe(host!.id);

    const running = await eventually(
      "the container to run",
      async () => (await client.container.get.query({ id: container.id })).container,
      (c) => c.actualState === "running",
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(running.engineId).toBeTruthy();
    expect(running.startLatencyMs).toBeGreaterThan(0);

    // The kernel holds the limits the API was given.
    const inspected = await e.docker.getContainer(running.engineId!).inspect();
    const limits = await readCgroupLimits(await resolveCgroupDirs(inspected.State.Pid));
    expect(limits).toMatchObject({
      memoryLimitBytes: 64 * MIB,
      memorySwapLimitBytes: 64 * MIB,
      cpuQuotaUs: 50_000,
      cpuPeriodUs: 100_000,
      pidsLimit: 50,
    });

    // Its samples, read from cgroupfs by the agent, are in the central's history.
    const metrics = await eventually(
      "metrics of the container",
      () => client.metrics.container.query({ containerId: container.id, range: "15m" }),
      (m) => m.series.points.length > 0 && m.latest !== null,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(metrics.latest?.sample.memoryLimitBytes).toBe(64 * MIB);

    const byLabel = { filters: { label: [`fleet.container-id=${container.id}`] } };
    const allByLabel = { all: true, ...byLabel };
    const logLines = async () =>
      (await client.container.logs.query({ id: container.id, tail: 100 })).lines.map((l) => l.line);
    await eventually("its greeting in the logs", logLines, (lines) => lines.includes(greeting), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });

    // Stop keeps the container: exited in the engine, its logs still there, as `docker stop` does.
    await client.container.stop.mutate({ id: container.id });
    await eventually(
      "the container to stop",
      () => e.docker.listContainers(byLabel),
      (list) => list.length === 0,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const stopped = await eventually(
      "the stop to be reported",
      async () => (await client.container.get.query({ id: container.id })).container,
      (c) => c.actualState === "stopped",
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(stopped).toMatchObject({ desiredState: "stopped", engineId: running.engineId });
    const kept = await e.docker.listContainers(allByLabel);
    expect(kept.map((c) => [c.Id, c.State])).toEqual([[running.engineId, "exited"]]);
    expect(await logLines()).toContain(greeting);
    // Nothing brings it back on its own (the agent's restart policy does not count a stop as a crash).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await e.docker.listContainers(byLabel)).toEqual([]);

    // Start runs the same engine container again.
    await client.container.start.mutate({ id: container.id });
    const restarted = await eventually(
      "the container to run again",
      async () => (await client.container.get.query({ id: container.id })).container,
      (c) => c.actualState === "running",
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(restarted.engineId).toBe(running.engineId);
    const again = await e.docker.getContainer(running.engineId!).inspect();
    expect(again.State.Running).toBe(true);
    expect(await e.docker.listContainers(allByLabel)).toHaveLength(1);

    // Stopped again, then removed: the engine forgets the kept container.
    await client.container.stop.mutate({ id: container.id });
    await eventually(
      "the container to stop again",
      () => e.docker.listContainers(byLabel),
      (list) => list.length === 0,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await client.container.remove.mutate({ id: container.id });
    await eventually(
      "the engine to forget the container",
      () =>
        e.docker.listContainers({ all: true, filters: { label: [`fleet.container-id=${container.id}`] } }),
      (list) => list.length === 0,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });
});
