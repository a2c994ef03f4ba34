import { eventually } from "@fleet/test/harness/eventually";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "./client";
import { createReplicaRegistry, type ReplicaRegistry } from "./replica-registry";

const quiet = { info: () => {}, warn: () => {} };

describe("the replica registry", () => {
  const database = useTestDatabase();
  let db: PrismaClient;

  beforeAll(() => {
    db = createPrismaClient(database().url);
  });
  afterAll(async () => {
    await db.$disconnect();
  });

  function registry(id: string, internalUrl: string, heartbeatIntervalMs = 50): ReplicaRegistry {
    return createReplicaRegistry({
      db,
      replica: { id, internalUrl },
      version: "1.2.3+abc1234",
      log: quiet,
      heartbeatIntervalMs,
    });
  }

  async function rowOf(id: string) {
    return db.centralReplica.findUnique({ where: { id } });
  }

  it("registers each replica with its address and build, beats by the database's clock, and forgets it on a clean stop", async () => {
    const a = registry("replica-a", "http://10.0.0.1:3000");
    const b = registry("replica-b", "http://10.0.0.2:3000");
    await a.start();
    await b.start();
    try {
      const live = await a.liveReplicas();
      expect(
        live.map(({ id, internalUrl, version, stopping }) => ({ id, internalUrl, version, stopping })),
      ).toEqual([
        { id: "replica-a", internalUrl: "http://10.0.0.1:3000", version: "1.2.3+abc1234", stopping: false },
        { id: "replica-b", internalUrl: "http://10.0.0.2:3000", version: "1.2.3+abc1234", stopping: false },
      ]);
      const first = (await rowOf("replica-a"))?.heartbeatAt.getTime() ?? 0;
      await eventually(
        "a newer heartbeat",
        () => rowOf("replica-a"),
        (row) => (row?.heartbeatAt.getTime() ?? 0) > first,
      );

      await a.markStopping();
      expect((await rowOf("replica-a"))?.stopping).toBe(true);
      // Still beating while it drains, and still stopping at every beat.
      const drainingBeat = (await rowOf("replica-a"))?.heartbeatAt.getTime() ?? 0;
      const later = await eventually(
        "a heartbeat while draining",
        () => rowOf("replica-a"),
        (row) => (row?.heartbeatAt.getTime() ?? 0) > drainingBeat,
      );
      expect(later?.stopping).toBe(true);

      await a.stop();
      expect(await rowOf("replica-a")).toBeNull();
      // No beat after stop() brings it back.
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(await rowOf("replica-a")).toBeNull();
      expect((await b.liveReplicas()).map((replica) => replica.id)).toEqual(["replica-b"]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("writes how many hellos wait at the replica with every beat", async () => {
    let waiting = 0;
    const replica = createReplicaRegistry({
      db,
      replica: { id: "replica-hellos", internalUrl: "http://10.0.0.3:3000" },
      version: "1.2.3+abc1234",
      log: quiet,
      heartbeatIntervalMs: 50,
      hellosWaiting: () => waiting,
    });
    await replica.start();
    try {
      expect((await rowOf("replica-hellos"))?.hellosWaiting).toBe(0);
      waiting = 37;
      await eventually(
        "the count written",
        () => rowOf("replica-hellos"),
        (row) => row?.hellosWaiting === 37,
      );
      waiting = 0;
      await eventually(
        "the queue emptied",
        () => rowOf("replica-hellos"),
        (row) => row?.hellosWaiting === 0,
      );
    } finally {
      await replica.stop();
    }
  });

  it("ignores replicas silent for over 30 s and prunes their rows", async () => {
    await db.$executeRaw`
      INSERT INTO central_replicas (id, internal_url, version, started_at, heartbeat_at)
      VALUES ('killed', 'http://10.0.0.9:3000', 'old', now() - interval '1 hour', now() - interval '31 seconds'),
             ('recent', 'http://10.0.0.8:3000', 'old', now() - interval '1 hour', now() - interval '20 seconds')`;
    const a = registry("replica-c", "http://10.0.0.3:3000");
    try {
      expect((await a.liveReplicas()).map((replica) => replica.id)).toEqual(["recent"]);
      await a.start();
      expect(await rowOf("killed")).toBeNull();
      expect(await rowOf("recent")).not.toBeNull();
      expect((await a.liveReplicas()).map((replica) => replica.id)).toEqual(["recent", "replica-c"]);
    } finally {
      await a.stop();
      await db.$executeRaw`DELETE FROM central_replicas WHERE id = 'recent'`;
    }
  });

  it("writes its row again when another replica pruned it (it was cut off longer than the limit)", async () => {
    const a = registry("replica-d", "http://10.0.0.4:3000");
    await a.start();
    try {
      await db.$executeRaw`DELETE FROM central_replicas WHERE id = 'replica-d'`;
      const back = await eventually(
        "the row back",
        () => rowOf("replica-d"),
        (row) => row !== null,
      );
      expect(back?.internalUrl).toBe("http://10.0.0.4:3000");
    } finally {
      await a.stop();
    }
  });

  it("takes the internal URL known only once the port is bound at the next beat", async () => {
    const identity = { id: "replica-e", internalUrl: "" };
    const a = createReplicaRegistry({
      db,
      replica: identity,
      version: "v",
      log: quiet,
      heartbeatIntervalMs: 50,
    });
    await a.start();
    try {
      identity.internalUrl = "http://127.0.0.1:4321";
      await eventually(
        "the URL",
        () => rowOf("replica-e"),
        (row) => row?.internalUrl === "http://127.0.0.1:4321",
      );
    } finally {
      await a.stop();
    }
  });
});
