// A deployment runs one image digest everywhere, whatever its tag does later:
// the real central, two real agents (one on dockerd, one on Podman) and a local
// registry. Image A is pushed as `app:1` and deployed on both hosts; then B is
// pushed under the same tag, and neither a scale-up nor the replacement of a
// lost host's replicas runs B, until deployment.update moves every replica to
// B. A single container run by tag records the digest it got, and its
// engine-picked host port. Checked in the engines themselves, not only in
// what the API says. An image only built on a host stays on its tag.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { createTestClient, startTestServer, type TestServer } from "@fleet/web/server/testing/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TEngineKind, type TestEngine, useEngine } from "../harness/engines";
import { eventually } from "../harness/eventually";
import { useTestDatabase } from "../harness/postgres";
import { pushImage, registryManifestDigest, startRegistry, type TestRegistry } from "../harness/registry";
import { buildImage, buildTestImage, TEST_IMAGE_TAG } from "../harness/test-image";

const agentBin = fileURLToPath(new URL("../../apps/agent/bin/fleet-agent.js", import.meta.url));
const KINDS = ["docker", "podman"] as const satisfies readonly TEngineKind[];
const COMMAND = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

const database = useTestDatabase();
let registry: TestRegistry;
let server: TestServer;
let client: ReturnType<typeof createTestClient>;

beforeAll(async () => {
  registry = await startRegistry();
  server = await startTestServer({
    databaseUrl: database().url,
    env: { FLEET_HEARTBEAT_INTERVAL: "1s", FLEET_OFFLINE_AFTER: "3s" },
  });
  const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
  client = createTestClient(server.url, { bearer: admin.token });
});

afterAll(async () => {
  await server?.close();
  await registry?.stop();
});

describe("digest-pinned deployments on dockerd and Podman", () => {
  const engines = Object.fromEntries(
    KINDS.map((kind) => [kind, useEngine(kind, () => ({ insecureRegistries: [registry.host] }))]),
  ) as Record<TEngineKind, () => TestEngine>;
  const agents = new Map<TEngineKind, ChildProcess>();
  const hostIds = new Map<TEngineKind, string>();
  const stateDirs: string[] = [];
  let output = "";

  async function startAgent(kind: TEngineKind): Promise<void> {
    const { token } = await client.joinToken.create.mutate({ ttl: "10m" });
    const e = engines[kind]();
    const stateDir = await mkdtemp(join(tmpdir(), `fleet-pin-${kind}-`));
    stateDirs.push(stateDir);
    const agent = spawn(
      process.execPath,
      [
        agentBin,
        ...["--server", server.url, "--join-token", token, "--engine", e.dockerHost],
        ...["--cgroup-parent", e.cgroupParent, "--state-dir", stateDir, "--name", `pin-${kind}`],
        ...["--label", `engine=${kind}`],
      ],
      { stdio: ["ignore", "pipe", "pipe"], cwd: tmpdir() },
    );
    agent.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    agent.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    agents.set(kind, agent);
    const host = await eventually(
      `host pin-${kind} to come online`,
      async () => (await client.host.list.query({})).items.find((h) => h.name === `pin-${kind}`),
      (h) => h?.status === "online",
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch((error) => {
      throw new Error(`${error.message}\nagent output:\n${output.slice(-4000)}`);
    });
    hostIds.set(kind, host!.id);
  }

  async function stopAgent(kind: TEngineKind): Promise<void> {
    const agent = agents.get(kind);
    agents.delete(kind);
    if (agent && agent.exitCode === null) {
      agent.kill("SIGTERM");
      await once(agent, "exit");
    }
  }

  afterAll(async () => {
    for (const kind of KINDS) await stopAgent(kind);
    for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
  });

  /** The engine container of a replica, as its host's engine sees it. */
  async function engineView(replica: { engineId: string | null; hostId: string | null }) {
    const kind = KINDS.find((k) => hostIds.get(k) === replica.hostId);
    if (!kind || !replica.engineId) throw new Error(`replica on an unknown host or not created yet`);
    const e = engines[kind]();
    const container = await e.docker.getContainer(replica.engineId).inspect();
    const image = await e.docker.getImage(container.Image).inspect();
    return {
      kind,
      configImage: container.Config.Image,
      imageId: container.Image,
      repoDigests: image.RepoDigests,
    };
  }

  it("runs the digest the tag had at creation on every replica, after a re-push, a scale-up and a host loss", async () => {
    const builder = engines.docker();
    await buildTestImage(builder);
    const reference = `${registry.host}/app:1`;
    const build = (marker: string) =>
      buildImage(builder, {
        tag: reference,
        dockerfile: `FROM ${TEST_IMAGE_TAG}\nCOPY marker /marker\n`,
        files: { marker },
      });
    const imageA = await build("A");
    await pushImage(builder, reference);
    const digestA = await registryManifestDigest(registry, "app", "1");
    expect(digestA).toMatch(/^sha256:[a-f0-9]{64}$/);

    for (const kind of KINDS) await startAgent(kind);

    const created = await client.deployment.create.mutate({
      name: "pinned",
      image: reference,
      command: COMMAND,
      replicas: 2,
      strategy: "spread",
      memory: "32m",
    });
    const pinned = `${reference}@${digestA}`;
    expect(created.deployment).toMatchObject({ image: pinned, imageDigest: digestA });
    expect(created.replicas.map((r) => r.image)).toEqual([pinned, pinned]);
    expect(new Set(created.replicas.map((r) => r.hostId))).toEqual(new Set(hostIds.values()));

    const runningReplicas = (count: number) =>
      eventually(
        `${count} running replicas`,
        async () => (await client.deployment.get.query({ id: created.deployment.id })).replicas,
        (replicas) =>
          replicas.length === count &&
          replicas.every((r) => r.actualState === "running" && r.engineId !== null),
        { timeoutMs: 120_000, intervalMs: 500 },
      ).catch((error) => {
        throw new Error(`${error.message}\nagent output:\n${output.slice(-4000)}`);
      });

    const expectRunsA = async (replica: { engineId: string | null; hostId: string | null }) => {
      const view = await engineView(replica);
      // Podman keeps `name@digest` of the `name:tag@digest` it was given; dockerd keeps it as given.
      expect([pinned, `${registry.host}/app@${digestA}`], `${view.kind}'s container image`).toContain(
        view.configImage,
      );
      expect(view.imageId.replace(/^sha256:/, ""), `${view.kind}'s image id`).toBe(
        imageA.replace(/^sha256:/, ""),
      );
      expect(view.repoDigests ?? []).toContain(`${registry.host}/app@${digestA}`);
    };

    const first = await runningReplicas(2);
    for (const replica of first) {
      expect(replica.imageDigest).toBe(digestA);
      await expectRunsA(replica);
    }

    // The tag moves: B under `app:1`, in the registry and on the builder engine itself.
    const imageB = await build("B");
    expect(imageB).not.toBe(imageA);
    await pushImage(builder, reference);
    const digestB = await registryManifestDigest(registry, "app", "1");
    expect(digestB).not.toBe(digestA);

    await client.deployment.scale.mutate({ id: created.deployment.id, replicas: 3 });
    const scaled = await runningReplicas(3);
    const third = scaled.find((r) => r.replicaIndex === 3)!;
    expect(third.image).toBe(pinned);
    await expectRunsA(third);

    // A single container run by the tag records what the registry gave its host: B. Podman's
    // bridge publishes ports (dockerd here runs without one), so the port check runs there.
    const single = await client.container.run.mutate({
      name: "by-tag",
      image: reference,
      command: COMMAND,
      memory: "32m",
      ports: ["8080"],
      constraints: "engine=podman",
    });
    expect(single.container.imageDigest).toBeNull();
    const singleRunning = await eventually(
      "the single container to run with its digest and port",
      async () => (await client.container.get.query({ id: single.container.id })).container,
      (c) => c.actualState === "running" && c.imageDigest !== null && c.published.length > 0,
      { timeoutMs: 120_000, intervalMs: 500 },
    ).catch((error) => {
      throw new Error(`${error.message}\nagent output:\n${output.slice(-4000)}`);
    });
    expect(singleRunning.imageDigest).toBe(digestB);
    expect(singleRunning.image).toBe(reference);
    const [port] = singleRunning.published;
    expect(port).toMatchObject({ containerPort: 8080, protocol: "tcp" });
    expect(port!.hostPort).toBeGreaterThan(0);
    // Bound on every address: reached through the address the agent connected from.
    expect(port!.address).toBe(`127.0.0.1:${port!.hostPort}`);
    const singleView = await engineView(singleRunning);
    expect(singleView.imageId.replace(/^sha256:/, "")).toBe(imageB.replace(/^sha256:/, ""));

    const inUse = (await client.image.digestsInUse.query({})).items;
    const byDigest = (digest: string | null) => inUse.find((item) => item.digest === digest);
    expect(byDigest(digestA)).toMatchObject({ repository: `${registry.host}/app`, containers: 3 });
    expect(
      byDigest(digestA)!
        .hosts.map((h) => [h.hostName, h.containers])
        .sort(),
    ).toEqual([
      ["pin-docker", 2],
      ["pin-podman", 1],
    ]);
    expect(byDigest(digestB)).toMatchObject({
      repository: `${registry.host}/app`,
      containers: 1,
      hosts: [{ hostId: hostIds.get("podman"), hostName: "pin-podman", containers: 1 }],
    });
    // Most used first.
    expect(inUse.indexOf(byDigest(digestA)!)).toBeLessThan(inUse.indexOf(byDigest(digestB)!));
    const onDocker = (await client.image.digestsInUse.query({ hostId: hostIds.get("docker")! })).items;
    expect(onDocker.map((item) => [item.digest, item.containers])).toEqual([[digestA, 2]]);
    await client.container.remove.mutate({ id: single.container.id });

    // Podman's host is lost: its replicas come back on dockerd, where `app:1` now means B.
    const lostHostId = hostIds.get("podman")!;
    const lostIds = scaled.filter((r) => r.hostId === lostHostId).map((r) => r.id);
    expect(lostIds.length).toBeGreaterThan(0);
    await stopAgent("podman");
    const moved = await eventually(
      "the lost host's replicas to run elsewhere",
      async () => (await client.deployment.get.query({ id: created.deployment.id })).replicas,
      (replicas) =>
        replicas.length === 3 &&
        replicas.every(
          (r) => r.hostId === hostIds.get("docker") && r.actualState === "running" && r.engineId !== null,
        ),
      { timeoutMs: 120_000, intervalMs: 500 },
    ).catch((error) => {
      throw new Error(`${error.message}\nagent output:\n${output.slice(-4000)}`);
    });
    const replacements = moved.filter((r) => !scaled.some((before) => before.id === r.id));
    expect(replacements.length).toBe(lostIds.length);
    for (const replica of moved) {
      expect(replica.image).toBe(pinned);
      await expectRunsA(replica);
    }

    // A tag no registry can serve changes nothing.
    await expect(
      client.deployment.update.mutate({ id: created.deployment.id, image: `${registry.host}/app:missing` }),
    ).rejects.toThrow(/was not changed: image .*app:missing could not be resolved/);
    expect((await client.deployment.get.query({ id: created.deployment.id })).deployment.image).toBe(pinned);

    // The update resolves the moved tag once, as a new revision; its rollout replaces every
    // replica by one running B.
    const updated = await client.deployment.update.mutate({ id: created.deployment.id, image: reference });
    const pinnedB = `${reference}@${digestB}`;
    expect(updated.deployment).toMatchObject({ image: pinnedB, imageDigest: digestB });
    const onB = await eventually(
      "every replica to run B",
      async () => (await client.deployment.get.query({ id: created.deployment.id })).replicas,
      (replicas) =>
        replicas.length === 3 &&
        replicas.every(
          (r) =>
            r.image === pinnedB &&
            r.imageDigest === digestB &&
            r.actualState === "running" &&
            r.engineId !== null &&
            !moved.some((before) => before.engineId === r.engineId),
        ),
      { timeoutMs: 120_000, intervalMs: 500 },
    ).catch((error) => {
      throw new Error(`${error.message}\nagent output:\n${output.slice(-4000)}`);
    });
    for (const replica of onB) {
      const view = await engineView(replica);
      expect(view.imageId.replace(/^sha256:/, ""), `${view.kind}'s image id`).toBe(
        imageB.replace(/^sha256:/, ""),
      );
      expect(view.repoDigests ?? []).toContain(`${registry.host}/app@${digestB}`);
    }
    const afterUpdate = (await client.image.digestsInUse.query({})).items;
    expect(afterUpdate.find((item) => item.digest === digestA)).toBeUndefined();
    expect(afterUpdate.find((item) => item.digest === digestB)).toMatchObject({
      containers: 3,
      hosts: [{ hostId: hostIds.get("docker"), hostName: "pin-docker", containers: 3 }],
    });
  });

  it("keeps the tag of an image no registry has (built on the host), unpinned, and still runs it", async () => {
    if (!agents.has("docker")) await startAgent("docker");
    const created = await client.deployment.create.mutate({
      name: "local-only",
      image: TEST_IMAGE_TAG,
      command: COMMAND,
      replicas: 1,
      memory: "32m",
    });
    expect(created.deployment).toMatchObject({ image: TEST_IMAGE_TAG, imageDigest: null });
    const [replica] = await eventually(
      "the unpinned replica to run",
      async () => (await client.deployment.get.query({ id: created.deployment.id })).replicas,
      (replicas) => replicas.length === 1 && replicas[0]!.actualState === "running",
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(replica).toMatchObject({ image: TEST_IMAGE_TAG, imageDigest: null });
    const view = await engineView(replica!);
    expect(view.imageId).toBe(await buildTestImage(engines[view.kind]()));
    // Said as information, with no failed pull from a registry that never had it.
    const events = (await client.event.list.query({ limit: 200 })).items;
    const notPinned = events.filter((event) => event.kind === "image.not-pinned");
    expect(notPinned).toHaveLength(1);
    expect(notPinned[0]).toMatchObject({ severity: "info" });
    expect(notPinned[0]!.message).toMatch(
      new RegExp(
        `^not pinned: ${TEST_IMAGE_TAG.replace(/[./]/g, "\\$&")} is local to host pin-(docker|podman) `,
      ),
    );
    const failedPulls = events.filter(
      (event) => event.kind === "image.pull-failed" && event.message.includes(TEST_IMAGE_TAG),
    );
    expect(failedPulls).toEqual([]);
  });
});
