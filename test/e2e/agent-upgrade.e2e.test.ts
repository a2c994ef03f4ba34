// Upgrade, end to end: the built agent (A) runs as a real process on a
// private dockerd against a real central that serves another build (B) of
// the agent over its pinned agent port. host.upgradeAgent makes A download B,
// check its sha256, try it and hand over: the host reports B, the old process
// is gone, the installed file is B, and every container kept its engine
// StartedAt. Then the central serves a broken B (exits at once): the trial
// fails, A's binary stays, the host comes back on the version it ran, the
// roll records host.agent-upgrade-failed, and the containers are untouched.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import {
  createTestClient,
  startTestServer,
  type TestServer,
  trpcErrorCode,
} from "@fleet/web/server/testing/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgentVariant, ensureAgentBinary, ensureCliBinary } from "../harness/built-binaries";
import { useDockerd } from "../harness/engines";
import { eventually } from "../harness/eventually";
import { useTestDatabase } from "../harness/postgres";
import { buildTestImage, TEST_IMAGE_TAG } from "../harness/test-image";

const REPO_ROOT = join(import.meta.dirname, "../..");
const B_VERSION = "0.1.0-upgrade-test";

function currentCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** Pids whose executable is `path` (after a rename, /proc names the new path). */
function pidsRunning(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) === path) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

function versionOf(executable: string): string {
  return execFileSync(executable, ["--version"], { encoding: "utf8", env: {} as NodeJS.ProcessEnv }).trim();
}

describe("agent upgrade from the central", () => {
  const database = useTestDatabase();
  const engine = useDockerd({ name: "upgrade" });
  let dir: string;
  let downloads: string;
  let installed: string;
  let server: TestServer;
  let admin: ReturnType<typeof createTestClient>;
  let adminToken: string;
  let cli: string;
  let operator: ReturnType<typeof createTestClient>;
  let agentA: ChildProcess;
  let output = "";
  const commit = currentCommit();
  const buildA = `0.1.0+${commit}`;
  const buildB = `${B_VERSION}+${commit}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fleet-upgrade-e2e-"));
    downloads = join(dir, "downloads");
    mkdirSync(join(dir, "host"));
    installed = join(dir, "host", "fleet-agent");
    copyFileSync(await ensureAgentBinary(), installed);
    await buildAgentVariant({ version: B_VERSION, dir: downloads });
    await buildTestImage(engine());
    server = await startTestServer({
      databaseUrl: database().url,
      env: { FLEET_DOWNLOADS_DIR: downloads, FLEET_HEARTBEAT_INTERVAL: "1s", FLEET_METRICS_INTERVAL: "5s" },
    });
    adminToken = (await createTestUserWithToken({ db: server.db, role: "admin" })).token;
    admin = createTestClient(server.url, { bearer: adminToken });
    cli = await ensureCliBinary();
    operator = createTestClient(server.url, {
      bearer: (await createTestUserWithToken({ db: server.db, role: "operator" })).token,
    });
  }, 300_000);

  afterAll(async () => {
    for (const pid of pidsRunning(installed)) process.kill(pid, "SIGKILL");
    if (agentA && agentA.exitCode === null) agentA.kill("SIGKILL");
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hostRow = async () =>
    (await server.db.host.findFirst({ select: { id: true, agentVersion: true } })) ?? {
      id: "",
      agentVersion: null,
    };
  const startedAtOf = async (engineIds: string[]) =>
    Promise.all(
      engineIds.map(async (id) => (await engine().docker.getContainer(id).inspect()).State.StartedAt),
    );
  const eventKinds = async (hostId: string) =>
    (
      await server.db.event.findMany({
        where: { hostId, kind: { startsWith: "host.agent-upgrad" } },
        orderBy: { ts: "asc" },
      })
    ).map((e) => e.kind);

  it("upgrades A to B with the containers running on, then rolls a broken B back to B", async () => {
    const e = engine();
    const created = await admin.joinToken.create.mutate({ ttl: "10m" });
    const pin = /--server-pin '([^']+)'/.exec(created.command)?.[1];
    expect(pin).toBeTruthy();
    const serverUrl = server.fleet.agentUrl;
    agentA = spawn(
      installed,
      [
        ...["--server", serverUrl, "--server-pin", pin!, "--join-token", created.token],
        ...["--engine", e.dockerHost, "--cgroup-parent", e.cgroupParent],
        ...["--state-dir", join(dir, "state"), "--name", "upgrade-host"],
      ],
      {
        // No INVOCATION_ID: the background mode, where the new binary simply goes on.
        env: { FLEET_AGENT_UPGRADE_DEADLINE_MS: "20000" } as Record<string, string> as NodeJS.ProcessEnv,
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-40_000);
    };
    agentA.stdout?.on("data", keep);
    agentA.stderr?.on("data", keep);
    const withOutput = (error: Error) => {
      throw new Error(`${error.message}\nagent output:\n${output.slice(-8000)}`);
    };

    const host = await eventually("the host to join", hostRow, (h) => h.agentVersion === buildA, {
      timeoutMs: 30_000,
    }).catch(withOutput);
    expect(await admin.host.agentBuild.query()).toEqual({ served: buildB, rolling: false, roll: null });

    const ids: string[] = [];
    for (const name of ["one", "two"]) {
      const { container } = await admin.container.run.mutate({
        name,
        image: TEST_IMAGE_TAG,
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
        memory: "32m",
        cpus: "0.1",
      });
      ids.push(container.id);
    }
    const engineIds = await Promise.all(
      ids.map(
        async (id) =>
          (
            await eventually(
              "the container to run",
              async () => (await admin.container.get.query({ id })).container,
              (c) => c.actualState === "running",
              { timeoutMs: 60_000 },
            )
          ).engineId!,
      ),
    );
    const startedAt = await startedAtOf(engineIds);

    // Who may: an operator runs containers, not new agent code on every host.
    expect(trpcErrorCode(await operator.host.upgradeAgent.mutate({ hostId: host.id }).catch((x) => x))).toBe(
      "FORBIDDEN",
    );

    const started = await admin.host.upgradeAgent.mutate({ hostId: host.id });
    expect(started).toEqual({ build: buildB, hosts: [{ id: host.id, name: "upgrade-host" }] });
    await eventually("the host to report B", hostRow, (h) => h.agentVersion === buildB, {
      timeoutMs: 60_000,
    }).catch(withOutput);
    await eventually(
      "the roll to end",
      async () => eventKinds(host.id),
      (k) => k.includes("host.agent-upgraded"),
      {
        timeoutMs: 20_000,
      },
    );
    await eventually(
      "A to exit",
      async () => agentA.exitCode,
      (code) => code !== null,
      { timeoutMs: 20_000 },
    );
    expect(agentA.exitCode).toBe(0);
    const runningB = pidsRunning(installed);
    expect(runningB).toHaveLength(1);
    expect(runningB[0]).not.toBe(agentA.pid);
    expect(versionOf(installed)).toContain(`fleet-agent ${B_VERSION} (commit ${commit}`);
    expect(existsSync(`${installed}.new`)).toBe(false);
    expect(await startedAtOf(engineIds)).toEqual(startedAt);
    const afterRoll = await eventually(
      "the roll to finish",
      () => admin.host.agentBuild.query(),
      (b) => !b.rolling,
    );
    expect(afterRoll).toMatchObject({
      served: buildB,
      rolling: false,
      roll: {
        build: buildB,
        finished: true,
        hosts: [{ name: "upgrade-host", state: "upgraded", message: null }],
      },
    });
    // Nothing outdated: the roll has nothing to do.
    expect(await admin.host.upgradeAgent.mutate({ outdated: true })).toEqual({ build: buildB, hosts: [] });

    // A broken build: the central serves it with its true sha256 and a manifest.
    const broken = Buffer.from("#!/bin/sh\nexit 1\n");
    const sha = createHash("sha256").update(broken).digest("hex");
    writeFileSync(join(downloads, "fleet-agent-linux-x64"), broken, { mode: 0o755 });
    writeFileSync(join(downloads, "fleet-agent-linux-x64.sha256"), `${sha}  fleet-agent-linux-x64\n`);
    writeFileSync(
      join(downloads, "fleet-agent-linux-x64.json"),
      JSON.stringify({ version: "9.9.9-broken", commit, sha256: sha }),
    );
    const brokenBuild = `9.9.9-broken+${commit}`;
    const cliEnv = { FLEET_URL: server.url, FLEET_TOKEN: adminToken, XDG_CONFIG_HOME: dir } as Record<
      string,
      string
    > as NodeJS.ProcessEnv;
    // Through the CLI, which waits for the roll (asynchronously: the central runs in this process).
    const fleet = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        cli,
        ["host", "upgrade", "--all"],
        {
          env: cliEnv,
          timeout: 90_000,
        },
        (error: Error | null, stdout: string, stderr: string) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      );
    });
    expect(fleet).toMatchObject({ code: 1, stderr: "" });
    expect(fleet.stdout).toContain(`upgrading upgrade-host to ${brokenBuild}\n`);
    expect(fleet.stdout).toMatch(/upgrade-host: failed: .*exited \(code 1\) before it connected/);
    const kinds = await eventually(
      "the upgrade to fail",
      async () => eventKinds(host.id),
      (k) => k.includes("host.agent-upgrade-failed"),
      { timeoutMs: 60_000 },
    ).catch(withOutput);
    expect(kinds).toEqual([
      "host.agent-upgrading",
      "host.agent-upgraded",
      "host.agent-upgrading",
      "host.agent-upgrade-failed",
    ]);
    const failed = await server.db.event.findFirstOrThrow({ where: { kind: "host.agent-upgrade-failed" } });
    expect(failed.message).toMatch(/9\.9\.9-broken.*exited \(code 1\) before it connected/);
    await eventually(
      "the host back on B",
      async () => ({ row: await hostRow(), connected: server.fleet.services.gateway.isConnected(host.id) }),
      (h) => h.row.agentVersion === buildB && h.connected,
      { timeoutMs: 30_000 },
    );
    const failedRoll = await eventually(
      "the roll to finish",
      () => admin.host.agentBuild.query(),
      (b) => !b.rolling,
    );
    expect(failedRoll.roll).toMatchObject({
      build: brokenBuild,
      finished: true,
      hosts: [{ state: "failed" }],
    });
    expect(failedRoll.roll?.hosts[0]?.message).toMatch(/exited \(code 1\) before it connected/);
    expect(pidsRunning(installed)).toEqual(runningB);
    expect(versionOf(installed)).toContain(`fleet-agent ${B_VERSION} (commit ${commit}`);
    expect(existsSync(`${installed}.new`)).toBe(false);
    expect(await startedAtOf(engineIds)).toEqual(startedAt);

    // The file served is not the one announced (changed after the build, or swapped on the way): the
    // agent refuses it before running anything, and stays connected on what it runs.
    writeFileSync(join(downloads, "fleet-agent-linux-x64"), "#!/bin/sh\necho not the build\n", {
      mode: 0o755,
    });
    const before = (await eventKinds(host.id)).length;
    await admin.host.upgradeAgent.mutate({ hostId: host.id });
    const refused = await eventually(
      "the refusal",
      async () => server.db.event.findMany({ where: { hostId: host.id, kind: "host.agent-upgrade-failed" } }),
      (rows) => rows.length === 2,
      { timeoutMs: 30_000 },
    );
    expect((await eventKinds(host.id)).slice(before)).toEqual([
      "host.agent-upgrading",
      "host.agent-upgrade-failed",
    ]);
    expect(refused.at(-1)?.message).toMatch(
      /hashes to [0-9a-f]{64}, not the expected [0-9a-f]{64}: refused, nothing replaced/,
    );
    expect(pidsRunning(installed)).toEqual(runningB);
    expect(server.fleet.services.gateway.isConnected(host.id)).toBe(true);
    expect(readdirSync(join(dir, "host"))).toEqual(["fleet-agent"]);
    expect(await startedAtOf(engineIds)).toEqual(startedAt);
  });
});
