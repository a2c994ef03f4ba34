// Placement against a real central, real Postgres and agents on real
// WebSockets: concurrent runs never over-commit a host, strategies and
// constraints decide where containers go, and a refusal says why per host.

import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPrismaClient } from "../../db/client";
import { trpcErrorCode } from "../../testing/test-server";
import { resourcesWithDefaultRequests } from "./container-template";
import { placeContainers } from "./placement-batch";
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
      const template = {
        image: "busybox",
        command: null,
        env: {},
        ports: [],
        labels: {},
        resources: resourcesWithDefaultRequests({
          cpuLimitMillis: 150,
          memoryLimitBytes: 40 * MIB,
          pidsLimit: null,
        }),
        restartPolicy: { name: "no" as const },
        mounts: [],
        networks: [],
      };
      const outcomes = await Promise.all(
        clients.flatMap((db) =>
          Array.from({ length: 20 }, () =>
            placeContainers({
              db,
              bus: fleet.server.fleet.services.bus,
              log: fleet.server.fleet.services.log,
              desired: fleet.server.fleet.services.gateway,
              now: new Date(),
              drafts: [{ template }],
              strategy: "spread",
              constraints: `group=${group}`,
            }).then(
              () => "placed",
              (error: unknown) => (error as { code?: string }).code ?? String(error),
            ),
          ),
        ),
      );
      // 1000 millicores / 150 per container: 6 per host.
      expect(outcomes.filter((outcome) => outcome === "placed")).toHaveLength(12);
      expect(new Set(outcomes.filter((outcome) => outcome !== "placed"))).toEqual(
        new Set(["PRECONDITION_FAILED"]),
      );
      for (const host of await hostRows(group)) {
        expect(host.cpuAllocatedMillis).toBe(900);
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
      const { placement } = await fleet.operator.container.run.mutate({
        image: "busybox",
        cpus: "0.5",
        memory: "256m",
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
});
