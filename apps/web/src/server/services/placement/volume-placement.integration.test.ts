// Named volumes steer placement, through the API against a real central and
// Postgres with fake agents: a deployment's replicas follow the volume the
// first one creates, the volume's row is written with the placement, and a
// container that must go to a full volume host is refused saying where its
// volume is.

import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { trpcErrorCode } from "../../testing/test-server";
import { startTestFleet, type TestFleet } from "./testing/test-fleet";

describe("volume-aware placement", () => {
  const getDatabase = useTestDatabase();
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await startTestFleet({ databaseUrl: getDatabase().url });
    await fleet.joinHosts(
      ["vol-a", "vol-b"].map((name) => ({ name, cpus: 2, memoryMiB: 1024, labels: { group: "vol" } })),
    );
  });
  afterAll(async () => {
    await fleet?.close();
  });

  test("replicas follow the volume the first one creates; a full volume host refuses with the reason", async () => {
    const { deployment, replicas } = await fleet.operator.deployment.create.mutate({
      name: "shared-data",
      image: "busybox",
      replicas: 3,
      strategy: "spread",
      memory: "64m",
      volumes: ["shared:/data"],
      constraints: "group=vol",
    });
    const hostIds = new Set(replicas.map((replica) => replica.hostId));
    expect(hostIds.size).toBe(1);
    const [hostId] = [...hostIds] as [string];
    const rows = await fleet.server.db.container.findMany({
      where: { deploymentId: deployment.id },
      orderBy: { replicaIndex: "asc" },
      select: { placementReason: true },
    });
    expect(rows[0]?.placementReason).toMatch(/volume "shared" will be created here$/);
    expect(rows[1]?.placementReason).toMatch(/volume "shared" is on this host$/);

    // Written in the placement transaction, not yet seen by the engine.
    const volumes = await fleet.viewer.volume.list.query({ name: "shared" });
    expect(volumes.items).toHaveLength(1);
    expect(volumes.items[0]).toMatchObject({ hostId, name: "shared", seenAt: null });
    expect(volumes.items[0]?.usedBy.map((user) => user.name).sort()).toEqual(
      replicas.map((replica) => replica.name).sort(),
    );

    const holder = volumes.items[0]!.hostName;
    const other = holder === "vol-a" ? "vol-b" : "vol-a";
    const refusal = await fleet.operator.container.run
      .mutate({ image: "busybox", memory: "900m", volumes: ["shared:/data:ro"], constraints: "group=vol" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(refusal)).toBe("PRECONDITION_FAILED");
    const message = (refusal as Error).message;
    expect(message).toContain(`${other}: volume "shared" is on ${holder}`);
    expect(message).toContain(`${holder}: not enough memory`);

    // The same container without the volume fits on the other host.
    const free = await fleet.operator.container.run.mutate({
      image: "busybox",
      memory: "900m",
      constraints: "group=vol",
    });
    expect(free.placement.hostName).toBe(other);

    // A refresh keeps the row while replicas mount it, though these engines list nothing.
    const refreshed = await fleet.operator.volume.refresh.mutate({});
    expect(refreshed.hosts.every((host) => host.ok)).toBe(true);
    expect((await fleet.viewer.volume.list.query({ name: "shared" })).items).toHaveLength(1);
    const used = await fleet.operator.volume.remove
      .mutate({ id: volumes.items[0]!.id })
      .catch((e: unknown) => e);
    expect(trpcErrorCode(used)).toBe("CONFLICT");
    expect((used as Error).message).toMatch(
      /^volume shared on vol-[ab] is used by .+: remove those containers first$/,
    );

    // Removed, but the engine still holds the replicas until their host has removed them.
    await fleet.operator.deployment.remove.mutate({ id: deployment.id });
    const leaving = await fleet.operator.volume.remove
      .mutate({ id: volumes.items[0]!.id })
      .catch((e: unknown) => e);
    expect(trpcErrorCode(leaving)).toBe("CONFLICT");
    expect((leaving as Error).message).toBe(
      `volume shared on ${holder} is still used by ${replicas
        .map((replica) => replica.name)
        .sort()
        .join(", ")}, which the host is removing: try again in a few seconds`,
    );

    // Once the deployment is gone, the next refresh drops the row the engine does not list.
    await fleet.operator.volume.refresh.mutate({});
    expect((await fleet.viewer.volume.list.query({ name: "shared" })).items).toEqual([]);
  });
});
