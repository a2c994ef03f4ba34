// The container API over HTTP against a real central and fake agents on real
// sockets: each lifecycle step changes the host's desired set (a new
// generation the agent receives) and its allocated capacity together.

import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  latestDesired,
  startTestFleet,
  type TestFleet,
  waitForDesiredIds,
} from "../../services/placement/testing/test-fleet";
import { trpcErrorCode } from "../../testing/test-server";

const MIB = 1024 * 1024;

describe("container", () => {
  const getDatabase = useTestDatabase();
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await startTestFleet({ databaseUrl: getDatabase().url });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  async function allocatedOn(hostId: string) {
    const host = await fleet.server.db.host.findUniqueOrThrow({ where: { id: hostId } });
    return {
      cpu: host.cpuAllocatedMillis,
      memory: Number(host.memoryAllocatedBytes),
      pids: host.pidsAllocated,
    };
  }

  test("run parses docker's spellings, defaults requests to limits and tells the agent", async () => {
    const [agent] = await fleet.joinHosts([
      { name: "run-a", cpus: 2, memoryMiB: 1024, labels: { group: "run" } },
    ]);
    const { container, placement } = await fleet.operator.container.run.mutate({
      name: "web-1",
      image: "127.0.0.1:5000/fleet/busybox:1.36",
      command: "sleep 3600",
      env: ["MODE=test", "EMPTY="],
      ports: ["127.0.0.1:8080:80/udp"],
      cpus: "500m",
      memory: "64m",
      pids: 50,
      memoryRequest: "32m",
      restart: "on-failure:3",
      labels: ["app=web", "tier"],
      constraints: "group=run",
    });
    expect(placement).toMatchObject({ hostId: agent!.hostId, hostName: "run-a" });
    expect(container).toMatchObject({
      name: "web-1",
      hostName: "run-a",
      desiredState: "running",
      actualState: "pending",
      command: ["sleep", "3600"],
      envKeys: ["EMPTY", "MODE"],
      ports: [{ containerPort: 80, hostPort: 8080, hostIp: "127.0.0.1", protocol: "udp" }],
      labels: { app: "web", tier: "" },
      restartPolicy: "on-failure:3",
      resources: {
        cpuRequestMillis: 500,
        cpuLimitMillis: 500,
        memoryRequestBytes: 32 * MIB,
        memoryLimitBytes: 64 * MIB,
        pidsRequest: 50,
        pidsLimit: 50,
      },
      placementReason: placement.reason,
      strategy: "binpack",
      constraints: "group=run",
    });
    expect(container.scheduledAt).toBeInstanceOf(Date);
    expect(await allocatedOn(agent!.hostId)).toEqual({ cpu: 500, memory: 32 * MIB, pids: 50 });
    const desired = await waitForDesiredIds(agent!, [container.id]);
    expect(desired.containers[0]).toMatchObject({
      id: container.id,
      name: "web-1",
      command: ["sleep", "3600"],
      env: { MODE: "test", EMPTY: "" },
      restartPolicy: { name: "on-failure", maxRetries: 3 },
      resources: { cpuLimitMillis: 500, memoryLimitBytes: 64 * MIB, memoryRequestBytes: 32 * MIB },
    });

    const unnamed = await fleet.operator.container.run.mutate({ image: "busybox", constraints: "group=run" });
    expect(unnamed.container.name).toMatch(/^[a-z]+_[a-z]+(_\d+)?$/);

    const taken = await fleet.operator.container.run
      .mutate({ name: "web-1", image: "busybox", constraints: "group=run" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(taken)).toBe("CONFLICT");
    expect((taken as Error).message).toBe("a container named web-1 already exists");
  });

  test("bad input is refused with a message naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ memory: "64x" }, 'memory: invalid memory size "64x"'],
      [{ cpus: "half" }, 'cpus: invalid cpus "half"'],
      [{ ports: ["80:http"] }, 'ports[0]: invalid port mapping "80:http"'],
      [{ restart: "sometimes" }, 'restart: invalid restart policy "sometimes"'],
      [{ cpus: "0.5", cpuRequest: "1" }, "cpuRequest: the cpu request must not exceed the cpus limit"],
      [
        { labels: { "fleet.x": "1" } },
        'labels.fleet.x: labels starting with "fleet." are reserved for Fleet',
      ],
      [{ image: "UPPER/Case" }, "image: "],
      [{ constraints: "zone in (a" }, "constraints: "],
      [
        { ports: ["8080:80", "8080:81"] },
        "ports[1].hostPort: host port 8080/tcp is already used by ports[0]",
      ],
    ];
    for (const [input, message] of cases) {
      const error = await fleet.operator.container.run
        .mutate({ image: "busybox", ...input } as never)
        .catch((caught: unknown) => caught);
      expect({ input, code: trpcErrorCode(error) }).toEqual({ input, code: "BAD_REQUEST" });
      expect((error as Error).message).toContain(message);
    }
  });

  test("stop, start, restart and remove change the desired set and the capacity together", async () => {
    const [agent] = await fleet.joinHosts([
      { name: "life-a", cpus: 1, memoryMiB: 256, labels: { group: "life" } },
    ]);
    const hostId = agent!.hostId;
    const { container } = await fleet.operator.container.run.mutate({
      name: "life-1",
      image: "busybox",
      cpus: "0.6",
      memory: "128m",
      constraints: "group=life",
    });
    const first = await waitForDesiredIds(agent!, [container.id]);
    expect(await allocatedOn(hostId)).toEqual({ cpu: 600, memory: 128 * MIB, pids: 0 });

    const stopped = await fleet.operator.container.stop.mutate({ id: container.id });
    expect(stopped.desiredState).toBe("stopped");
    // It stays in the host's desired set, kept stopped: the agent keeps the engine container.
    const afterStop = await agent!.waitFor(
      "desired",
      (frame) => frame.generation > first.generation && frame.containers[0]?.runState === "stopped",
    );
    expect(afterStop.containers.map((entry) => entry.id)).toEqual([container.id]);
    expect(await allocatedOn(hostId)).toEqual({ cpu: 0, memory: 0, pids: 0 });
    // Stopping again changes nothing.
    expect((await fleet.operator.container.stop.mutate({ id: container.id })).desiredState).toBe("stopped");

    // While it is stopped another container takes the room, so it cannot start again.
    const squatter = await fleet.operator.container.run.mutate({
      name: "squatter",
      image: "busybox",
      cpus: "0.5",
      constraints: "group=life",
    });
    const refused = await fleet.operator.container.start
      .mutate({ id: container.id })
      .catch((e: unknown) => e);
    expect(trpcErrorCode(refused)).toBe("PRECONDITION_FAILED");
    expect((refused as Error).message).toBe(
      "container life-1 no longer fits on its host life-a: not enough cpu (requested 0.6 cores, free 0.5 of 1 core)",
    );
    await fleet.operator.container.remove.mutate({ id: squatter.container.id });
    expect(await allocatedOn(hostId)).toEqual({ cpu: 0, memory: 0, pids: 0 });

    const started = await fleet.operator.container.start.mutate({ id: container.id });
    expect(started.desiredState).toBe("running");
    const afterStart = await agent!.waitFor(
      "desired",
      (frame) => frame.generation > afterStop.generation && frame.containers[0]?.runState === "running",
    );
    expect(afterStart.containers.map((entry) => entry.id)).toEqual([container.id]);
    expect(await allocatedOn(hostId)).toEqual({ cpu: 600, memory: 128 * MIB, pids: 0 });

    // A restart changes the spec (and so its hash) so the agent replaces the container.
    const before = afterStart.containers[0]!;
    await fleet.operator.container.restart.mutate({ id: container.id });
    const restarted = await agent!.waitFor(
      "desired",
      (frame) => frame.generation > afterStart.generation && frame.containers.length === 1,
    );
    expect(restarted.containers[0]!.labels["restarted-at"]).toMatch(/^\d+$/);
    expect({ ...restarted.containers[0]!, labels: before.labels }).toEqual(before);
    expect(await allocatedOn(hostId)).toEqual({ cpu: 600, memory: 128 * MIB, pids: 0 });

    const removed = await fleet.operator.container.remove.mutate({ id: container.id });
    expect(removed).toMatchObject({ desiredState: "removed" });
    expect(removed.removedAt).toBeInstanceOf(Date);
    await waitForDesiredIds(agent!, []);
    expect(await allocatedOn(hostId)).toEqual({ cpu: 0, memory: 0, pids: 0 });
    expect(latestDesired(agent!)!.generation).toBeGreaterThan(restarted.generation);
    // Removing twice is harmless; starting a removed container is refused; the name is free again.
    await fleet.operator.container.remove.mutate({ id: container.id });
    expect(
      trpcErrorCode(
        await fleet.operator.container.start.mutate({ id: container.id }).catch((e: unknown) => e),
      ),
    ).toBe("PRECONDITION_FAILED");
    const again = await fleet.operator.container.run.mutate({
      name: "life-1",
      image: "busybox",
      constraints: "group=life",
    });
    expect(again.container.id).not.toBe(container.id);

    const { events } = await fleet.viewer.container.get.query({ id: container.id });
    expect(events.map((event) => event.kind).reverse()).toEqual([
      "container.placed",
      "container.stop-requested",
      "container.start-requested",
      "container.restart-requested",
      "container.remove-requested",
    ]);
    expect(agent!.invalidFrames).toEqual([]);
  });

  test("list filters and pages newest first; get finds by id or live name", async () => {
    await fleet.joinHosts([{ name: "list-a", cpus: 4, memoryMiB: 4096, labels: { group: "list" } }]);
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const { container } = await fleet.operator.container.run.mutate({
        name: `listed-${index}`,
        image: index % 2 === 0 ? "nginx:1.27" : "busybox",
        constraints: "group=list",
      });
      ids.push(container.id);
    }
    await fleet.operator.container.remove.mutate({ id: ids[4]! });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } =
        await fleet.viewer.container.list.query({ name: "LISTED-", limit: 2, cursor });
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect(pages).toBe(2);

    const withRemoved = await fleet.viewer.container.list.query({ name: "listed-", includeRemoved: true });
    expect(withRemoved.items.map((item) => item.id)).toEqual([...ids].reverse());
    const nginx = await fleet.viewer.container.list.query({ name: "listed-", image: "NGINX" });
    expect(nginx.items.map((item) => item.name)).toEqual(["listed-2", "listed-0"]);
    const pending = await fleet.viewer.container.list.query({
      name: "listed-",
      state: ["pending", "running"],
    });
    expect(pending.items).toHaveLength(4);
    const running = await fleet.viewer.container.list.query({ name: "listed-", state: "running" });
    expect(running.items).toHaveLength(0);
    expect(running.total).toBe(0);

    // Another order, paged: the cursor carries the sort key, and a cursor is good only for its own sort.
    const byNameDesc: string[] = [];
    let nameCursor: string | null = null;
    do {
      const page: { items: { name: string }[]; nextCursor: string | null; total: number } =
        await fleet.viewer.container.list.query({
          name: "listed-",
          sort: "name",
          direction: "desc",
          limit: 3,
          cursor: nameCursor,
        });
      expect(page.total).toBe(4);
      byNameDesc.push(...page.items.map((item) => item.name));
      nameCursor = page.nextCursor;
      if (nameCursor) {
        expect(
          trpcErrorCode(
            await fleet.viewer.container.list
              .query({ cursor: nameCursor, sort: "created" })
              .catch((e: unknown) => e),
          ),
        ).toBe("BAD_REQUEST");
      }
    } while (nameCursor);
    expect(byNameDesc).toEqual(["listed-3", "listed-2", "listed-1", "listed-0"]);
    // Equal requests fall back to creation order, oldest first when ascending.
    const byCpu = await fleet.viewer.container.list.query({
      name: "listed-",
      sort: "cpuRequest",
      direction: "asc",
    });
    expect(byCpu.items.map((item) => item.id)).toEqual(ids.slice(0, 4));
    // LIKE's wildcards in the search text are taken literally.
    expect((await fleet.viewer.container.list.query({ name: "listed_" })).total).toBe(0);

    const byName = await fleet.viewer.container.get.query({ name: "listed-1" });
    expect(byName.container).toMatchObject({ id: ids[1], hostName: "list-a" });
    expect(byName.events[0]).toMatchObject({ kind: "container.placed" });
    expect(
      trpcErrorCode(await fleet.viewer.container.get.query({ name: "listed-4" }).catch((e: unknown) => e)),
    ).toBe("NOT_FOUND");
    expect(
      trpcErrorCode(await fleet.viewer.container.list.query({ cursor: "nope" }).catch((e: unknown) => e)),
    ).toBe("BAD_REQUEST");
  });

  test("a viewer may look but not run, stop, start, restart or remove", async () => {
    const { container } = await fleet.operator.container.run.mutate({
      image: "busybox",
      constraints: "group=list",
    });
    const attempts = [
      fleet.viewer.container.run.mutate({ image: "busybox" }),
      fleet.viewer.container.stop.mutate({ id: container.id }),
      fleet.viewer.container.start.mutate({ id: container.id }),
      fleet.viewer.container.restart.mutate({ id: container.id }),
      fleet.viewer.container.remove.mutate({ id: container.id }),
    ];
    // Settle them together: awaiting one by one leaves the later rejections unhandled for a while.
    const outcomes = await Promise.all(attempts.map((attempt) => attempt.catch((e: unknown) => e)));
    for (const outcome of outcomes) expect(trpcErrorCode(outcome)).toBe("FORBIDDEN");
    expect((await fleet.viewer.container.get.query({ id: container.id })).container.desiredState).toBe(
      "running",
    );
  });
});
