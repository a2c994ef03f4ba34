import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BusTopics, createEventBus } from "../../events/event-bus";
import { createTestHost, createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer, trpcErrorCode } from "../../testing/test-server";
import { hashToken } from "../../tokens";

describe("host", () => {
  const getDatabase = useTestDatabase();
  const bus = createEventBus();
  let server: TestServer;
  let viewer: ReturnType<typeof createTestClient>;
  let operator: ReturnType<typeof createTestClient>;
  let admin: ReturnType<typeof createTestClient>;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url, bus });
    const clientFor = async (role: "viewer" | "operator" | "admin") =>
      createTestClient(server.url, {
        bearer: (await createTestUserWithToken({ db: server.db, role })).token,
      });
    [viewer, operator, admin] = await Promise.all([
      clientFor("viewer"),
      clientFor("operator"),
      clientFor("admin"),
    ]);
  });
  afterAll(async () => {
    await server?.close();
  });

  async function addContainer(hostId: string, name: string, removed = false) {
    await server.db.container.create({
      data: {
        name,
        hostId,
        image: "busybox",
        spec: {},
        cpuRequestMillis: 250,
        memoryRequestBytes: 64n * 1024n * 1024n,
        pidsRequest: 10,
        removedAt: removed ? new Date() : null,
      },
    });
  }

  test("list and get show capacity, allocatable, allocated and the live container count", async () => {
    const host = await createTestHost(server.db, {
      name: "alpha",
      labels: { zone: "a" },
      cpuAllocatedMillis: 500,
      memoryAllocatedBytes: 128n * 1024n * 1024n,
      pidsAllocated: 20,
    });
    await addContainer(host.id, "web-1");
    await addContainer(host.id, "web-2");
    await addContainer(host.id, "old", true);

    const fetched = await viewer.host.get.query({ id: host.id });
    expect(fetched).toMatchObject({
      name: "alpha",
      status: "online",
      draining: false,
      labels: { zone: "a" },
      capacity: { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3, pids: 32_768 },
      allocatable: { cpuMillis: 3900, memoryBytes: 8 * 1024 ** 3 - 256 * 1024 ** 2, pids: 32_768 },
      allocated: { cpuMillis: 500, memoryBytes: 128 * 1024 ** 2, pids: 20 },
      containerCount: 2,
      removedAt: null,
    });
    const listed = await viewer.host.list.query({});
    expect(listed.items.find((item) => item.id === host.id)).toEqual(fetched);
  });

  test("list filters by status and label selector and pages with a cursor", async () => {
    const prefix = `page-${Date.now()}`;
    for (let index = 0; index < 7; index++) {
      await createTestHost(server.db, {
        name: `${prefix}-${index}`,
        status: index % 2 === 0 ? "online" : "offline",
        labels: { group: prefix, ...(index < 5 ? { tier: "web" } : {}) },
      });
    }
    const selector = `group=${prefix},tier=web`;
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { name: string }[]; nextCursor: string | null } = await viewer.host.list.query({
        label: selector,
        limit: 2,
        cursor,
      });
      names.push(...page.items.map((item) => item.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(names).toEqual([0, 1, 2, 3, 4].map((index) => `${prefix}-${index}`));
    expect(pages).toBe(3);

    const offline = await viewer.host.list.query({ label: `group=${prefix}`, status: "offline" });
    expect(offline.items.map((item) => item.name)).toEqual([1, 3, 5].map((index) => `${prefix}-${index}`));
    const notWeb = await viewer.host.list.query({ label: `group=${prefix},!tier` });
    expect(notWeb.items.map((item) => item.name)).toEqual([`${prefix}-5`, `${prefix}-6`]);

    const badCursor = await viewer.host.list.query({ cursor: "???" }).catch((error: unknown) => error);
    expect(trpcErrorCode(badCursor)).toBe("BAD_REQUEST");

    // By status, online first, ties by name descending: the cursor carries the status across the boundary.
    const byStatus: string[] = [];
    cursor = null;
    do {
      const page: { items: { name: string }[]; nextCursor: string | null; total: number | null } =
        await viewer.host.list.query({
          name: prefix.toUpperCase(),
          sort: "status",
          direction: "desc",
          limit: 3,
          cursor,
        });
      expect(page.total).toBe(7);
      byStatus.push(...page.items.map((item) => item.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(byStatus).toEqual([5, 3, 1, 6, 4, 2, 0].map((index) => `${prefix}-${index}`));
    const first = await viewer.host.list.query({ label: `group=${prefix}`, sort: "created", limit: 1 });
    expect(first.total).toBeNull();
    const wrongSort = await viewer.host.list
      .query({ label: `group=${prefix}`, cursor: first.nextCursor })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(wrongSort)).toBe("BAD_REQUEST");
  });

  test("an operator drains and undrains a host; each change is an event", async () => {
    const host = await createTestHost(server.db);
    const changed: BusTopics["host.changed"][] = [];
    const unsubscribe = bus.subscribe("host.changed", (payload) => changed.push(payload));
    try {
      expect((await operator.host.drain.mutate({ id: host.id, draining: true })).draining).toBe(true);
      // Draining a drained host again changes nothing and records nothing.
      expect((await operator.host.drain.mutate({ id: host.id, draining: true })).draining).toBe(true);
      expect((await operator.host.drain.mutate({ id: host.id, draining: false })).draining).toBe(false);
    } finally {
      unsubscribe();
    }
    expect(changed).toEqual([{ hostId: host.id }, { hostId: host.id }]);
    const events = await server.db.event.findMany({ where: { hostId: host.id }, orderBy: { id: "asc" } });
    expect(events.map((event) => [event.kind, (event.data as { draining: boolean }).draining])).toEqual([
      ["host.drain", true],
      ["host.drain", false],
    ]);
  });

  test("an administrator removes a host: hidden from lists, credential cleared, gateway told", async () => {
    const host = await createTestHost(server.db, { credentialHash: hashToken("fleet_host_secret") });
    await addContainer(host.id, "stranded");
    const removedNotices: BusTopics["host.removed"][] = [];
    const unsubscribe = bus.subscribe("host.removed", (payload) => removedNotices.push(payload));
    try {
      const removed = await admin.host.remove.mutate({ id: host.id });
      expect(removed.removedAt).toBeInstanceOf(Date);
      expect(removed).toMatchObject({ status: "offline", draining: true });
      // Removing again is harmless and tells nobody twice.
      await admin.host.remove.mutate({ id: host.id });
    } finally {
      unsubscribe();
    }
    expect(removedNotices).toEqual([{ hostId: host.id }]);
    const row = await server.db.host.findUniqueOrThrow({ where: { id: host.id } });
    expect(row.credentialHash).toBeNull();
    const listed = await viewer.host.list.query({});
    expect(listed.items.map((item) => item.id)).not.toContain(host.id);
    const withRemoved = await viewer.host.list.query({ includeRemoved: true });
    expect(withRemoved.items.map((item) => item.id)).toContain(host.id);
    expect(await server.db.event.count({ where: { hostId: host.id, kind: "host.removed" } })).toBe(1);
    expect(server.log.lines.some((line) => line.msg.includes("removed host still holds containers"))).toBe(
      true,
    );

    const drainRemoved = await operator.host.drain
      .mutate({ id: host.id, draining: false })
      .catch((e: unknown) => e);
    expect(trpcErrorCode(drainRemoved)).toBe("PRECONDITION_FAILED");
    expect(trpcErrorCode(await operator.host.remove.mutate({ id: host.id }).catch((e: unknown) => e))).toBe(
      "FORBIDDEN",
    );
  });
});
