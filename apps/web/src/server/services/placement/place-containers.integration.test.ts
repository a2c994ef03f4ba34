// Placement against a real central, real Postgres and agents on real
// WebSockets: concurrent runs never over-commit a host, strategies and
// constraints decide where containers go, and a refusal says why per host.

import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { trpcErrorCode } from "../../testing/test-server";
import { resourcesWithDefaultRequests } from "./container-template";
import { placeDrafts, runPlacement, type TContainerDraft } from "./place-containers";
import { placeContainers, type TPlaceContainersOptions } from "./placement-batch";
import { queuePlacement } from "./placement-queue";
import { startTestFleet, type TestFleet, waitForDesiredIds } from "./testing/test-fleet";

const MIB = 1024 * 1024;

describe("placement", () => {
  const getDatabase = useTestDatabase();
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await startTestFleet({ databaseUrl: getDatabase().url });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  // Hosts joining record events of their own meanwhile; only container events matter here.
  const containerEventCount = () =>
    fleet.server.db.event.count({ where: { kind: { startsWith: "container." } } });

  const templateOf = (cpuMillis: number, memoryMiB = 32) => ({
    image: "busybox",
    command: null,
    env: {},
    ports: [],
    labels: {},
    resources: resourcesWithDefaultRequests({
      cpuLimitMillis: cpuMillis,
      memoryLimitBytes: memoryMiB * MIB,
      pidsLimit: null,
    }),
    restartPolicy: { name: "no" as const },
    mounts: [],
    networks: [],
  });

  // What placeContainers needs besides its drafts, on a client of the caller's choosing (another central).
  const placing = (db: PrismaClient, group: string, now = new Date()) => ({
    db,
    bus: fleet.server.fleet.services.bus,
    log: fleet.server.fleet.services.log,
    desired: fleet.server.fleet.services.gateway,
    now,
    strategy: "binpack" as const,
    constraints: `group=${group}`,
  });

  const outcomeOf = (run: Promise<unknown>) =>
    run.then(
      () => "placed",
      (error: unknown) => (error as { code?: string }).code ?? String(error),
    );

  async function hostRows(group: string) {
    const hosts = await fleet.server.db.host.findMany({ orderBy: { name: "asc" } });
    return hosts.filter((host) => (host.labels as Record<string, string>).group === group);
  }

  test("100 concurrent runs on 3 small hosts never over-commit; refusals say why", async () => {
    const group = "crowd";
    const agents = await fleet.joinHosts(
      ["crowd-a", "crowd-b", "crowd-c"].map((name) => ({
        name,
        cpus: 1,
        memoryMiB: 1024,
        labels: { group },
      })),
    );
    // Three sizes, so both cpu and memory run out and small requests still fit after big ones fail.
    const sizes = [
      { cpus: "0.1", memory: "64m", cpuMillis: 100, memoryBytes: 64 * MIB },
      { cpus: "0.25", memory: "96m", cpuMillis: 250, memoryBytes: 96 * MIB },
      { cpus: "0.05", memory: "200m", cpuMillis: 50, memoryBytes: 200 * MIB },
    ];
    const requests = Array.from({ length: 100 }, (_, index) => ({ index, size: sizes[index % 3]! }));
    const outcomes = await Promise.all(
      requests.map(({ index, size }) =>
        fleet.operator.container.run
          .mutate({
            name: `crowd-${index}`,
            image: "busybox",
            cpus: size.cpus,
            memory: size.memory,
            pids: 20,
            constraints: `group=${group}`,
          })
          .then(
            (result) => ({ index, size, ok: true as const, result }),
            (error: unknown) => ({ index, size, ok: false as const, error }),
          ),
      ),
    );
    const placed = outcomes.filter((outcome) => outcome.ok);
    const refused = outcomes.filter((outcome) => !outcome.ok);
    expect(placed.length).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(10);

    for (const outcome of refused) {
      expect(trpcErrorCode(outcome.error)).toBe("PRECONDITION_FAILED");
      const message = (outcome.error as Error).message;
      expect(message).toMatch(/^no host fits: /);
      for (const name of ["crowd-a", "crowd-b", "crowd-c"]) expect(message).toContain(`${name}: not enough`);
    }

    const hosts = await hostRows(group);
    expect(hosts).toHaveLength(3);
    const containers = await fleet.server.db.container.findMany({
      where: { hostId: { in: hosts.map((host) => host.id) }, removedAt: null },
    });
    expect(containers.map((c) => c.name).sort()).toEqual(
      placed.map((outcome) => `crowd-${outcome.index}`).sort(),
    );
    for (const host of hosts) {
      const mine = containers.filter((container) => container.hostId === host.id);
      // Requests default to the limits given.
      const cpu = mine.reduce((sum, c) => sum + c.cpuRequestMillis, 0);
      const memory = mine.reduce((sum, c) => sum + c.memoryRequestBytes, 0n);
      const pids = mine.reduce((sum, c) => sum + c.pidsRequest, 0);
      expect({
        host: host.name,
        cpu: host.cpuAllocatedMillis,
        memory: host.memoryAllocatedBytes,
        pids: host.pidsAllocated,
      }).toEqual({
        host: host.name,
        cpu,
        memory,
        pids,
      });
      expect(host.cpuAllocatedMillis).toBeLessThanOrEqual(host.cpuAllocatableMillis);
      expect(host.memoryAllocatedBytes).toBeLessThanOrEqual(host.memoryAllocatableBytes);
      expect(host.pidsAllocated).toBeLessThanOrEqual(host.pidsAllocatable);
    }
    // Allocation only grew during the burst, so a request refused at any
    // moment must still fit on no host now: a refusal was never spurious.
    for (const outcome of refused) {
      for (const host of hosts) {
        const cpuFree = host.cpuAllocatableMillis - host.cpuAllocatedMillis;
        const memoryFree = Number(host.memoryAllocatableBytes - host.memoryAllocatedBytes);
        const fits = outcome.size.cpuMillis <= cpuFree && outcome.size.memoryBytes <= memoryFree;
        expect({ request: outcome.index, host: host.name, fits }).toEqual({
          request: outcome.index,
          host: host.name,
          fits: false,
        });
      }
    }
    // Each agent ends up told to run exactly the containers placed on its host.
    for (const agent of agents) {
      const ids = containers.filter((container) => container.hostId === agent.hostId).map((c) => c.id);
      await waitForDesiredIds(agent, ids);
      expect(agent.invalidFrames).toEqual([]);
    }
    // Pushed in batches over the three hosts, acked in batches: every host row hears its agent's last ack.
    await expect
      .poll(
        async () => (await hostRows(group)).map((host) => host.ackedGeneration - host.desiredGeneration),
        {
          timeout: 10_000,
        },
      )
      .toEqual([0, 0, 0]);
    expect(
      await fleet.server.db.event.count({
        where: { kind: "container.placed", containerId: { in: containers.map((c) => c.id) } },
      }),
    ).toBe(containers.length);
  });

  test("placements from several central processes (separate pools) still never over-commit", async () => {
    // Each Prisma client has its own in-process queue, so only the database's
    // row locks stand between these 4 × 20 concurrent placements.
    const group = "multi";
    await fleet.joinHosts(
      ["multi-a", "multi-b"].map((name) => ({ name, cpus: 1, memoryMiB: 512, labels: { group } })),
    );
    const clients = Array.from({ length: 4 }, () => createPrismaClient(getDatabase().url));
    try {
      const template = templateOf(150, 40);
      // Every other call takes the path that locks every candidate host (as deployments do), so both paths meet.
      const outcomes = await Promise.all(
        clients.flatMap((db) =>
          Array.from({ length: 20 }, (_, index) => {
            const options: TPlaceContainersOptions = {
              ...placing(db, group),
              drafts: [{ template }],
              strategy: "spread",
            };
            return outcomeOf(
              index % 2 === 0
                ? placeContainers(options)
                : runPlacement(options, (ctx) => placeDrafts(ctx, options)),
            );
          }),
        ),
      );
      // 1000 millicores / 150 per container: 6 per host.
      expect(outcomes.filter((outcome) => outcome === "placed")).toHaveLength(12);
      expect(new Set(outcomes.filter((outcome) => outcome !== "placed"))).toEqual(
        new Set(["PRECONDITION_FAILED"]),
      );
      for (const host of await hostRows(group)) {
        expect([host.cpuAllocatedMillis, host.memoryAllocatedBytes]).toEqual([900, BigInt(6 * 40 * MIB)]);
        expect(await fleet.server.db.container.count({ where: { hostId: host.id, removedAt: null } })).toBe(
          6,
        );
      }
    } finally {
      await Promise.all(clients.map((db) => db.$disconnect()));
    }
  });

  test("binpack fills one host before the next; spread alternates", async () => {
    await fleet.joinHosts([
      { name: "pack-a", cpus: 2, memoryMiB: 2048, labels: { group: "pack" } },
      { name: "pack-b", cpus: 2, memoryMiB: 2048, labels: { group: "pack" } },
    ]);
    const binpacked: string[] = [];
    for (let index = 0; index < 3; index++) {
      // A quarter of each resource, the hosts' shape: binpack starts another host early only for a
      // request that would leave a used one lopsided (packages/shared/src/scheduler/fit-score.ts).
      const { placement } = await fleet.operator.container.run.mutate({
        image: "busybox",
        cpus: "0.5",
        memory: "512m",
        constraints: "group=pack",
      });
      binpacked.push(placement.hostName);
      expect(placement.reason).toMatch(/^binpack: 2 of \d+ hosts fit; chose pack-a/);
    }
    expect(binpacked).toEqual(["pack-a", "pack-a", "pack-a"]);

    await fleet.joinHosts([
      { name: "spread-a", cpus: 2, memoryMiB: 2048, labels: { group: "spread" } },
      { name: "spread-b", cpus: 2, memoryMiB: 2048, labels: { group: "spread" } },
    ]);
    const spread: string[] = [];
    for (let index = 0; index < 4; index++) {
      const { placement, container } = await fleet.operator.container.run.mutate({
        image: "busybox",
        cpus: "0.5",
        memory: "256m",
        strategy: "spread",
        constraints: "group=spread",
      });
      spread.push(placement.hostName);
      expect(container.strategy).toBe("spread");
      expect(container.placementReason).toBe(placement.reason);
    }
    expect(spread).toEqual(["spread-a", "spread-b", "spread-a", "spread-b"]);
  });

  test("constraints pick hosts by label; the rest are rejected with the constraint named", async () => {
    await fleet.joinHosts([
      { name: "zone-a", cpus: 1, memoryMiB: 512, labels: { group: "zones", zone: "a" } },
      { name: "zone-b", cpus: 1, memoryMiB: 512, labels: { group: "zones", zone: "b" } },
    ]);
    for (let index = 0; index < 3; index++) {
      const { placement } = await fleet.operator.container.run.mutate({
        image: "busybox",
        cpus: "0.1",
        memory: "32m",
        constraints: "group=zones,zone=b",
      });
      expect(placement.hostName).toBe("zone-b");
      const zoneA = placement.rejected.find((rejection) => rejection.hostName === "zone-a");
      expect(zoneA?.reasons).toEqual(["constraint zone=b not met (zone=a)"]);
    }
    const error = await fleet.operator.container.run
      .mutate({ image: "busybox", constraints: "group=zones,zone=c" })
      .catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("PRECONDITION_FAILED");
    expect((error as Error).message).toContain("zone-a: constraint zone=c not met (zone=a)");
    expect((error as Error).message).toContain("zone-b: constraint zone=c not met (zone=b)");
  });

  test("a request that fits nowhere is refused with every host's reason and writes nothing", async () => {
    await fleet.joinHosts([
      { name: "tiny-a", cpus: 1, memoryMiB: 256, labels: { group: "tiny" } },
      { name: "tiny-b", cpus: 1, memoryMiB: 128, labels: { group: "tiny" } },
    ]);
    const before = {
      containers: await fleet.server.db.container.count(),
      events: await containerEventCount(),
      hosts: await hostRows("tiny"),
    };
    const error = await fleet.operator.container.run
      .mutate({ name: "too-big", image: "busybox", memory: "300m", cpus: "2", constraints: "group=tiny" })
      .catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("PRECONDITION_FAILED");
    const message = (error as Error).message;
    expect(message).toContain(
      "tiny-a: not enough cpu (requested 2 cores, free 1 of 1 core), not enough memory (requested 300 MiB, free 256 MiB of 256 MiB)",
    );
    expect(message).toContain("tiny-b: not enough cpu");
    expect(message).toContain("free 128 MiB of 128 MiB");
    expect(await fleet.server.db.container.count()).toBe(before.containers);
    expect(await containerEventCount()).toBe(before.events);
    expect((await hostRows("tiny")).map((host) => host.cpuAllocatedMillis)).toEqual(
      before.hosts.map((host) => host.cpuAllocatedMillis),
    );
  });

  test("a run repeated by name in a full fleet hears that its container exists, not that there is no room", async () => {
    await fleet.joinHosts([{ name: "snug", cpus: 1, memoryMiB: 256, labels: { group: "snug" } }]);
    const run = { name: "only-one", image: "busybox", memory: "200m", cpus: "1", constraints: "group=snug" };
    await fleet.operator.container.run.mutate(run);
    // The host is full now: a retry of the same run (its first answer lost) must say the name is taken.
    const error = await fleet.operator.container.run.mutate(run).catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("CONFLICT");
    expect((error as Error).message).toContain("a container named only-one already exists");
  });

  test("plan says where a run would go, or why not, and writes nothing", async () => {
    await fleet.joinHosts([
      { name: "plan-a", cpus: 1, memoryMiB: 512, labels: { group: "plan" } },
      { name: "plan-b", cpus: 1, memoryMiB: 512, labels: { group: "plan" } },
    ]);
    const allocatedOf = async () =>
      (await hostRows("plan")).map((host) => [
        host.cpuAllocatedMillis,
        host.memoryAllocatedBytes,
        host.pidsAllocated,
      ]);
    const before = {
      containers: await fleet.server.db.container.count(),
      events: await containerEventCount(),
      allocated: await allocatedOf(),
    };
    const fits = await fleet.viewer.container.plan.query({
      image: "busybox",
      cpus: "0.5",
      memory: "128m",
      strategy: "spread",
      constraints: "group=plan",
    });
    expect(fits).toMatchObject({ fits: true, hostName: "plan-a" });
    expect(fits.fits && fits.reason).toMatch(/^spread: 2 of \d+ hosts fit; chose plan-a/);
    const refused = await fleet.viewer.container.plan.query({
      image: "busybox",
      memory: "1g",
      constraints: "group=plan",
    });
    expect(refused.fits).toBe(false);
    expect(refused.rejected.filter((r) => r.hostName.startsWith("plan-")).map((r) => r.hostName)).toEqual([
      "plan-a",
      "plan-b",
    ]);
    expect(!refused.fits && refused.message).toContain("plan-a: not enough memory (requested 1 GiB");
    expect(await fleet.server.db.container.count()).toBe(before.containers);
    expect(await containerEventCount()).toBe(before.events);
    expect(await allocatedOf()).toEqual(before.allocated);
  });

  test("a host port taken on one host sends the next container with that port elsewhere", async () => {
    await fleet.joinHosts([
      { name: "port-a", cpus: 1, memoryMiB: 512, labels: { group: "ports" } },
      { name: "port-b", cpus: 1, memoryMiB: 512, labels: { group: "ports" } },
    ]);
    const first = await fleet.operator.container.run.mutate({
      image: "busybox",
      ports: ["8080:80"],
      constraints: "group=ports",
    });
    const second = await fleet.operator.container.run.mutate({
      image: "busybox",
      ports: [{ containerPort: 80, hostPort: 8080 }],
      constraints: "group=ports",
    });
    expect([first.placement.hostName, second.placement.hostName]).toEqual(["port-a", "port-b"]);
    expect(second.placement.rejected.find((r) => r.hostName === "port-a")?.reasons).toEqual([
      "host port *:8080/tcp conflicts with *:8080/tcp in use",
    ]);
    const third = await fleet.operator.container.run
      .mutate({ image: "busybox", ports: ["8080:80"], constraints: "group=ports" })
      .catch((caught: unknown) => caught);
    expect(trpcErrorCode(third)).toBe("PRECONDITION_FAILED");
  });

  test("calls waiting together are placed in one transaction, each with its own answer", async () => {
    const group = "batch";
    await fleet.joinHosts([{ name: "batch-a", cpus: 1, memoryMiB: 1024, labels: { group } }]);
    const db = createPrismaClient(getDatabase().url);
    try {
      await placeContainers({
        ...placing(db, group),
        drafts: [{ name: "batch-old", template: templateOf(100) }],
      });
      // The calls below arrive while a placement holds the queue, so they wait and go together.
      let open = () => {};
      const gate = queuePlacement(db, () => new Promise<void>((resolve) => (open = resolve)));
      const base = Date.now();
      const calls: [string, TContainerDraft[]][] = [
        ["first of a name", [{ name: "batch-x", template: templateOf(100) }]],
        ["same name in the same batch", [{ name: "batch-x", template: templateOf(100) }]],
        ["a live container's name", [{ name: "batch-old", template: templateOf(100) }]],
        [
          "a name given twice",
          [
            { name: "batch-y", template: templateOf(100) },
            { name: "batch-y", template: templateOf(100) },
          ],
        ],
        ["does not fit", [{ template: templateOf(5000) }]],
        ["two generated names", [{ template: templateOf(200) }, { template: templateOf(200) }]],
        [
          "the rest of the host, but not room for all of it",
          [{ template: templateOf(300) }, { template: templateOf(200) }],
        ],
      ];
      const outcomes = calls.map(([, drafts], index) =>
        outcomeOf(placeContainers({ ...placing(db, group, new Date(base + index)), drafts })),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      open();
      await gate;
      expect(
        Object.fromEntries(
          await Promise.all(outcomes.map(async (outcome, index) => [calls[index]![0], await outcome])),
        ),
      ).toEqual({
        "first of a name": "placed",
        "same name in the same batch": "CONFLICT",
        "a live container's name": "CONFLICT",
        "a name given twice": "CONFLICT",
        "does not fit": "PRECONDITION_FAILED",
        "two generated names": "placed",
        // 100 + 100 + 2 × 200 taken: 400 millicores left, so 300 + 200 does not fit and neither is written.
        "the rest of the host, but not room for all of it": "PRECONDITION_FAILED",
      });
      const [host] = await hostRows(group);
      const rows = await db.container.findMany({ where: { hostId: host!.id, removedAt: null } });
      expect(rows).toHaveLength(4);
      expect(host!.cpuAllocatedMillis).toBe(rows.reduce((sum, row) => sum + row.cpuRequestMillis, 0));
      expect(host!.cpuAllocatedMillis).toBe(600);
      // One transaction: every row of the batch carries its latest request time.
      const batched = rows.filter((row) => row.name !== "batch-old");
      expect(new Set(batched.map((row) => row.scheduledAt?.getTime()))).toEqual(
        new Set([base + calls.length - 1]),
      );
      expect(batched.map((row) => row.requestedAt.getTime() - base).sort()).toEqual([0, 5, 5]);
    } finally {
      await db.$disconnect();
    }
  });

  test("a host that changes between the batch's read and its lock is refused and the call planned again", async () => {
    const group = "replan";
    await fleet.joinHosts(
      ["replan-a", "replan-b"].map((name) => ({ name, cpus: 2, memoryMiB: 1024, labels: { group } })),
    );
    const [hostA, hostB] = await hostRows(group);
    const db = createPrismaClient(getDatabase().url);
    const other = createPrismaClient(getDatabase().url);
    try {
      // Another writer fills replan-a and holds its row until told: binpack's read still sees it empty and picks it.
      let commit = () => {};
      const writer = other.$transaction(
        async (tx) => {
          await tx.$executeRaw`UPDATE hosts SET cpu_allocated_millis = 2000 WHERE id = ${hostA!.id}`;
          await new Promise<void>((resolve) => (commit = resolve));
        },
        { timeout: 20_000 },
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const run = placeContainers({
        ...placing(db, group),
        drafts: [{ name: "replanned", template: templateOf(1000) }],
      });
      // Commit once the batch waits for replan-a's lock.
      for (let waited = 0; ; waited += 20) {
        const [row] = await fleet.server.db.$queryRaw<{ waiting: number }[]>`
          SELECT count(*)::int AS waiting FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND datname = current_database()`;
        if ((row?.waiting ?? 0) > 0) break;
        if (waited > 10_000) throw new Error("the batch never waited for the host lock");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      commit();
      await writer;
      const [placed] = await run;
      expect(placed?.hostName).toBe("replan-b");
      const after = await hostRows(group);
      expect(after.map((host) => [host.name, host.cpuAllocatedMillis])).toEqual([
        ["replan-a", 2000],
        ["replan-b", 1000],
      ]);
      expect(hostB!.cpuAllocatedMillis).toBe(0);
    } finally {
      await Promise.all([db.$disconnect(), other.$disconnect()]);
    }
  });
});
