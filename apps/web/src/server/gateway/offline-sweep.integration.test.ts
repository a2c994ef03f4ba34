// The offline sweep's statement on a real Postgres, called directly (no
// replica runs a sweep on this database): the database's clock, the guard for
// hosts last heard before the observation began, a broken observation, hellos
// waiting at a replica, a replica that stopped, and the lease fence.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../db/client";
import { claimLease, type LeaseFence, LeaseLostError } from "../db/duty-lease";
import { createEventBus } from "../events/event-bus";
import { createTestHost } from "../testing/factories";
import { type Observation, prismaOfflineSweepStore } from "./liveness";

const OFFLINE_AFTER_MS = 10_000;
const GRACE_MS = 20_000;

describe("the offline sweep's statement", () => {
  const database = useTestDatabase();
  let db: PrismaClient;
  const published: { topic: string; payload: unknown }[] = [];
  let fence: LeaseFence;

  beforeAll(async () => {
    db = createPrismaClient(database().url);
    const claim = await claimLease(db, {
      name: "duties",
      holder: "sweeper",
      ttlMs: 600_000,
      heldToken: null,
    });
    fence = { name: "duties", holder: "sweeper", token: claim!.token };
  });

  afterAll(async () => {
    await db.$disconnect();
  });

  function store() {
    const bus = createEventBus();
    const publish = bus.publish.bind(bus);
    bus.publish = (topic, payload) => {
      published.push({ topic, payload });
      publish(topic, payload);
    };
    return prismaOfflineSweepStore({ db, bus });
  }

  async function databaseNow(): Promise<number> {
    const [row] = await db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
    return row!.now.getTime();
  }

  /** A host online, last heard `agoMs` before the database's now. */
  async function hostHeard(agoMs: number, column: "lastSeenAt" | "connectedAt" = "lastSeenAt") {
    const at = new Date((await databaseNow()) - agoMs);
    return createTestHost(db, {
      [column]: at,
      ...(column === "lastSeenAt" ? { connectedAt: new Date(0) } : {}),
    });
  }

  async function statusOf(hostId: string) {
    const host = await db.host.findUniqueOrThrow({ where: { id: hostId }, select: { status: true } });
    const events = await db.event.count({ where: { hostId, kind: "host.offline" } });
    return { status: host.status, events };
  }

  it("only reads the database's clock before an observation has begun", async () => {
    const host = await hostHeard(10 * 60_000);
    const before = await databaseNow();
    const result = await store().sweep({
      fence,
      offlineAfterMs: OFFLINE_AFTER_MS,
      reconnectGraceMs: GRACE_MS,
      observation: null,
    });
    expect(result.offline).toEqual([]);
    expect(result.databaseNow).toBeGreaterThanOrEqual(before);
    expect(await statusOf(host.id)).toEqual({ status: "online", events: 0 });
  });

  it("marks a host heard since the observation began once its grace passed, and waits grace + allowance for one heard before", async () => {
    const now = await databaseNow();
    const since = now - 15_000;
    const silentSince = await hostHeard(12_000);
    const connectedSince = await hostHeard(11_000, "connectedAt");
    const alive = await hostHeard(2000);
    const heardBefore = await hostHeard(20_000);
    const neverHeard = await createTestHost(db, { lastSeenAt: null, connectedAt: null });
    const result = await store().sweep({
      fence,
      offlineAfterMs: OFFLINE_AFTER_MS,
      reconnectGraceMs: GRACE_MS,
      observation: { since, lastAt: now - 500, maxGapMs: 2000 },
    });
    expect(result.offline.map((host) => host.hostId).sort()).toEqual(
      [silentSince.id, connectedSince.id].sort(),
    );
    expect(await statusOf(silentSince.id)).toEqual({ status: "offline", events: 1 });
    expect(await statusOf(alive.id)).toEqual({ status: "online", events: 0 });
    expect(await statusOf(heardBefore.id)).toEqual({ status: "online", events: 0 });
    expect(await statusOf(neverHeard.id)).toEqual({ status: "online", events: 0 });
    expect(published).toContainEqual({ topic: "host.changed", payload: { hostId: silentSince.id } });

    // Observed long enough: those heard before it began (or never) go too; the marked ones are not marked again.
    const later = await databaseNow();
    const again = await store().sweep({
      fence,
      offlineAfterMs: OFFLINE_AFTER_MS,
      reconnectGraceMs: GRACE_MS,
      observation: { since: later - OFFLINE_AFTER_MS - GRACE_MS - 1, lastAt: later - 500, maxGapMs: 2000 },
    });
    const marked = again.offline.map((host) => host.hostId);
    expect(marked).toEqual(expect.arrayContaining([heardBefore.id, neverHeard.id]));
    expect(marked).not.toContain(silentSince.id);
    expect(marked).not.toContain(alive.id);
    expect(await statusOf(silentSince.id)).toEqual({ status: "offline", events: 1 });
  });

  it("gives hosts heard before the observation began more time the more hosts are online (a restarted central welcomes them in turns)", async () => {
    const heardBefore = await hostHeard(10 * 60_000);
    const online = await db.host.count({ where: { status: "online", removedAt: null } });
    const perHostMs = 5000;
    const now = await databaseNow();
    const sweep = (sinceAgoMs: number) =>
      store().sweep({
        fence,
        offlineAfterMs: OFFLINE_AFTER_MS,
        reconnectGraceMs: GRACE_MS,
        welcomeAllowancePerHostMs: perHostMs,
        observation: { since: now - sinceAgoMs, lastAt: now - 500, maxGapMs: 2000 },
      });
    // Past grace + allowance, but not past the time the online hosts need to be welcomed.
    const first = await sweep(OFFLINE_AFTER_MS + GRACE_MS + 1000);
    expect(first.offline.map((host) => host.hostId)).not.toContain(heardBefore.id);
    expect(await statusOf(heardBefore.id)).toEqual({ status: "online", events: 0 });
    const later = await sweep(OFFLINE_AFTER_MS + GRACE_MS + online * perHostMs + 1000);
    expect(later.offline.map((host) => host.hostId)).toContain(heardBefore.id);
  });

  it("marks nothing when the previous answer is too long ago (the observation broke)", async () => {
    const host = await hostHeard(60_000);
    const now = await databaseNow();
    const result = await store().sweep({
      fence,
      offlineAfterMs: OFFLINE_AFTER_MS,
      reconnectGraceMs: GRACE_MS,
      observation: { since: now - 10 * 60_000, lastAt: now - 30_000, maxGapMs: 2000 },
    });
    expect(result.offline).toEqual([]);
    expect(await statusOf(host.id)).toEqual({ status: "online", events: 0 });
  });

  it("gives every silent host the long grace while hellos wait at a live replica, and counts no queue of a replica that stopped beating", async () => {
    const now = await databaseNow();
    const observation = { since: now - 10 * 60_000, lastAt: now - 500, maxGapMs: 2000 };
    // Heard since the observation began: the grace alone would mark it (its replica died, it queues elsewhere).
    const moving = await hostHeard(OFFLINE_AFTER_MS + 2000);
    // Silent for longer than the long grace: marked even while hellos wait.
    const gone = await hostHeard(OFFLINE_AFTER_MS + GRACE_MS + 5000);
    const sweep = async () => {
      const result = await store().sweep({
        fence,
        offlineAfterMs: OFFLINE_AFTER_MS,
        reconnectGraceMs: GRACE_MS,
        observation,
      });
      return result.offline.map((host) => host.hostId);
    };
    await db.$executeRaw`
      INSERT INTO central_replicas (id, internal_url, version, heartbeat_at, hellos_waiting)
      VALUES ('welcoming', 'http://127.0.0.1:1', 'test', now(), 40)`;
    try {
      const first = await sweep();
      expect(first).toContain(gone.id);
      expect(first).not.toContain(moving.id);
      expect(await statusOf(moving.id)).toEqual({ status: "online", events: 0 });

      await db.$executeRaw`
        UPDATE central_replicas SET heartbeat_at = now() - interval '10 seconds' WHERE id = 'welcoming'`;
      expect(await sweep()).toContain(moving.id);
    } finally {
      await db.$executeRaw`DELETE FROM central_replicas WHERE id = 'welcoming'`;
    }
  });

  it("marks nothing when a replica it saw running is stopping or gone, and says which replicas run", async () => {
    const host = await hostHeard(OFFLINE_AFTER_MS + 2000);
    const now = await databaseNow();
    const sweep = (observation: Observation | null, runningReplicas: string[]) =>
      store().sweep({
        fence,
        offlineAfterMs: OFFLINE_AFTER_MS,
        reconnectGraceMs: GRACE_MS,
        observation,
        runningReplicas,
      });
    await db.$executeRaw`
      INSERT INTO central_replicas (id, internal_url, version) VALUES ('leaving', 'http://127.0.0.1:1', 'test')`;
    try {
      const seen = await sweep(null, []);
      expect(seen.runningReplicas).toContain("leaving");
      const observation = { since: now - 10 * 60_000, lastAt: now - 500, maxGapMs: 2000 };

      await db.$executeRaw`UPDATE central_replicas SET stopping = true WHERE id = 'leaving'`;
      const stopping = await sweep(observation, seen.runningReplicas ?? []);
      expect(stopping).toMatchObject({ replicaLeft: true, offline: [] });
      expect(stopping.runningReplicas).not.toContain("leaving");
      await db.$executeRaw`DELETE FROM central_replicas WHERE id = 'leaving'`;
      expect(await sweep(observation, seen.runningReplicas ?? [])).toMatchObject({
        replicaLeft: true,
        offline: [],
      });
      expect(await statusOf(host.id)).toEqual({ status: "online", events: 0 });

      // Against the replicas running now, the sweep marks as before.
      const next = await sweep(observation, stopping.runningReplicas ?? []);
      expect(next.replicaLeft).toBe(false);
      expect(next.offline.map((each) => each.hostId)).toContain(host.id);
    } finally {
      await db.$executeRaw`DELETE FROM central_replicas WHERE id = 'leaving'`;
    }
  });

  it("refuses a stale or forged fence and marks nothing", async () => {
    const host = await hostHeard(60_000);
    const now = await databaseNow();
    const observation = { since: now - 10 * 60_000, lastAt: now - 500, maxGapMs: 2000 };
    for (const stale of [
      { ...fence, token: fence.token + 1n },
      { ...fence, holder: "someone-else" },
      { ...fence, name: "no-such-lease" },
    ]) {
      await expect(
        store().sweep({
          fence: stale,
          offlineAfterMs: OFFLINE_AFTER_MS,
          reconnectGraceMs: GRACE_MS,
          observation,
        }),
      ).rejects.toThrow(LeaseLostError);
    }
    // Another holder takes the expired lease: the old fence no longer holds.
    await db.dutyLease.update({ where: { name: "duties" }, data: { expiresAt: new Date(0) } });
    await claimLease(db, { name: "duties", holder: "other", ttlMs: 600_000, heldToken: null });
    await expect(
      store().sweep({ fence, offlineAfterMs: OFFLINE_AFTER_MS, reconnectGraceMs: GRACE_MS, observation }),
    ).rejects.toThrow(LeaseLostError);
    expect(await statusOf(host.id)).toEqual({ status: "online", events: 0 });
  });
});
