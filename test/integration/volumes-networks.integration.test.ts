// Named volumes, bind mounts and user networks with nothing faked: the real
// central on a real Postgres and two real agents, one on dockerd and one on
// Podman. For each engine in turn its host is "A": a volume created there pulls
// every container mounting it to A (and keeps them off the other host when A
// is full), its data outlives a restart (the agent replaces the container),
// and it cannot be removed while a container mounts it. Bind mounts are
// refused until an administrator allows the host path, and by the agent when a
// symlink leads the allowed path elsewhere. Two containers on one network
// reach each other by name; one on another network cannot resolve it.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { createTestClient, startTestServer, type TestServer } from "@fleet/web/server/testing/test-server";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TEngineKind, type TestEngine, useEngine } from "../harness/engines";
import { eventually } from "../harness/eventually";
import { useTestDatabase } from "../harness/postgres";
import { buildTestImage, TEST_IMAGE_TAG } from "../harness/test-image";

const agentBin = fileURLToPath(new URL("../../apps/agent/bin/fleet-agent.js", import.meta.url));
const KINDS = ["docker", "podman"] as const satisfies readonly TEngineKind[];
const MIB = 1024 * 1024;
/** Keeps running until stopped, after `script`. */
const idleAfter = (script: string) => [
  "sh",
  "-c",
  `${script}; trap 'exit 0' TERM; while true; do sleep 1; done`,
];

const database = useTestDatabase();
let server: TestServer;
let client: ReturnType<typeof createTestClient>;

beforeAll(async () => {
  server = await startTestServer({ databaseUrl: database().url, env: { FLEET_HEARTBEAT_INTERVAL: "1s" } });
  const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
  client = createTestClient(server.url, { bearer: admin.token });
});

afterAll(async () => {
  await server?.close();
});

function errorOf(promise: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => {
      if (!(error instanceof TRPCClientError)) throw error;
      return { code: (error.data as { code?: string } | undefined)?.code, message: error.message };
    },
  );
}

describe("volumes, bind mounts and networks on dockerd and Podman", () => {
  const engines = Object.fromEntries(KINDS.map((kind) => [kind, useEngine(kind)])) as Record<
    TEngineKind,
    () => TestEngine
  >;
  const agents: ChildProcess[] = [];
  const hosts = new Map<TEngineKind, { id: string; name: string }>();
  const tempDirs: string[] = [];
  let output = "";

  const withAgentOutput = (error: Error) =>
    new Error(`${error.message}\nagent output:\n${output.slice(-4000)}`);

  beforeAll(async () => {
    await Promise.all(
      KINDS.map(async (kind) => {
        const engine = engines[kind]();
        await buildTestImage(engine);
        // Made behind the central's back: the agent's first connection brings it in.
        await engine.docker.createVolume({ Name: `preexisting-${kind}` });
        const { token } = await client.joinToken.create.mutate({ ttl: "10m" });
        const stateDir = await mkdtemp(join(tmpdir(), `fleet-vol-${kind}-`));
        tempDirs.push(stateDir);
        const agent = spawn(
          process.execPath,
          [
            agentBin,
            ...["--server", server.url, "--join-token", token, "--engine", engine.dockerHost],
            ...["--cgroup-parent", engine.cgroupParent, "--state-dir", stateDir, "--name", `vol-${kind}`],
            ...["--label", `engine=${kind}`],
          ],
          { stdio: ["ignore", "pipe", "pipe"], cwd: tmpdir() },
        );
        for (const stream of [agent.stdout, agent.stderr]) {
          stream?.on("data", (chunk) => {
            output += chunk;
          });
        }
        agents.push(agent);
        const host = await eventually(
          `host vol-${kind} to come online`,
          async () => (await client.host.list.query({})).items.find((h) => h.name === `vol-${kind}`),
          (h) => h?.status === "online",
          { timeoutMs: 30_000, intervalMs: 250 },
        ).catch((error: Error) => {
          throw withAgentOutput(error);
        });
        hosts.set(kind, { id: host!.id, name: host!.name });
      }),
    );
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) {
      if (agent.exitCode !== null) continue;
      agent.kill("SIGTERM");
      await once(agent, "exit");
    }
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  const hostOf = (kind: TEngineKind) => hosts.get(kind)!;

  it("reads each host's volumes when it connects and stores the address it connected from", async () => {
    for (const kind of KINDS) {
      const host = hostOf(kind);
      const found = await eventually(
        `the volume made before vol-${kind} connected`,
        () => client.volume.list.query({ hostId: host.id, name: "preexisting" }),
        (page) => page.items.length === 1,
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(found.items[0]).toMatchObject({ name: `preexisting-${kind}`, hostName: host.name, usedBy: [] });
      expect(found.items[0]?.seenAt).not.toBeNull();
      const row = await server.db.host.findUniqueOrThrow({
        where: { id: host.id },
        select: { address: true },
      });
      expect(row.address).toBe("127.0.0.1");
    }
  });
  const otherKind = (kind: TEngineKind): TEngineKind => (kind === "docker" ? "podman" : "docker");

  async function running(id: string, what: string, after?: (c: { engineId: string | null }) => boolean) {
    return eventually(
      what,
      async () => (await client.container.get.query({ id })).container,
      (c) => c.actualState === "running" && c.engineId !== null && (after?.(c) ?? true),
      { timeoutMs: 60_000, intervalMs: 300 },
    ).catch((error: Error) => {
      throw withAgentOutput(error);
    });
  }

  /** The container's output, or why there is none yet (its engine container may not exist yet). */
  async function logsOf(id: string): Promise<string> {
    try {
      const { lines } = await client.container.logs.query({ id, tail: 100 });
      return lines.map((line) => line.line).join("\n");
    } catch (error) {
      return `(no logs: ${error instanceof Error ? error.message : String(error)})`;
    }
  }

  async function logsShow(id: string, what: string, pattern: RegExp): Promise<string> {
    return eventually(
      what,
      () => logsOf(id),
      (text) => pattern.test(text),
      {
        timeoutMs: 30_000,
        intervalMs: 300,
      },
    ).catch((error: Error) => {
      throw withAgentOutput(error);
    });
  }

  /** Removes containers and waits until their engines no longer hold them. */
  async function removeAll(ids: string[]) {
    for (const id of ids) await client.container.remove.mutate({ id });
  }

  describe.each(KINDS)("named volumes with %s as host A", (kind) => {
    it("pulls containers to the volume's host, keeps the data across a restart, refuses removal while used", async () => {
      const a = hostOf(kind);
      const b = hostOf(otherKind(kind));
      const volumeName = `data-${kind}`;
      const { volume } = await client.volume.create.mutate({ hostId: a.id, name: volumeName });
      expect(volume).toMatchObject({ hostId: a.id, hostName: a.name, name: volumeName, usedBy: [] });
      expect(volume.seenAt).not.toBeNull();
      // The engine has it: a refresh of host A lists it.
      const refreshed = await client.volume.refresh.mutate({ hostId: a.id });
      expect(refreshed.hosts).toEqual([
        { hostId: a.id, hostName: a.name, ok: true, error: null, count: expect.any(Number) },
      ]);
      const listed = await client.volume.list.query({ name: volumeName.toUpperCase() });
      expect(listed.items.map((v) => [v.hostName, v.name])).toEqual([[a.name, volumeName]]);
      expect(await errorOf(client.volume.create.mutate({ hostId: a.id, name: volumeName }))).toMatchObject({
        code: "CONFLICT",
      });

      // spread would pick the emptier host; the volume decides instead.
      const writer = await client.container.run.mutate({
        name: `writer-${kind}`,
        image: TEST_IMAGE_TAG,
        command: idleAfter(`echo written-$RANDOM$RANDOM >> /data/file; cat /data/file`),
        memory: "32m",
        strategy: "spread",
        volumes: [`${volumeName}:/data`],
      });
      expect(writer.placement.hostId).toBe(a.id);
      expect(writer.placement.reason).toContain(`volume "${volumeName}" is on this host`);
      expect(writer.placement.rejected).toEqual(
        expect.arrayContaining([
          { hostId: b.id, hostName: b.name, reasons: [`volume "${volumeName}" is on ${a.name}`] },
        ]),
      );
      expect(writer.container.mounts).toEqual([
        { type: "volume", source: volumeName, target: "/data", readOnly: false },
      ]);
      const first = await running(writer.container.id, "the writer to run");
      const firstLines = (await logsShow(writer.container.id, "the first write", /written-/)).match(
        /written-\d+/g,
      );
      expect(firstLines).toHaveLength(1);

      // A restart replaces the engine container; the volume keeps what the first one wrote.
      await client.container.restart.mutate({ id: writer.container.id });
      await running(writer.container.id, "the replaced writer to run", (c) => c.engineId !== first.engineId);
      const both = await logsShow(writer.container.id, "both writes", /written-\d+\s+written-\d+/);
      expect(both.match(/written-\d+/g)?.[0]).toBe(firstLines?.[0]);

      // Host A full: the next container mounting the volume fits nowhere, and says why.
      const row = await server.db.host.findUniqueOrThrow({
        where: { id: a.id },
        select: { memoryAllocatableBytes: true, memoryAllocatedBytes: true },
      });
      const free = Number(row.memoryAllocatableBytes - row.memoryAllocatedBytes);
      const filler = await client.container.run.mutate({
        name: `filler-${kind}`,
        image: TEST_IMAGE_TAG,
        command: idleAfter("true"),
        memoryRequest: `${Math.floor(free / MIB)}m`,
        constraints: `engine=${kind}`,
      });
      expect(filler.placement.hostId).toBe(a.id);
      const refused = await errorOf(
        client.container.run.mutate({
          name: `reader-${kind}`,
          image: TEST_IMAGE_TAG,
          command: idleAfter("cat /data/file"),
          memory: "32m",
          volumes: [`${volumeName}:/data:ro`],
        }),
      );
      expect(refused.code).toBe("PRECONDITION_FAILED");
      expect(refused.message).toContain(`${b.name}: volume "${volumeName}" is on ${a.name}`);
      expect(refused.message).toContain(`${a.name}: not enough memory`);
      await removeAll([filler.container.id]);

      // In use: refused naming the container; free once it is removed.
      const used = (await client.volume.list.query({ hostId: a.id, name: volumeName })).items[0]!;
      expect(used.usedBy).toEqual([
        { id: writer.container.id, name: `writer-${kind}`, desiredState: "running" },
      ]);
      const conflict = await errorOf(client.volume.remove.mutate({ id: used.id }));
      expect(conflict).toEqual({
        code: "CONFLICT",
        message: `volume ${volumeName} on ${a.name} is used by writer-${kind}: remove those containers first`,
      });
      await removeAll([writer.container.id]);
      // The engine refuses (409) until the agent has removed the container: retried until it has.
      await eventually(
        "the volume to be removed",
        () =>
          client.volume.remove.mutate({ id: used.id }).then(
            () => "removed",
            (error: Error) => error.message,
          ),
        (outcome) => outcome === "removed",
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      const volumes = await engines[kind]().docker.listVolumes();
      expect((volumes.Volumes ?? []).map((v) => v.Name)).not.toContain(volumeName);
      expect((await client.volume.list.query({ hostId: a.id, name: volumeName })).items).toEqual([]);
    }, 150_000);
  });

  it("a volume that exists nowhere is created with the first container, and the next one follows it", async () => {
    const name = "fresh-volume";
    const first = await client.container.run.mutate({
      name: "fresh-1",
      image: TEST_IMAGE_TAG,
      command: idleAfter("true"),
      memory: "16m",
      volumes: [`${name}:/v`],
    });
    expect(first.placement.reason).toContain(`volume "${name}" will be created here`);
    const row = (await client.volume.list.query({ name })).items;
    expect(row.map((v) => [v.hostId, v.seenAt, v.usedBy.map((u) => u.name)])).toEqual([
      [first.placement.hostId, null, ["fresh-1"]],
    ]);
    const second = await client.container.run.mutate({
      name: "fresh-2",
      image: TEST_IMAGE_TAG,
      command: idleAfter("true"),
      memory: "16m",
      strategy: "spread",
      volumes: [`${name}:/v`],
    });
    expect(second.placement.hostId).toBe(first.placement.hostId);
    await running(first.container.id, "the first container mounting a new volume to run");
    // The agent created it; a refresh sees it in the engine.
    await client.volume.refresh.mutate({ hostId: first.placement.hostId });
    const seen = (await client.volume.list.query({ name })).items[0];
    expect(seen?.seenAt).not.toBeNull();
    await removeAll([first.container.id, second.container.id]);
  }, 90_000);

  it("bind mounts: refused outside the allowed host paths, work inside them", async () => {
    const allowed = await mkdtemp(join(tmpdir(), "fleet-bind-"));
    tempDirs.push(allowed);
    await writeFile(join(allowed, "greeting"), "hello from the host\n");
    const bindRun = (source: string) =>
      client.container.run.mutate({
        image: TEST_IMAGE_TAG,
        command: idleAfter("cat /host/greeting"),
        memory: "16m",
        constraints: "engine=docker",
        volumes: [`${source}:/host:ro`],
      });

    expect(await client.settings.get.query()).toEqual({ bindMountPrefixes: [] });
    expect(await errorOf(bindRun(allowed))).toEqual({
      code: "FORBIDDEN",
      message: `bind mount of ${allowed} is not allowed: no host paths are allowed (an administrator sets them in Settings)`,
    });
    const plan = await errorOf(
      client.container.plan.query({ image: TEST_IMAGE_TAG, volumes: [`${allowed}:/host`] }),
    );
    expect(plan.code).toBe("FORBIDDEN");

    expect(await client.settings.update.mutate({ bindMountPrefixes: [`${allowed}/`] })).toEqual({
      bindMountPrefixes: [allowed],
    });
    expect(await errorOf(bindRun("/etc"))).toEqual({
      code: "FORBIDDEN",
      message: `bind mount of /etc is not allowed: allowed host path prefixes are ${allowed} (an administrator sets them in Settings)`,
    });
    // A sibling that merely starts with the same characters is not under the prefix.
    expect((await errorOf(bindRun(`${allowed}x`))).code).toBe("FORBIDDEN");
    expect((await errorOf(client.settings.update.mutate({ bindMountPrefixes: ["/"] }))).code).toBe(
      "BAD_REQUEST",
    );

    const ok = await bindRun(allowed);
    await running(ok.container.id, "the bind-mounting container to run");
    await logsShow(ok.container.id, "the host file read through the bind mount", /hello from the host/);

    // A symlink inside the allowed path passes the central's check of the path as written; the
    // agent resolves it on the host and refuses, and says so in the container's status.
    await symlink("/", join(allowed, "r"));
    const throughLink = await bindRun(join(allowed, "r"));
    const refused = await eventually(
      "the agent to refuse the symlinked bind source",
      async () => (await client.container.get.query({ id: throughLink.container.id })).container,
      (c) => c.actualState === "failed",
      { timeoutMs: 60_000, intervalMs: 300 },
    ).catch((error: Error) => {
      throw withAgentOutput(error);
    });
    expect(refused.engineId).toBeNull();
    expect(refused.statusMessage).toMatch(
      new RegExp(
        `^bind mount of ${allowed}/r refused: it resolves to /, outside the allowed host paths \\(${allowed}\\)`,
      ),
    );
    await removeAll([ok.container.id, throughLink.container.id]);
    await client.settings.update.mutate({ bindMountPrefixes: [] });
  }, 90_000);

  describe.each(KINDS)("user networks on %s", (kind) => {
    it("containers on one network reach each other by name; another network cannot resolve it", async () => {
      const host = hostOf(kind);
      const net1 = `net1-${kind}`;
      const net2 = `net2-${kind}`;
      const { network } = await client.network.create.mutate({ hostId: host.id, name: net1 });
      expect(network).toMatchObject({ hostId: host.id, name: net1, internal: false, usedBy: [] });
      const on = (name: string, networks: string[], script: string) =>
        client.container.run.mutate({
          name,
          image: TEST_IMAGE_TAG,
          command: idleAfter(script),
          memory: "16m",
          constraints: `engine=${kind}`,
          networks,
        });
      const alpha = await on(
        `alpha-${kind}`,
        [net1],
        "mkdir -p /www && echo hello-from-alpha > /www/index.html && httpd -p 8080 -h /www",
      );
      await running(alpha.container.id, "alpha to run");
      // busybox's own resolver (wget's would crash in this static build), then a plain TCP connection by
      // address. The addresses after `Name:` are the answer; the ones before it are the DNS server's.
      const probe = `for i in $(seq 1 30); do ip=$(nslookup alpha-${kind} 2>/dev/null | sed -n '/^Name:/,$p' | grep -oE '([0-9]+\\.){3}[0-9]+' | tail -1); [ -n "$ip" ] && break; sleep 1; done; echo "resolved:[$ip]"; [ -n "$ip" ] && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc $ip 8080`;
      const beta = await on(`beta-${kind}`, [net1], probe);
      const gamma = await on(`gamma-${kind}`, [net2], probe.replace("seq 1 30", "seq 1 3"));
      expect(beta.container.networks).toEqual([net1]);
      await logsShow(beta.container.id, "beta to reach alpha by name", /hello-from-alpha/);
      const gammaLogs = await logsShow(gamma.container.id, "gamma to give up resolving alpha", /resolved:/);
      expect(gammaLogs).toContain("resolved:[]");
      expect(gammaLogs).not.toContain("hello-from-alpha");

      // net2 was created by the agent; a refresh brings it in, the engine's own networks stay out.
      const refreshed = await client.network.refresh.mutate({ hostId: host.id });
      expect(refreshed.hosts[0]?.ok).toBe(true);
      const listed = (await client.network.list.query({ hostId: host.id })).items;
      expect(listed.map((n) => n.name)).toEqual(expect.arrayContaining([net1, net2]));
      expect(listed.map((n) => n.name)).not.toEqual(expect.arrayContaining(["bridge"]));
      expect(listed.map((n) => n.name)).not.toContain("podman");
      const row1 = listed.find((n) => n.name === net1)!;
      expect(row1.usedBy.map((u) => u.name).sort()).toEqual([`alpha-${kind}`, `beta-${kind}`]);
      expect(await errorOf(client.network.remove.mutate({ id: row1.id }))).toEqual({
        code: "CONFLICT",
        message: `network ${net1} on ${host.name} is used by alpha-${kind}, beta-${kind}: remove those containers first`,
      });
      await removeAll([alpha.container.id, beta.container.id, gamma.container.id]);
      await eventually(
        `${net1} to be removed`,
        () =>
          client.network.remove.mutate({ id: row1.id }).then(
            () => "removed",
            (error: Error) => error.message,
          ),
        (outcome) => outcome === "removed",
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      const engineNetworks = await engines[kind]().docker.listNetworks();
      expect(engineNetworks.map((n) => n.Name)).not.toContain(net1);
    }, 120_000);
  });
});
