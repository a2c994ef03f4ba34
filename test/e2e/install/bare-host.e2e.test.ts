// Install on a bare host, end to end: the exact line joinToken.create returns
// (what Settings → Add host shows), pasted on a host that has curl, an engine
// and nothing of Fleet: no node, no checkout (harness/bare-host.ts). First
// with the agent executable tampered with on the central: refused, nothing
// installed, the token still unused. Then as built: the host joins and runs a
// container. Again: a no-op upgrade; after a new build: the agent replaced and
// restarted. Then --uninstall: nothing of the agent
// is left and its container keeps running; --uninstall --remove-containers
// removes that container too. Last, the used line again: the agent is refused
// and the script takes back all it did. Steps run in order on one host.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppRouter } from "@fleet/web/server/routers/_app";
import { createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { createTestClient, startTestServer, type TestServer } from "@fleet/web/server/testing/test-server";
import type { TRPCClient } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureAgentBinary } from "../../harness/built-binaries";
import { startDockerd, type TestEngine } from "../../harness/engines";
import { eventually } from "../../harness/eventually";
import { createNetns, pickFreeSubnet, type TestNetns } from "../../harness/netns";
import { findFreePort } from "../../harness/ports";
import { createTestDatabase, type TestDatabase } from "../../harness/postgres";
import { buildTestImage, TEST_IMAGE_TAG } from "../../harness/test-image";
import { type BareHost, type BareHostRun, startBareHost } from "../harness/bare-host";
import { teardownInOrder } from "../harness/teardown";

const AGENT = "fleet-agent-linux-x64";
const INSTALLED = [
  "/usr/local/bin/fleet-agent",
  "/etc/fleet",
  "/var/lib/fleet-agent",
  "/run/fleet-agent.pid",
  "/var/log/fleet-agent.log",
];

describe("install on a bare host", () => {
  let netns: TestNetns | undefined;
  let engine: TestEngine | undefined;
  let database: TestDatabase | undefined;
  let central: TestServer | undefined;
  let host: BareHost | undefined;
  let downloads = "";
  let agentBinary = "";
  let admin: TRPCClient<AppRouter>;
  let command = "";
  let tokenId = "";
  let containerId = "";
  const timings: Record<string, number> = {};
  let failed = false;

  const say = (line: string) => process.stderr.write(`bare host e2e: ${line}\n`);
  const step = async (name: string, body: () => Promise<void>) => {
    if (failed) return;
    say(`${name}…`);
    const started = performance.now();
    try {
      await body();
    } catch (error) {
      failed = true;
      say(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    } finally {
      timings[name] = Math.round(performance.now() - started);
      say(`${name}: ${timings[name]} ms`);
    }
  };

  /** What a person at the host sees, for a failure message. */
  const shown = (run: BareHostRun) =>
    `exit ${run.code} after ${run.ms} ms\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

  const whatIsLeft = async (): Promise<string> =>
    (
      await (host as BareHost).run(
        `for p in ${INSTALLED.join(" ")}; do [ ! -e "$p" ] || echo "$p"; done; ls -A /usr/local/bin`,
      )
    ).stdout.trim();

  beforeAll(async () => {
    const started = performance.now();
    agentBinary = await ensureAgentBinary();
    timings["agent executable current"] = Math.round(performance.now() - started);
    say("the agent executable is current");
    downloads = await mkdtemp(join(tmpdir(), "fleet-e2e-downloads-"));
    await writeFile(join(downloads, `${AGENT}.sha256`), await readFile(`${agentBinary}.sha256`));

    const { address } = pickFreeSubnet();
    netns = await createNetns(`fe2e-bare-${downloads.slice(-6).toLowerCase()}`, `${address}/24`);
    const engineStarted = startDockerd({
      name: `bare-${downloads.slice(-6).toLowerCase()}`,
      netns: netns.name,
    }).then(async (started) => {
      engine = started;
      await buildTestImage(started);
    });
    database = await createTestDatabase();
    const port = await findFreePort();
    central = await startTestServer({
      databaseUrl: database.url,
      env: {
        HOST: netns.hostAddress,
        PORT: String(port),
        FLEET_AGENT_PORT: String(await findFreePort()),
        FLEET_PUBLIC_URL: `http://${netns.hostAddress}:${port}`,
        FLEET_DOWNLOADS_DIR: downloads,
        FLEET_HEARTBEAT_INTERVAL: "1s",
        FLEET_METRICS_INTERVAL: "1s",
      },
    });
    say("central up");
    await engineStarted;
    say("engine up");
    host = await startBareHost({ netns, engineSocket: (engine as TestEngine).socketPath });
    const { token } = await createTestUserWithToken({ db: central.db, role: "admin" });
    admin = createTestClient(central.url, { bearer: token });
    timings.setup = Math.round(performance.now() - started);
    say(`set up in ${timings.setup} ms`);
  });

  afterAll(async () => {
    await teardownInOrder("bare host", [
      () => host?.stop(),
      () => central?.close(),
      () => engine?.stop(),
      () => netns?.stop(),
      () => database?.drop(),
      () => rm(downloads, { recursive: true, force: true }),
    ]);
    process.stderr.write(`bare host e2e timings (ms): ${JSON.stringify(timings)}\n`);
  });

  test("the host is bare: no node on PATH, no checkout, no agent, an engine socket", async () => {
    await step("check the bare host", async () => {
      const bare = await (host as BareHost).run(
        "command -v node || echo no-node; [ -e /work ] || echo no-checkout; [ -S /var/run/docker.sock ] && echo engine; [ -d /run/systemd/system ] || echo no-systemd",
      );
      expect(bare.stdout.split("\n").filter(Boolean)).toEqual([
        "no-node",
        "no-checkout",
        "engine",
        "no-systemd",
      ]);
      expect(await whatIsLeft()).toBe("");
    });
  });

  test("Add host's command, with a tampered agent executable on the central: refused, nothing installed", async () => {
    await step("tampered install refused", async () => {
      const created = await admin.joinToken.create.mutate({ ttl: "15m", labels: { zone: "bare" } });
      command = created.command;
      tokenId = created.id;
      const { publicUrl, pin } = (central as TestServer).fleet.agentEndpoint;
      expect(command).toBe(
        `curl -fsSLk --pinnedpubkey '${pin}' ${publicUrl}/install.sh | sudo sh -s -- --join-token ${created.token} --server-pin '${pin}' --label zone=bare`,
      );
      // Changed after the build: the checksum the build wrote no longer fits.
      await writeFile(join(downloads, AGENT), "#!/bin/sh\necho 'not the agent'\n", { mode: 0o755 });
      const run = await (host as BareHost).run(command);
      expect(run.code, shown(run)).not.toBe(0);
      expect(run.stderr).toMatch(
        /the downloaded agent's sha256 is [0-9a-f]{64}, but the central announced [0-9a-f]{64}: refusing it/,
      );
      expect(await whatIsLeft()).toBe("");
      expect((host as BareHost).processes()).toEqual([]);
      const row = await (central as TestServer).db.joinToken.findUniqueOrThrow({ where: { id: tokenId } });
      expect(row.usedAt).toBeNull();
    });
  });

  test("the same command with the agent as built: the host joins and runs a container", async () => {
    await step("install and join", async () => {
      await unlink(join(downloads, AGENT));
      await symlink(agentBinary, join(downloads, AGENT));
      const run = await (host as BareHost).run(command);
      expect(run.code, shown(run)).toBe(0);
      expect(run.stderr).toMatch(/the agent runs in the background \(no systemd here\): pid \d+/);
      const files = await (host as BareHost).run(
        "stat -c '%a %n' /usr/local/bin/fleet-agent /etc/fleet/agent.env; grep -c '^FLEET_SERVER_PIN=sha256//' /etc/fleet/agent.env",
      );
      expect(files.stdout).toBe("755 /usr/local/bin/fleet-agent\n600 /etc/fleet/agent.env\n1\n");
    });
    await step("host online", async () => {
      const online = await eventually(
        "the bare host online",
        async () => (await admin.host.list.query({})).items,
        (items) => items.some((h) => h.status === "online" && h.labels.zone === "bare"),
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(online).toHaveLength(1);
      const row = await (central as TestServer).db.joinToken.findUniqueOrThrow({ where: { id: tokenId } });
      expect(row.usedAt).not.toBeNull();
    });
    await step("container running", async () => {
      const { container } = await admin.container.run.mutate({
        name: "on-bare-host",
        image: TEST_IMAGE_TAG,
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
        memory: "16m",
      });
      containerId = container.id;
      await eventually(
        "the container running on the bare host",
        () => admin.container.get.query({ id: containerId }),
        ({ container: c }) => c.actualState === "running",
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    });
  });

  test("run again: a no-op upgrade", async () => {
    await step("no-op upgrade", async () => {
      const pidBefore = (await (host as BareHost).run("cat /run/fleet-agent.pid")).stdout;
      const run = await (host as BareHost).run(command);
      expect(run.code, shown(run)).toBe(0);
      expect(run.stderr).toContain("/usr/local/bin/fleet-agent is already this version");
      expect(run.stderr).toMatch(/fleet-agent is up to date and running \(pid \d+\); nothing to do/);
      expect((await (host as BareHost).run("cat /run/fleet-agent.pid")).stdout).toBe(pidBefore);
      expect(await whatIsLeft()).toBe(INSTALLED.join("\n").concat("\nfleet-agent"));
    });
  });

  test("run again after a new build: the agent is replaced and restarted, and the host comes back", async () => {
    await step("upgrade", async () => {
      // Another build: the same program with one byte more (ELF ignores what follows its sections).
      const newer = Buffer.concat([await readFile(agentBinary), Buffer.from("\n")]);
      const sha = createHash("sha256").update(newer).digest("hex");
      await unlink(join(downloads, AGENT));
      await writeFile(join(downloads, AGENT), newer, { mode: 0o755 });
      await writeFile(join(downloads, `${AGENT}.sha256`), `${sha}  ${AGENT}\n`);
      const pidBefore = (await (host as BareHost).run("cat /run/fleet-agent.pid")).stdout;
      const connectedBefore = (await admin.host.list.query({})).items[0]?.connectedAt?.getTime() ?? 0;
      const run = await (host as BareHost).run(command);
      expect(run.code, shown(run)).toBe(0);
      expect(run.stderr).toContain(`installed /usr/local/bin/fleet-agent (sha256 ${sha})`);
      expect(run.stderr).toMatch(/stopping the agent \(pid \d+\); its containers keep running/);
      const installed = await (host as BareHost).run(
        "sha256sum /usr/local/bin/fleet-agent; cat /run/fleet-agent.pid",
      );
      expect(installed.stdout.split("\n")[0]).toBe(`${sha}  /usr/local/bin/fleet-agent`);
      expect(installed.stdout.split("\n")[1]).not.toBe(pidBefore.trim());
      await eventually(
        "the host connected again after the upgrade",
        async () => (await admin.host.list.query({})).items[0],
        (h) => h?.status === "online" && (h.connectedAt?.getTime() ?? 0) > connectedBefore,
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      const { container } = await admin.container.get.query({ id: containerId });
      expect(container.actualState).toBe("running");
    });
  });

  test("--uninstall: nothing of the agent is left; --remove-containers also removes its containers", async () => {
    await step("uninstall", async () => {
      const uninstall = command.replace(/ \| sudo sh -s -- .*$/, " | sudo sh -s -- --uninstall");
      const run = await (host as BareHost).run(uninstall);
      expect(run.code, shown(run)).toBe(0);
      expect(await whatIsLeft()).toBe("");
      expect((host as BareHost).processes()).toEqual([]);
      const kept = await (engine as TestEngine).docker.listContainers({
        filters: { label: ["fleet.managed=true"] },
      });
      expect(kept.map((c) => c.State)).toEqual(["running"]);

      const again = await (host as BareHost).run(`${uninstall} --remove-containers`);
      expect(again.code, shown(again)).toBe(0);
      expect(again.stderr).toContain("removed 1 container(s) labelled fleet.managed=true");
      expect(await (engine as TestEngine).docker.listContainers({ all: true })).toEqual([]);
    });
  });

  test("the used line once more on the clean host: the agent is refused, and the script undoes everything", async () => {
    await step("failed start rolled back", async () => {
      const run = await (host as BareHost).run(command);
      expect(run.code, shown(run)).not.toBe(0);
      expect(run.stderr).toMatch(/the agent exited before it connected/);
      expect(run.stderr).toContain("the central rejected the join token");
      expect(run.stderr).toContain("undoing this run's changes");
      expect(await whatIsLeft()).toBe("");
      expect((host as BareHost).processes()).toEqual([]);
    });
  });
});
