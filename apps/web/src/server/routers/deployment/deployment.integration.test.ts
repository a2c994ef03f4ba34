// Deployments over HTTP with fake agents on real sockets: replicas are placed
// all or nothing, scaling adds the missing indexes or removes the highest,
// removal frees everything, and each agent's desired set follows.

import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  startTestFleet,
  type TestFleet,
  waitForDesiredIds,
} from "../../services/placement/testing/test-fleet";
import { trpcErrorCode } from "../../testing/test-server";

const MIB = 1024 * 1024;

describe("deployment", () => {
  const getDatabase = useTestDatabase();
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await startTestFleet({ databaseUrl: getDatabase().url });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  async function allocated(hostId: string) {
    const host = await fleet.server.db.host.findUniqueOrThrow({ where: { id: hostId } });
    return { cpu: host.cpuAllocatedMillis, memory: Number(host.memoryAllocatedBytes) };
  }

  test("create, scale up, scale down and remove, with every agent told", async () => {
    const [a, b] = await fleet.joinHosts([
      { name: "dep-a", cpus: 2, memoryMiB: 1024, labels: { group: "dep" } },
      { name: "dep-b", cpus: 2, memoryMiB: 1024, labels: { group: "dep" } },
    ]);
    const created = await fleet.operator.deployment.create.mutate({
      name: "web",
      image: "busybox",
      command: ["sleep", "3600"],
      cpus: "0.25",
      memory: "64m",
      replicas: 4,
      strategy: "spread",
      constraints: "group=dep",
    });
    expect(created.deployment).toMatchObject({
      name: "web",
      replicas: 4,
      currentReplicas: 4,
      runningReplicas: 0,
      pendingPlacement: 0,
      strategy: "spread",
      resources: { cpuRequestMillis: 250, cpuLimitMillis: 250, memoryRequestBytes: 64 * MIB },
    });
    expect(created.replicas.map((r) => [r.name, r.replicaIndex, r.hostName])).toEqual([
      ["web-1", 1, "dep-a"],
      ["web-2", 2, "dep-b"],
      ["web-3", 3, "dep-a"],
      ["web-4", 4, "dep-b"],
    ]);
    // Every replica says which revision it was made from: the first.
    expect(created.replicas.map((replica) => replica.revision)).toEqual([1, 1, 1, 1]);
    const idsOn = (replicas: typeof created.replicas, hostId: string) =>
      replicas.filter((replica) => replica.hostId === hostId).map((replica) => replica.id);
    await waitForDesiredIds(a!, idsOn(created.replicas, a!.hostId));
    await waitForDesiredIds(b!, idsOn(created.replicas, b!.hostId));
    expect(await allocated(a!.hostId)).toEqual({ cpu: 500, memory: 128 * MIB });

    const again = await fleet.operator.deployment.create
      .mutate({ name: "web", image: "busybox", replicas: 1, constraints: "group=dep" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(again)).toBe("CONFLICT");

    const deploymentsBefore = await fleet.server.db.deployment.count();
    const containersBefore = await fleet.server.db.container.count();
    const tooMany = await fleet.operator.deployment.create
      .mutate({ name: "huge", image: "busybox", cpus: "1", replicas: 4, constraints: "group=dep" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(tooMany)).toBe("PRECONDITION_FAILED");
    expect((tooMany as Error).message).toMatch(
      /^request 3 of 4: no host fits: .*dep-a: not enough cpu.*nothing was placed$/,
    );
    expect(await fleet.server.db.deployment.count()).toBe(deploymentsBefore);
    expect(await fleet.server.db.container.count()).toBe(containersBefore);

    const up = await fleet.operator.deployment.scale.mutate({ id: created.deployment.id, replicas: 6 });
    expect(up.replicas.map((replica) => replica.name)).toEqual([
      "web-1",
      "web-2",
      "web-3",
      "web-4",
      "web-5",
      "web-6",
    ]);
    expect(up.deployment.replicas).toBe(6);
    expect(await allocated(a!.hostId)).toEqual({ cpu: 750, memory: 192 * MIB });
    await waitForDesiredIds(a!, idsOn(up.replicas, a!.hostId));
    await waitForDesiredIds(b!, idsOn(up.replicas, b!.hostId));

    // All or nothing on the way up too: 6 more would not fit.
    const refused = await fleet.operator.deployment.scale
      .mutate({ id: created.deployment.id, replicas: 20 })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(refused)).toBe("PRECONDITION_FAILED");
    expect((await fleet.viewer.deployment.get.query({ id: created.deployment.id })).replicas).toHaveLength(6);
    // A page showing a big deployment asks for its first replicas only, and hears how many there are.
    const firstTwo = await fleet.viewer.deployment.get.query({ id: created.deployment.id, replicasLimit: 2 });
    expect(firstTwo.replicas.map((replica) => replica.name)).toEqual(["web-1", "web-2"]);
    expect(firstTwo.replicasTotal).toBe(6);

    const down = await fleet.operator.deployment.scale.mutate({ id: created.deployment.id, replicas: 2 });
    expect(down.replicas.map((replica) => replica.name)).toEqual(["web-1", "web-2"]);
    await waitForDesiredIds(a!, idsOn(down.replicas, a!.hostId));
    await waitForDesiredIds(b!, idsOn(down.replicas, b!.hostId));
    expect(await allocated(a!.hostId)).toEqual({ cpu: 250, memory: 64 * MIB });
    expect(await allocated(b!.hostId)).toEqual({ cpu: 250, memory: 64 * MIB });

    // Scaling up again reuses the freed indexes.
    const upAgain = await fleet.operator.deployment.scale.mutate({ id: created.deployment.id, replicas: 3 });
    expect(upAgain.replicas.map((replica) => replica.name)).toEqual(["web-1", "web-2", "web-3"]);

    const byName = await fleet.viewer.deployment.get.query({ name: "web" });
    expect(byName.deployment.id).toBe(created.deployment.id);
    const listed = await fleet.viewer.deployment.list.query();
    expect(listed.items.map((item) => [item.name, item.currentReplicas])).toEqual([["web", 3]]);

    const removed = await fleet.operator.deployment.remove.mutate({ id: created.deployment.id });
    expect(removed.deployment.removedAt).toBeInstanceOf(Date);
    expect(removed.replicas).toEqual([]);
    await waitForDesiredIds(a!, []);
    await waitForDesiredIds(b!, []);
    expect(await allocated(a!.hostId)).toEqual({ cpu: 0, memory: 0 });
    expect(await allocated(b!.hostId)).toEqual({ cpu: 0, memory: 0 });
    expect((await fleet.viewer.deployment.list.query()).items).toEqual([]);
    expect((await fleet.viewer.deployment.list.query({ includeRemoved: true })).items).toHaveLength(1);
    expect(
      trpcErrorCode(
        await fleet.operator.deployment.scale
          .mutate({ id: created.deployment.id, replicas: 2 })
          .catch((e: unknown) => e),
      ),
    ).toBe("PRECONDITION_FAILED");

    // The name is free again.
    const reborn = await fleet.operator.deployment.create.mutate({
      name: "web",
      image: "busybox",
      replicas: 1,
      constraints: "group=dep",
    });
    expect(reborn.deployment.id).not.toBe(created.deployment.id);
    expect(reborn.replicas.map((replica) => replica.name)).toEqual(["web-1"]);

    const kinds = await fleet.server.db.event.findMany({
      where: { deploymentId: created.deployment.id, kind: { startsWith: "deployment." } },
      orderBy: { id: "asc" },
      select: { kind: true },
    });
    expect(kinds.map((event) => event.kind)).toEqual([
      "deployment.created",
      "deployment.scaled",
      "deployment.scaled",
      "deployment.scaled",
      "deployment.removed",
    ]);
  });

  test("a viewer may list and get but not create, scale or remove", async () => {
    const attempts = [
      fleet.viewer.deployment.create.mutate({ name: "nope", image: "busybox", replicas: 1 }),
      fleet.viewer.deployment.scale.mutate({ id: "x", replicas: 1 }),
      fleet.viewer.deployment.remove.mutate({ id: "x" }),
    ];
    // Settle them together: awaiting one by one leaves the later rejections unhandled for a while.
    const outcomes = await Promise.all(attempts.map((attempt) => attempt.catch((e: unknown) => e)));
    for (const outcome of outcomes) expect(trpcErrorCode(outcome)).toBe("FORBIDDEN");
    expect(Array.isArray((await fleet.viewer.deployment.list.query()).items)).toBe(true);
  });
});
