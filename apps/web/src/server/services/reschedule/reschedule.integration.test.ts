// Host loss with real time and a short grace (FLEET_OFFLINE_AFTER=1s): the
// lost host's deployment replicas and restartable containers are placed on
// the remaining hosts, what fits nowhere waits and is placed when a host with
// room joins, and the lost host, once back, is no longer told to run them.
import { eventually } from "@fleet/test/harness/eventually";
import type { FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  latestDesired,
  startTestFleet,
  type TestFleet,
  waitForDesiredIds,
} from "../placement/testing/test-fleet";

describe("rescheduling on host loss", () => {
  const getDatabase = useTestDatabase();
  let fleet: TestFleet;
  const heartbeats: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    fleet = await startTestFleet({
      databaseUrl: getDatabase().url,
      env: { FLEET_OFFLINE_AFTER: "1s", FLEET_HEARTBEAT_INTERVAL: "300ms" },
    });
  });
  afterAll(async () => {
    for (const timer of heartbeats) clearInterval(timer);
    await fleet?.close();
  });

  function keepAlive(agent: FakeAgent): void {
    heartbeats.push(setInterval(() => agent.sendHeartbeat(), 250));
  }

  test("replicas and restartable containers move off an offline host; the host, back, drops them", async () => {
    const [lost, keepB, keepC] = await fleet.joinHosts([
      { name: "a-lost", cpus: 4, memoryMiB: 2048, labels: { group: "loss" } },
      { name: "b-keep", cpus: 1, memoryMiB: 1024, labels: { group: "loss" } },
      { name: "c-keep", cpus: 1, memoryMiB: 1024, labels: { group: "loss" } },
    ]);
    for (const agent of [lost!, keepB!, keepC!]) keepAlive(agent);
    const { operator, viewer } = fleet;

    // Pack everything onto a-lost first: drain the others while placing.
    await fleet.admin.host.drain.mutate({ id: keepB!.hostId, draining: true });
    await fleet.admin.host.drain.mutate({ id: keepC!.hostId, draining: true });
    const deployment = await operator.deployment.create.mutate({
      name: "api",
      image: "busybox",
      cpus: "0.25",
      memory: "64m",
      replicas: 4,
      constraints: "group=loss",
    });
    const always = await operator.container.run.mutate({
      name: "worker",
      image: "busybox",
      cpus: "0.5",
      restart: "always",
      constraints: "group=loss",
    });
    const big = await operator.container.run.mutate({
      name: "big",
      image: "busybox",
      cpus: "1.5",
      restart: "on-failure:5",
      constraints: "group=loss",
    });
    const pinned = await operator.container.run.mutate({
      name: "one-off",
      image: "busybox",
      cpus: "0.25",
      constraints: "group=loss",
    });
    await fleet.admin.host.drain.mutate({ id: keepB!.hostId, draining: false });
    await fleet.admin.host.drain.mutate({ id: keepC!.hostId, draining: false });
    const onLost = [
      ...deployment.replicas.map((r) => r.id),
      always.container.id,
      big.container.id,
      pinned.container.id,
    ];
    expect(
      new Set(
        [...deployment.replicas, always.container, big.container, pinned.container].map((c) => c.hostName),
      ),
    ).toEqual(new Set(["a-lost"]));
    await waitForDesiredIds(lost!, onLost);

    // The host goes silent: its socket closes and it misses the grace.
    clearInterval(heartbeats.shift());
    await lost!.close();
    const lostAt = Date.now();

    const moved = await eventually(
      "the replicas to run elsewhere",
      async () => (await viewer.deployment.get.query({ id: deployment.deployment.id })).replicas,
      (replicas) => replicas.filter((r) => r.hostId && r.hostId !== lost!.hostId).length === 4,
      { timeoutMs: 6000, intervalMs: 50 },
    );
    // Offline after 1 s of silence (checked every 250 ms), then one transaction.
    expect(Date.now() - lostAt).toBeLessThan(5000);
    expect(moved.map((r) => [r.name, r.replicaIndex])).toEqual([
      ["api-1", 1],
      ["api-2", 2],
      ["api-3", 3],
      ["api-4", 4],
    ]);
    // Replacements keep the revision they were made from.
    const revisions = await fleet.server.db.container.findMany({
      where: { deploymentId: deployment.deployment.id, removedAt: null },
      select: { revision: true },
    });
    expect(revisions.map((row) => row.revision)).toEqual([1, 1, 1, 1]);
    const worker = await viewer.container.get.query({ name: "worker" });
    expect(worker.container.hostName).toMatch(/^(b|c)-keep$/);
    expect(worker.container.id).not.toBe(always.container.id);
    expect(worker.events[0]).toMatchObject({ kind: "container.rescheduled" });
    expect(worker.events[0]!.message).toContain("moved from a-lost to");
    expect(worker.events[0]!.message).toContain("host a-lost went offline");

    // 1.5 cores fit neither 1-core host: it waits, and says why.
    const waiting = await viewer.container.get.query({ name: "big" });
    expect(waiting.container).toMatchObject({
      hostId: null,
      actualState: "pending",
      desiredState: "running",
    });
    expect(waiting.container.statusMessage).toMatch(/^waiting for a host with room: no host fits: /);
    expect(waiting.container.statusMessage).toContain("b-keep: not enough cpu (requested 1.5 cores");
    expect(waiting.container.restartPolicy).toBe("on-failure:5");
    expect(waiting.events[0]).toMatchObject({ kind: "container.reschedule-pending", severity: "warning" });
    expect(waiting.events[0]!.message).toContain("container big could not move off a-lost: no host fits");

    // The one without a deployment or restart policy stays where it was.
    const stayed = await viewer.container.get.query({ id: pinned.container.id });
    expect(stayed.container).toMatchObject({ hostName: "a-lost", desiredState: "running", removedAt: null });

    // Old copies: removed, capacity given back on the lost host (all but one-off's).
    const oldCopies = await fleet.server.db.container.findMany({
      where: { id: { in: onLost.filter((id) => id !== pinned.container.id) } },
    });
    expect(
      oldCopies.every(
        (c) => c.desiredState === "removed" && c.removedAt !== null && c.hostId === lost!.hostId,
      ),
    ).toBe(true);
    const lostRow = await fleet.server.db.host.findUniqueOrThrow({ where: { id: lost!.hostId } });
    expect(lostRow).toMatchObject({ status: "offline", cpuAllocatedMillis: 250 });
    for (const keep of [keepB!, keepC!]) {
      const row = await fleet.server.db.host.findUniqueOrThrow({ where: { id: keep.hostId } });
      const live = await fleet.server.db.container.findMany({
        where: { hostId: keep.hostId, removedAt: null },
      });
      expect(row.cpuAllocatedMillis).toBe(live.reduce((sum, c) => sum + c.cpuRequestMillis, 0));
      expect(row.cpuAllocatedMillis).toBeLessThanOrEqual(row.cpuAllocatableMillis);
      await waitForDesiredIds(
        keep,
        live.map((c) => c.id),
      );
    }

    // A host with room joins: the waiting container is placed there.
    const [roomy] = await fleet.joinHosts([
      { name: "d-new", cpus: 2, memoryMiB: 1024, labels: { group: "loss" } },
    ]);
    keepAlive(roomy!);
    const placed = await eventually(
      "big to be placed",
      async () => (await viewer.container.get.query({ name: "big" })).container,
      (container) => container.hostId !== null,
      { timeoutMs: 5000, intervalMs: 50 },
    );
    expect(placed).toMatchObject({ id: waiting.container.id, hostName: "d-new", statusMessage: null });
    await waitForDesiredIds(roomy!, [placed.id]);

    // The lost host comes back: its desired set holds only what stayed.
    const before = latestDesired(lost!)!.generation;
    await lost!.reconnect();
    keepAlive(lost!);
    const back = await waitForDesiredIds(lost!, [pinned.container.id]);
    expect(back.generation).toBeGreaterThan(before);

    const rescheduled = await fleet.server.db.event.findMany({ where: { kind: "container.rescheduled" } });
    expect(rescheduled).toHaveLength(5);
    for (const event of rescheduled) {
      expect(event.data).toMatchObject({ fromHostId: lost!.hostId, fromHostName: "a-lost" });
      expect([keepB!.hostId, keepC!.hostId]).toContain(event.hostId);
    }
  });

  test("removing a host moves its replicas at once", async () => {
    const [gone, stay] = await fleet.joinHosts([
      { name: "e-gone", cpus: 1, memoryMiB: 512, labels: { group: "removal" } },
      { name: "f-stay", cpus: 1, memoryMiB: 512, labels: { group: "removal" } },
    ]);
    keepAlive(gone!);
    keepAlive(stay!);
    const created = await fleet.operator.deployment.create.mutate({
      name: "cache",
      image: "busybox",
      cpus: "0.2",
      replicas: 2,
      strategy: "spread",
      constraints: "group=removal",
    });
    expect(created.replicas.map((r) => r.hostName)).toEqual(["e-gone", "f-stay"]);
    await fleet.admin.host.remove.mutate({ id: gone!.hostId });
    const after = await fleet.viewer.deployment.get.query({ id: created.deployment.id });
    expect(after.replicas.map((r) => [r.name, r.hostName])).toEqual([
      ["cache-1", "f-stay"],
      ["cache-2", "f-stay"],
    ]);
    await waitForDesiredIds(
      stay!,
      after.replicas.map((r) => r.id),
    );
    const events = await fleet.server.db.event.findMany({
      where: { kind: "container.rescheduled", deploymentId: created.deployment.id },
    });
    expect(events.map((event) => event.message)).toEqual([
      expect.stringContaining("moved from e-gone to f-stay: host e-gone was removed"),
    ]);
  });
});
