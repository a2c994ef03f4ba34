// Health checks through the central: what container.run (and deployment.create,
// which shares its fields) accepts reaches the agent's desired spec; what the
// agent reports in status frames and `container.health` events reaches the
// row, the view and the event log.

import type { TContainerStatusFrame } from "@fleet/shared/protocol/agent-to-server";
import { makeContainerStatus, makeEvent } from "@fleet/shared/protocol/test-factories";
import { eventually } from "@fleet/test/harness/eventually";
import type { FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  startTestFleet,
  type TestFleet,
  waitForDesiredIds,
} from "../../services/placement/testing/test-fleet";
import { trpcErrorCode } from "../../testing/test-server";

describe("container health", () => {
  const getDatabase = useTestDatabase();
  let fleet: TestFleet;
  let agent: FakeAgent;

  beforeAll(async () => {
    fleet = await startTestFleet({ databaseUrl: getDatabase().url });
    [agent] = (await fleet.joinHosts([
      { name: "health-a", cpus: 4, memoryMiB: 4096, labels: { group: "health" } },
    ])) as [FakeAgent];
  });
  afterAll(async () => {
    await fleet?.close();
  });

  const rowOf = (id: string) =>
    fleet.server.db.container.findUniqueOrThrow({
      where: { id },
      select: { health: true, healthMessage: true, healthChangedAt: true, restartCount: true },
    });

  test("run with a health check: the agent's desired spec carries it, the view shows it", async () => {
    const { container } = await fleet.operator.container.run.mutate({
      name: "checked-1",
      image: "nginx:1.27",
      constraints: "group=health",
      healthCheck: {
        test: { type: "http", port: 80, path: "/healthz" },
        interval: "5s",
        timeout: "2s",
        retries: 2,
        startPeriod: "10s",
        restartOnUnhealthy: true,
      },
    });
    const expected = {
      test: { type: "http", port: 80, path: "/healthz" },
      intervalMs: 5000,
      timeoutMs: 2000,
      retries: 2,
      startPeriodMs: 10_000,
      restartOnUnhealthy: true,
    };
    expect(container).toMatchObject({
      healthCheck: expected,
      health: null,
      healthMessage: null,
      healthChangedAt: null,
    });
    const desired = await waitForDesiredIds(agent, [container.id]);
    expect(desired.containers[0]!.healthCheck).toEqual(expected);
    // A restart rewrites the spec (a new label); the check stays in it.
    await fleet.operator.container.restart.mutate({ id: container.id });
    const restarted = await agent.waitFor("desired", (frame) => frame.generation > desired.generation);
    expect(restarted.containers[0]!.healthCheck).toEqual(expected);

    // Without one the spec says so.
    const plain = await fleet.operator.container.run.mutate({
      image: "busybox",
      constraints: "group=health",
    });
    expect(plain.container.healthCheck).toBeNull();
    const both = await waitForDesiredIds(agent, [container.id, plain.container.id]);
    expect(both.containers.find((entry) => entry.id === plain.container.id)!.healthCheck).toBeNull();
    await fleet.operator.container.remove.mutate({ id: plain.container.id });
    await fleet.operator.container.remove.mutate({ id: container.id });
    await waitForDesiredIds(agent, []);
  });

  test("a deployment's replicas carry the check to the agent", async () => {
    const created = await fleet.operator.deployment.create.mutate({
      name: "checked-deploy",
      replicas: 2,
      image: "busybox",
      command: "sleep 3600",
      constraints: "group=health",
      healthCheck: { test: { type: "exec", command: "test -f /tmp/ready" }, interval: "1s" },
    });
    const ids = created.replicas.map((replica) => replica.id);
    expect(ids).toHaveLength(2);
    const desired = await waitForDesiredIds(agent, ids);
    for (const spec of desired.containers) {
      expect(spec.healthCheck).toEqual({
        test: { type: "exec", command: ["sh", "-c", "test -f /tmp/ready"] },
        intervalMs: 1000,
        timeoutMs: 30_000,
        retries: 3,
        startPeriodMs: 0,
        restartOnUnhealthy: false,
      });
    }
    await fleet.operator.deployment.remove.mutate({ id: created.deployment.id });
    await waitForDesiredIds(agent, []);
  });

  test("bad health input is refused with the field named, and nothing is created", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ test: { type: "exec", command: "" } }, "healthCheck.test.command: must not be empty"],
      [{ test: { type: "http", port: 80, path: "no-slash" } }, "healthCheck.test.path: must start with /"],
      [{ test: { type: "tcp", port: 0 } }, "healthCheck.test.port: must be a port number from 1 to 65535"],
      [{ test: { type: "tcp", port: 80 }, interval: "1x" }, 'healthCheck.interval: invalid duration "1x"'],
      [
        { test: { type: "tcp", port: 80 }, timeout: "2d" },
        "healthCheck.timeout: must be 100ms to 1d, got 2d",
      ],
      [
        { test: { type: "tcp", port: 80 }, retries: 0 },
        "healthCheck.retries: must be a whole number from 1 to 100",
      ],
      [{ test: { type: "grpc", port: 80 } }, "healthCheck.test.type: must be exec, http or tcp"],
    ];
    const before = await fleet.server.db.container.count();
    for (const [healthCheck, message] of cases) {
      const error = await fleet.operator.container.run
        .mutate({ name: "refused", image: "busybox", constraints: "group=health", healthCheck } as never)
        .catch((caught: unknown) => caught);
      expect({ healthCheck, code: trpcErrorCode(error) }).toEqual({ healthCheck, code: "BAD_REQUEST" });
      expect((error as Error).message).toContain(message);
      const deployment = await fleet.operator.deployment.create
        .mutate({
          name: "refused",
          replicas: 2,
          image: "busybox",
          constraints: "group=health",
          healthCheck,
        } as never)
        .catch((caught: unknown) => caught);
      expect(trpcErrorCode(deployment)).toBe("BAD_REQUEST");
      expect((deployment as Error).message).toContain(message);
    }
    expect(await fleet.server.db.container.count()).toBe(before);
    expect(await fleet.server.db.deployment.count({ where: { name: "refused" } })).toBe(0);
  });

  test("status frames store the verdict and when it changed; the view and the health filter show it", async () => {
    const { container } = await fleet.operator.container.run.mutate({
      name: "reported-1",
      image: "busybox",
      constraints: "group=health",
      healthCheck: { test: { type: "exec", command: ["true"] } },
    });
    const id = container.id;
    agent.sendStatus({ containerId: id, state: "running", health: "starting", restartCount: 0 });
    const starting = await eventually(
      "health: starting",
      () => rowOf(id),
      (row) => row.health === "starting",
    );
    expect(starting.healthChangedAt).toBeInstanceOf(Date);

    // The same verdict again (a resend after a reconnect, another restart count) keeps the time it changed.
    agent.sendStatus({ containerId: id, state: "running", health: "starting", restartCount: 1 });
    const same = await eventually(
      "the second starting report",
      () => rowOf(id),
      (row) => row.restartCount === 1,
    );
    expect(same.healthChangedAt).toEqual(starting.healthChangedAt);

    agent.sendStatus({
      containerId: id,
      state: "running",
      health: "unhealthy",
      healthMessage: "exit 1: connection refused",
      restartCount: 1,
    });
    const unhealthy = await eventually(
      "health: unhealthy",
      () => rowOf(id),
      (row) => row.health === "unhealthy",
    );
    expect(unhealthy.healthMessage).toBe("exit 1: connection refused");
    expect(unhealthy.healthChangedAt!.getTime()).toBeGreaterThanOrEqual(starting.healthChangedAt!.getTime());

    const { container: shown } = await fleet.viewer.container.get.query({ id });
    expect(shown).toMatchObject({
      health: "unhealthy",
      healthMessage: "exit 1: connection refused",
      healthChangedAt: unhealthy.healthChangedAt,
      healthCheck: { test: { type: "exec", command: ["true"] }, retries: 3 },
    });
    const listed = await fleet.viewer.container.list.query({ name: "reported-", health: "unhealthy" });
    expect(listed.items.map((item) => item.id)).toEqual([id]);
    const healthyOnly = await fleet.viewer.container.list.query({ name: "reported-", health: ["healthy"] });
    expect(healthyOnly.items).toEqual([]);

    agent.sendStatus({ containerId: id, state: "running", health: "healthy", restartCount: 2 });
    const healthy = await eventually(
      "health: healthy",
      () => rowOf(id),
      (row) => row.health === "healthy",
    );
    expect(healthy.healthMessage).toBeNull();
    const listedHealthy = await fleet.viewer.container.list.query({ name: "reported-", health: ["healthy"] });
    expect(listedHealthy.items.map((item) => item.id)).toEqual([id]);
  });

  test("a status frame from an agent that reports no health stores null", async () => {
    const { container } = await fleet.operator.container.run.mutate({
      name: "older-agent-1",
      image: "busybox",
      constraints: "group=health",
    });
    const id = container.id;
    agent.sendStatus({ containerId: id, state: "running", health: "healthy", restartCount: 0 });
    await eventually(
      "health: healthy",
      () => rowOf(id),
      (row) => row.health === "healthy",
    );
    // As a version-4 agent sends it: no health fields at all.
    const {
      health: _health,
      healthMessage: _message,
      ...older
    } = makeContainerStatus({
      containerId: id,
      state: "running",
      restartCount: 1,
      ts: Date.now(),
    });
    agent.send(older as TContainerStatusFrame);
    const row = await eventually(
      "the older status",
      () => rowOf(id),
      (value) => value.restartCount === 1,
    );
    expect(row).toMatchObject({ health: null, healthMessage: null });
    expect((await fleet.viewer.container.get.query({ id })).container.health).toBeNull();
  });

  test("container.health events become events: a warning when unhealthy, info otherwise", async () => {
    const { container } = await fleet.operator.container.run.mutate({
      name: "events-1",
      image: "busybox",
      constraints: "group=health",
      healthCheck: { test: { type: "tcp", port: 6379 } },
    });
    const verdicts = ["starting", "healthy", "unhealthy"] as const;
    for (const health of verdicts) {
      agent.send(
        makeEvent({
          kind: "container.health",
          containerId: container.id,
          ts: Date.now(),
          message: `container events-1 is ${health}`,
          data: { health, ...(health === "unhealthy" ? { output: "connection refused" } : {}) },
        }),
      );
    }
    const events = await eventually(
      "the health events",
      () =>
        fleet.server.db.event.findMany({
          where: { containerId: container.id, kind: "container.health" },
          orderBy: { id: "asc" },
          select: { severity: true, message: true, data: true, hostId: true },
        }),
      (rows) => rows.length === verdicts.length,
    );
    expect(events).toEqual([
      {
        severity: "info",
        message: "container events-1 is starting",
        data: { health: "starting" },
        hostId: agent.hostId,
      },
      {
        severity: "info",
        message: "container events-1 is healthy",
        data: { health: "healthy" },
        hostId: agent.hostId,
      },
      {
        severity: "warning",
        message: "container events-1 is unhealthy",
        data: { health: "unhealthy", output: "connection refused" },
        hostId: agent.hostId,
      },
    ]);
    // The container's history shows them as any other event.
    const { events: history } = await fleet.viewer.container.get.query({ id: container.id });
    expect(
      history.filter((event) => event.kind === "container.health").map((event) => event.severity),
    ).toEqual(["warning", "info", "info"]);
    expect(agent.invalidFrames).toEqual([]);
  });
});
