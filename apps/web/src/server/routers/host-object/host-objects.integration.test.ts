// volume.* and network.* through the API against a real central and Postgres,
// with fake agents whose engines keep volumes and networks in memory: what
// the routers built from one factory answer for each kind, and where the
// kinds differ (a network's `internal`, the engine's own networks, sizes).

import type { TNetworkSummary, TVolumeSummary } from "@fleet/shared/protocol/operations";
import { connectFakeAgent, type FakeAgent, type TFakeOpAnswer } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer, trpcErrorCode } from "../../testing/test-server";

const CREATED_AT = "2026-01-02T03:04:05.000Z";

/** An engine's volumes and networks, and what its agent answers about them. */
class FakeEngine {
  volumes = new Map<string, TVolumeSummary>();
  networks = new Map<string, TNetworkSummary>([["bridge", this.network("bridge", false)]]);
  /** The next answers to these operation kinds fail with this code. */
  failing = new Map<string, "conflict" | "not_found" | "engine">();

  network(name: string, internal: boolean): TNetworkSummary {
    return {
      id: `id-${name}`,
      name,
      driver: "bridge",
      internal,
      subnet: "10.9.0.0/24",
      gateway: "10.9.0.1",
      createdAt: CREATED_AT,
    };
  }

  answer(op: { kind: string; name?: string; internal?: boolean }): TFakeOpAnswer {
    const failure = this.failing.get(op.kind);
    if (failure) return { ok: false, code: failure, message: `${op.kind} failed: ${failure}` };
    const name = op.name ?? "";
    switch (op.kind) {
      case "volume.create": {
        const volume = { name, driver: "local", createdAt: CREATED_AT, sizeBytes: 0, labels: { a: "b" } };
        this.volumes.set(name, volume);
        return { ok: true, result: { volume } };
      }
      case "volume.list":
        return { ok: true, result: { volumes: [...this.volumes.values()] } };
      case "network.create": {
        if (this.networks.has(name)) return { ok: false, code: "conflict", message: "already exists" };
        const network = this.network(name, op.internal === true);
        this.networks.set(name, network);
        return { ok: true, result: { network } };
      }
      case "network.list":
        return { ok: true, result: { networks: [...this.networks.values()] } };
      case "volume.remove":
      case "network.remove": {
        const objects = op.kind === "volume.remove" ? this.volumes : this.networks;
        if (!objects.delete(name)) return { ok: false, code: "not_found", message: `no such object ${name}` };
        return { ok: true, result: { name } };
      }
      case "image.list":
        return { ok: true, result: { images: [] } };
      default:
        return { ignore: true };
    }
  }
}

describe("host objects", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let operator: ReturnType<typeof createTestClient>;
  let viewer: ReturnType<typeof createTestClient>;
  const engines = { "objects-a": new FakeEngine(), "objects-b": new FakeEngine() };
  const agents: FakeAgent[] = [];
  const hostIds: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url, env: { FLEET_OFFLINE_AFTER: "10m" } });
    const clientFor = async (role: "viewer" | "operator" | "admin") =>
      createTestClient(server.url, {
        bearer: (await createTestUserWithToken({ db: server.db, role })).token,
      });
    const admin = await clientFor("admin");
    operator = await clientFor("operator");
    viewer = await clientFor("viewer");
    for (const [name, engine] of Object.entries(engines)) {
      const { token } = await admin.joinToken.create.mutate({ labels: { side: name } });
      const agent = await connectFakeAgent({
        url: server.url,
        joinToken: token,
        name,
        answerOp: (request) => engine.answer(request.op),
      });
      agents.push(agent);
      hostIds[name] = agent.hostId;
    }
    // The central reads a connected host's objects in the background; wait until it has.
    for (const agent of agents)
      await agent.waitFor("op.request", (frame) => frame.op.kind === "network.list");
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await server?.close();
  });

  const hostA = () => hostIds["objects-a"]!;

  test("create: stored with what the engine reported, recorded, refused when it exists", async () => {
    const { volume } = await operator.volume.create.mutate({ hostId: hostA(), name: "data" });
    expect(volume).toMatchObject({
      hostId: hostA(),
      hostName: "objects-a",
      name: "data",
      driver: "local",
      sizeBytes: 0,
      labels: { a: "b" },
      createdAt: new Date(CREATED_AT),
      usedBy: [],
    });
    const again = await operator.volume.create.mutate({ hostId: hostA(), name: "data" }).catch((e) => e);
    expect(trpcErrorCode(again)).toBe("CONFLICT");
    expect((again as Error).message).toBe("volume data already exists on objects-a");

    const { network } = await operator.network.create.mutate({
      hostId: hostA(),
      name: "back",
      internal: true,
    });
    expect(network).toMatchObject({
      name: "back",
      internal: true,
      subnet: "10.9.0.0/24",
      gateway: "10.9.0.1",
    });

    const events = await server.db.event.findMany({
      where: { kind: { in: ["volume.created", "network.created"] } },
      orderBy: { id: "asc" },
      select: { kind: true, message: true, data: true },
    });
    expect(events.map((event) => event.kind)).toEqual(["volume.created", "network.created"]);
    expect(events[0]?.message).toMatch(/ created volume data on host objects-a$/);
    expect(events[1]?.message).toMatch(/ created internal network back on host objects-a$/);
    expect(events[1]?.data).toMatchObject({ network: "back", internal: true });
  });

  test("create: a network the engine has already is stored and refused", async () => {
    engines["objects-a"].networks.set("made-by-agent", engines["objects-a"].network("made-by-agent", false));
    const taken = await operator.network.create
      .mutate({ hostId: hostA(), name: "made-by-agent" })
      .catch((e) => e);
    expect(trpcErrorCode(taken)).toBe("CONFLICT");
    expect((taken as Error).message).toBe("network made-by-agent already exists on objects-a");
    const listed = await viewer.network.list.query({ hostId: hostA(), name: "made-by" });
    expect(listed.items.map((item) => item.name)).toEqual(["made-by-agent"]);
  });

  test("list: by host name then name, a page at a time; the engine's own networks are not listed", async () => {
    await operator.network.create.mutate({ hostId: hostIds["objects-b"]!, name: "alpha" });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { hostName: string; name: string }[]; nextCursor: string | null } =
        await viewer.network.list.query({ limit: 1, cursor });
      seen.push(...page.items.map((item) => `${item.hostName}/${item.name}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["objects-a/back", "objects-a/made-by-agent", "objects-b/alpha"]);
    const bad = await viewer.volume.list.query({ cursor: "nope" }).catch((e) => e);
    expect(trpcErrorCode(bad)).toBe("BAD_REQUEST");
  });

  test("refresh: rows follow the engines; a host that cannot answer keeps its rows", async () => {
    engines["objects-a"].volumes.delete("data");
    engines["objects-a"].volumes.set("by-hand", {
      name: "by-hand",
      driver: "local",
      createdAt: null,
      sizeBytes: 1234,
      labels: {},
    });
    engines["objects-b"].failing.set("volume.list", "engine");
    const { hosts } = await operator.volume.refresh.mutate({});
    expect(hosts).toEqual([
      { hostId: hostA(), hostName: "objects-a", ok: true, error: null, count: 1 },
      expect.objectContaining({ hostName: "objects-b", ok: false, count: 0 }),
    ]);
    engines["objects-b"].failing.delete("volume.list");
    const volumes = await viewer.volume.list.query({});
    expect(volumes.items.map((item) => [item.name, item.sizeBytes])).toEqual([["by-hand", 1234]]);

    // The engine's own networks are not counted.
    const networks = await operator.network.refresh.mutate({ hostId: hostA() });
    expect(networks.hosts).toEqual([expect.objectContaining({ ok: true, count: 2 })]);
  });

  test("remove: refused while a container joins it; gone from the engine is gone", async () => {
    const [back] = (await viewer.network.list.query({ name: "back" })).items;
    const run = await operator.container.run.mutate({
      image: "busybox",
      memory: "16m",
      networks: ["back"],
      constraints: "side=objects-a",
    });
    const used = await operator.network.remove.mutate({ id: back!.id }).catch((e) => e);
    expect(trpcErrorCode(used)).toBe("CONFLICT");
    expect((used as Error).message).toBe(
      `network back on objects-a is used by ${run.container.name}: remove those containers first`,
    );
    expect(trpcErrorCode(await viewer.network.remove.mutate({ id: back!.id }).catch((e) => e))).toBe(
      "FORBIDDEN",
    );
    // The engine lost it, but the container's agent makes it again: the row stays, with its user.
    engines["objects-a"].networks.delete("back");
    await operator.network.refresh.mutate({ hostId: hostA() });
    const kept = await viewer.network.list.query({ name: "back" });
    expect(kept.items.map((item) => item.usedBy.map((user) => user.name))).toEqual([[run.container.name]]);

    const [byHand] = (await viewer.volume.list.query({ name: "by-hand" })).items;
    engines["objects-a"].volumes.delete("by-hand");
    expect(await operator.volume.remove.mutate({ id: byHand!.id })).toEqual({ ok: true });
    expect((await viewer.volume.list.query({ name: "by-hand" })).items).toEqual([]);
    const removed = await server.db.event.findFirstOrThrow({
      where: { kind: "volume.removed" },
      select: { message: true, data: true },
    });
    expect(removed.message).toMatch(/ removed volume by-hand from host objects-a$/);
    expect(removed.data).toMatchObject({ volume: "by-hand" });

    const missing = await operator.volume.remove.mutate({ id: byHand!.id }).catch((e) => e);
    expect(trpcErrorCode(missing)).toBe("NOT_FOUND");
    expect((missing as Error).message).toBe(`no volume with id ${byHand!.id}`);
  });
});
