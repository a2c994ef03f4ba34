// deployment.update over HTTP with fake agents whose engines "pull" by a
// table: the new tag is pinned once and becomes revision 2, whose rollout
// replaces each replica (the engines report them running) and each host's
// agent is told; a tag no host can pull changes nothing. image.digestsInUse
// counts what the rows say runs where.
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { latestDesired, waitForDesiredIds } from "../../services/placement/testing/test-fleet";
import { createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer, trpcErrorCode } from "../../testing/test-server";
import { simulateEngines } from "./testing/simulated-engines";

async function until<T>(probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const MIB = 1024 * 1024;
const digestOf = (hex: string) => `sha256:${hex.repeat(64)}`;
/** What the fake registry serves; any other tag does not exist. */
const REGISTRY: Record<string, string> = {
  "registry.test/app:1": digestOf("1"),
  "registry.test/app:2": digestOf("2"),
};

describe("deployment.update and image.digestsInUse", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let operator: ReturnType<typeof createTestClient>;
  let viewer: ReturnType<typeof createTestClient>;
  const agents: FakeAgent[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      databaseUrl: getDatabase().url,
      env: { FLEET_OFFLINE_AFTER: "10m" },
      tuning: { rolloutTickMs: 40 },
    });
    const clientFor = async (role: "admin" | "operator" | "viewer") =>
      createTestClient(server.url, {
        bearer: (await createTestUserWithToken({ db: server.db, role })).token,
      });
    const admin = await clientFor("admin");
    operator = await clientFor("operator");
    viewer = await clientFor("viewer");
    for (const name of ["upd-a", "upd-b"]) {
      const { token } = await admin.joinToken.create.mutate({});
      agents.push(
        await connectFakeAgent({
          url: server.url,
          joinToken: token,
          name,
          facts: { cpus: 2, memoryBytes: 1024 * MIB, labels: {} },
          reserve: { cpuMillis: 0, memoryBytes: 0 },
          answerOp: (request) => {
            if (request.op.kind === "image.list") return { ok: true, result: { images: [] } };
            if (request.op.kind !== "image.pull") return { ignore: true };
            const digest = REGISTRY[request.op.image];
            return digest
              ? { ok: true, result: { digest } }
              : { ok: false, code: "not_found", message: `manifest for ${request.op.image} not found` };
          },
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await server?.close();
  });

  test("pins the new tag once and moves every replica to it; a bad tag changes nothing", async () => {
    const created = await operator.deployment.create.mutate({
      name: "svc",
      image: "registry.test/app:1",
      command: ["sleep", "3600"],
      memory: "32m",
      // A tmpfs, not a named volume: a volume would keep the replicas on its one host.
      tmpfs: ["/scratch:size=16m"],
      networks: ["svc-net"],
      replicas: 2,
      strategy: "spread",
      policy: { minHealthyTimeMs: 0, maxParallel: 2 },
    });
    const pinned1 = `registry.test/app:1@${digestOf("1")}`;
    expect(created.deployment).toMatchObject({
      image: pinned1,
      imageDigest: digestOf("1"),
      mounts: [{ type: "tmpfs", target: "/scratch", sizeBytes: 16 * MIB }],
      networks: ["svc-net"],
    });
    const hosts = new Set(created.replicas.map((r) => r.hostId));
    expect(hosts.size).toBe(2);
    for (const agent of agents) {
      await waitForDesiredIds(
        agent,
        created.replicas.filter((r) => r.hostId === agent.hostId).map((r) => r.id),
      );
    }

    const inUse = await viewer.image.digestsInUse.query({});
    expect(inUse.items).toEqual([
      {
        repository: "registry.test/app",
        digest: digestOf("1"),
        containers: 2,
        hosts: expect.arrayContaining(
          agents.map((agent, i) => ({ hostId: agent.hostId, hostName: `upd-${"ab"[i]}`, containers: 1 })),
        ),
      },
    ]);

    const refused = await operator.deployment.update
      .mutate({ id: created.deployment.id, image: "registry.test/app:nope" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(refused)).toBe("PRECONDITION_FAILED");
    expect((refused as Error).message).toMatch(
      /deployment svc was not changed: image registry\.test\/app:nope could not be resolved to a registry digest \(.*not found.*\)/,
    );
    const unchanged = await viewer.deployment.get.query({ id: created.deployment.id });
    expect(unchanged.deployment.image).toBe(pinned1);
    expect(unchanged.replicas.map((r) => r.image)).toEqual([pinned1, pinned1]);

    // A dry run pulls nothing: the same tag is no change, another tag is.
    const sameTag = await operator.deployment.update.mutate({
      id: created.deployment.id,
      image: "registry.test/app:1",
      dryRun: true,
    });
    expect(sameTag.change).toEqual({ revision: null, diff: "", dryRun: true });
    const otherTag = await operator.deployment.update.mutate({
      id: created.deployment.id,
      image: "registry.test/app:2",
      dryRun: true,
    });
    expect(otherTag.change.diff).toBe("image registry.test/app:1 → registry.test/app:2");
    expect(otherTag.deployment.revision).toBe(1);
    const engines = simulateEngines(agents, () => ({ state: "running", health: null }));
    const updated = await operator.deployment.update.mutate({
      id: created.deployment.id,
      image: "registry.test/app:2",
    });
    const pinned2 = `registry.test/app:2@${digestOf("2")}`;
    expect(updated.change).toEqual({
      revision: 2,
      diff: "image registry.test/app:1 → registry.test/app:2",
      dryRun: false,
    });
    expect(updated.deployment).toMatchObject({
      image: pinned2,
      imageDigest: digestOf("2"),
      revision: 2,
      // Only the image changes.
      mounts: created.deployment.mounts,
      networks: ["svc-net"],
      resources: created.deployment.resources,
    });
    // The rollout replaces both replicas with new containers of the same names, one per host.
    const rolled = await until(async () => {
      const got = await viewer.deployment.get.query({ id: created.deployment.id });
      return got.deployment.rollout?.state === "succeeded" ? got : null;
    });
    engines.stop();
    expect(rolled.replicas.map((r) => [r.name, r.image, r.imageDigest, r.mounts])).toEqual(
      created.replicas.map((r) => [r.name, pinned2, digestOf("2"), r.mounts]),
    );
    expect(rolled.replicas.map((r) => r.id)).not.toContain(created.replicas[0]!.id);
    // Each host's agent gets a desired set with the new image only.
    for (const agent of agents) {
      await waitForDesiredIds(
        agent,
        rolled.replicas.filter((r) => r.hostId === agent.hostId).map((r) => r.id),
      );
      const desired = latestDesired(agent)!;
      expect(desired.containers.map((c) => [c.image, c.mounts, c.networks])).toEqual([
        [pinned2, [{ type: "tmpfs", target: "/scratch", sizeBytes: 16 * MIB }], ["svc-net"]],
      ]);
    }
    const onFirstHost = rolled.replicas.filter((r) => r.hostId === agents[0]!.hostId).length;
    expect((await viewer.image.digestsInUse.query({ hostId: agents[0]!.hostId })).items).toEqual([
      {
        repository: "registry.test/app",
        digest: digestOf("2"),
        containers: onFirstHost,
        hosts: [{ hostId: agents[0]!.hostId, hostName: "upd-a", containers: onFirstHost }],
      },
    ]);

    const asViewer = await viewer.deployment.update
      .mutate({ id: created.deployment.id, image: "registry.test/app:1" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(asViewer)).toBe("FORBIDDEN");
    const missing = await operator.deployment.update
      .mutate({ id: "no-such-deployment", image: "registry.test/app:1" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(missing)).toBe("NOT_FOUND");
  });
});
