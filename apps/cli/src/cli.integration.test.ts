// The real `fleet` binary (bin/fleet.js in a child process, as a person runs
// it) against a real central on a real Postgres, with a real agent driving a
// private dockerd and a local registry to pull from: every command, its
// output for people and for scripts, and its exit codes.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { useDockerd } from "@fleet/test/harness/engines";
import { eventually } from "@fleet/test/harness/eventually";
import { findFreePort } from "@fleet/test/harness/ports";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { pushTestImage, startRegistry, type TestRegistry } from "@fleet/test/harness/registry";
import { buildTestImage, TEST_IMAGE_TAG } from "@fleet/test/harness/test-image";
import { createTestUser, createTestUserWithToken } from "@fleet/web/server/testing/factories";
import { createTestClient, startTestServer, type TestServer } from "@fleet/web/server/testing/test-server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const MIB = 1024 * 1024;
const cliBin = fileURLToPath(new URL("../bin/fleet.js", import.meta.url));
const agentBin = fileURLToPath(new URL("../../agent/bin/fleet-agent.js", import.meta.url));

interface TRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

let workDir = "";

/** A config home of its own, so logins in one test do not leak into another. */
async function configHome(name: string): Promise<string> {
  const dir = join(workDir, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

function spawnFleet(args: string[], options: { home: string; env?: Record<string, string> }): ChildProcess {
  return spawn(process.execPath, [cliBin, ...args], {
    cwd: workDir,
    // Nothing of this process's environment (FLEET_* above all) but PATH.
    env: {
      NODE_ENV: "production",
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: options.home,
      XDG_CONFIG_HOME: options.home,
      ...options.env,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

async function fleet(
  args: string[],
  options: { home: string; env?: Record<string, string>; input?: string },
): Promise<TRun> {
  const child = spawnFleet(args, options);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdin?.end(options.input ?? "");
  const [code] = (await once(child, "exit")) as [number | null];
  if (process.env.FLEET_CLI_TEST_ECHO)
    console.log(`$ fleet ${args.join(" ")}\n${stdout}${stderr}[exit ${code}]`);
  return { code, stdout, stderr };
}

const database = useTestDatabase();
const engine = useDockerd();
let server: TestServer;
let registry: TestRegistry;
let admin: { email: string; password: string };
let adminToken = "";
let agent: ChildProcess | null = null;
let agentOutput = "";
let hostName = "";
let home = "";

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "fleet-cli-"));
  server = await startTestServer({
    databaseUrl: database().url,
    env: { FLEET_METRICS_INTERVAL: "1s", FLEET_HEARTBEAT_INTERVAL: "1s" },
  });
  const user = await createTestUser({ db: server.db, role: "admin" });
  admin = { email: user.email, password: user.password };
  adminToken = (await createTestUserWithToken({ db: server.db, role: "admin" })).token;
  registry = await startRegistry();
  const e = engine();
  await buildTestImage(e);
  await pushTestImage(e, registry);

  // The agent joins with a token made through the API, as `fleet join-token` would.
  const client = createTestClient(server.url, { bearer: adminToken });
  const { token } = await client.joinToken.create.mutate({ ttl: "10m" });
  hostName = "cli-host";
  const stateDir = join(workDir, "agent-state");
  agent = spawn(
    process.execPath,
    [
      agentBin,
      ...["--server", server.url, "--join-token", token, "--engine", e.dockerHost],
      ...["--cgroup-parent", e.cgroupParent, "--state-dir", stateDir, "--name", hostName],
    ],
    { stdio: ["ignore", "pipe", "pipe"], cwd: tmpdir() },
  );
  agent.stdout?.on("data", (chunk) => {
    agentOutput += chunk;
  });
  agent.stderr?.on("data", (chunk) => {
    agentOutput += chunk;
  });
  await eventually(
    "the host to come online",
    async () => (await client.host.list.query({})).items.find((h) => h.name === hostName),
    (h) => h?.status === "online",
    { timeoutMs: 60_000, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nagent output:\n${agentOutput.slice(-4000)}`);
  });
  home = await configHome("main");
});

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    agent.kill("SIGTERM");
    await once(agent, "exit");
  }
  await registry?.stop();
  await server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("fleet, before logging in", () => {
  test("a command that needs the central exits 3 and says how to log in", async () => {
    const result = await fleet(["ps"], { home: await configHome("nobody") });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("fleet: not logged in: run `fleet login <url>`");
    expect(result.stdout).toBe("");
  });

  test("an unknown flag exits 2 with the command's usage", async () => {
    const result = await fleet(["ps", "--bogus"], { home });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("fleet: unknown flag: --bogus");
    expect(result.stderr).toContain("Usage:  fleet ps [OPTIONS]");
  });

  test("--help works on every command", async () => {
    const top = await fleet(["--help"], { home });
    expect(top.code).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z-]+) {3,}/gm)].map((match) => match[1]!);
    expect(names).toEqual(
      expect.arrayContaining(["run", "ps", "logs", "pull", "build", "top", "join-token"]),
    );
    for (const name of names) {
      const help = await fleet([name, "--help"], { home });
      expect({ name, code: help.code }).toEqual({ name, code: 0 });
      expect(help.stdout).toContain(`Usage:  fleet ${name}`);
      expect(help.stdout).toMatch(/Examples?:\n {2}fleet /);
    }
  });
});

describe("fleet login", () => {
  test("--token checks the token and stores it readable by the owner only", async () => {
    const refused = await fleet(["login", server.url, "--token", "fleet_api_wrong"], { home });
    expect(refused.code).toBe(3);

    const result = await fleet(["login", server.url, "--token", adminToken], { home });
    expect(result.stderr).toContain(`Logged in to ${server.url}`);
    expect(result.code).toBe(0);
    const file = join(home, "fleet", "config.json");
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ url: server.url, token: adminToken });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  test("email and password piped on stdin make an API token; logout revokes it", async () => {
    const piped = await configHome("piped");
    const wrong = await fleet(["login", server.url], {
      home: piped,
      input: `${admin.email}\nnot-the-password\n`,
    });
    expect(wrong.code).toBe(3);

    const result = await fleet(["login", server.url], {
      home: piped,
      input: `${admin.email}\n${admin.password}\n`,
    });
    expect(result.stderr).toContain(`Logged in to ${server.url} as ${admin.email} (admin)`);
    expect(result.code).toBe(0);
    const config = JSON.parse(await readFile(join(piped, "fleet", "config.json"), "utf8"));
    expect(config.token).toMatch(/^fleet_api_/);
    const tokens = await createTestClient(server.url, { bearer: config.token }).apiToken.list.query({});
    expect(tokens.items.map((token) => token.name)).toContain(
      `fleet-cli@${(await import("node:os")).hostname()}`,
    );

    const hosts = await fleet(["hosts", "-q"], { home: piped });
    expect(hosts.code).toBe(0);

    const logout = await fleet(["logout"], { home: piped });
    expect(logout.code).toBe(0);
    // The token it made no longer works, and without the file the CLI is logged out.
    const withOldToken = await fleet(["hosts"], {
      home: piped,
      env: { FLEET_URL: server.url, FLEET_TOKEN: config.token },
    });
    expect(withOldToken.code).toBe(3);
    expect((await fleet(["hosts"], { home: piped })).code).toBe(3);
  });
});

describe("fleet against a host", () => {
  const greeting = "hello from the cli";
  let containerId = "";

  test("hosts lists the host as a table and as JSON", async () => {
    const table = await fleet(["hosts"], { home });
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^HOST ID\s+NAME\s+STATUS\s+ENGINE\s+CPUS\s+MEMORY\s+CONTAINERS/);
    expect(row).toMatch(new RegExp(`^[0-9a-f]{12}\\s+${hostName}\\s+online\\s+docker `));

    const json = await fleet(["hosts", "--json"], { home });
    const hosts = JSON.parse(json.stdout) as { name: string; status: string }[];
    expect(hosts).toEqual([expect.objectContaining({ name: hostName, status: "online" })]);
  });

  test("run -m 64m waits until the container runs, and the engine holds the limit", async () => {
    const result = await fleet(
      [
        "run",
        ...[
          "-m",
          "64m",
          "--cpus",
          "0.5",
          "--pids",
          "100",
          "--name",
          "cli-web",
          "-e",
          "MODE=test",
          "-l",
          "app=web",
        ],
        TEST_IMAGE_TAG,
        ...[
          "sh",
          "-c",
          `trap 'exit 0' TERM; echo '${greeting}'; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 1; done`,
        ],
      ],
      { home },
    );
    expect(result.stderr).toContain(`cli-web: placed on ${hostName}: `);
    expect(result.stderr).toContain(`cli-web is running on ${hostName}`);
    expect(result.code).toBe(0);
    containerId = result.stdout.trim();
    expect(containerId).toMatch(/^[0-9a-f-]{36}$/);

    const client = createTestClient(server.url, { bearer: adminToken });
    const { container } = await client.container.get.query({ id: containerId });
    expect(container).toMatchObject({ actualState: "running", command: ["sh", "-c", expect.any(String)] });
    const inspected = await engine().docker.getContainer(container.engineId!).inspect();
    expect(inspected.HostConfig.Memory).toBe(64 * MIB);
    expect(inspected.HostConfig.NanoCpus || (inspected.HostConfig.CpuQuota ?? 0) * 10_000).toBe(500_000_000);
    expect(inspected.HostConfig.PidsLimit).toBe(100);
    expect(inspected.Config.Env).toContain("MODE=test");
  });

  test("run --replicas makes a deployment and waits for every replica", async () => {
    const result = await fleet(
      ["run", "--replicas", "2", "--name", "cli-dep", "-m", "16m", TEST_IMAGE_TAG, "sleep", "600"],
      { home },
    );
    expect(result.stderr).toContain("cli-dep: 2/2 replicas running");
    expect(result.code).toBe(0);
    const deploymentId = result.stdout.trim();
    const client = createTestClient(server.url, { bearer: adminToken });
    const { replicas } = await client.deployment.get.query({ id: deploymentId });
    expect(replicas.map((replica) => [replica.name, replica.actualState])).toEqual([
      ["cli-dep-1", "running"],
      ["cli-dep-2", "running"],
    ]);
    await client.deployment.remove.mutate({ id: deploymentId });
  });

  test("run of an image no registry has exits 1 once the host reports the failure", async () => {
    const result = await fleet(["run", "--name", "cli-missing", `${registry.host}/fleet-test/missing:2`], {
      home,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/fleet: cli-missing failed to start on cli-host: /);
    expect((await fleet(["rm", "cli-missing"], { home })).code).toBe(0);
  });

  test("a refused token on a stream exits 3; an unreachable central exits 1", async () => {
    const badToken = await fleet(["logs", "-f", "cli-web"], {
      home,
      env: { FLEET_URL: server.url, FLEET_TOKEN: "fleet_api_nope" },
    });
    expect(badToken.code).toBe(3);
    // pull --all asks nothing before it starts the pull: the refusal is the mutation's.
    const badStream = await fleet(["pull", TEST_IMAGE_TAG, "--all"], {
      home,
      env: { FLEET_URL: server.url, FLEET_TOKEN: "fleet_api_nope" },
    });
    expect(badStream.stderr).toContain("fleet: unknown API token");
    expect(badStream.code).toBe(3);
    // A port nothing listens on.
    const nowhere = `http://127.0.0.1:${await findFreePort()}`;
    const unreachable = await fleet(["ps"], { home, env: { FLEET_URL: nowhere, FLEET_TOKEN: "x" } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`fleet: cannot reach the central at ${nowhere}: ECONNREFUSED`);
  });

  test("a run the scheduler cannot place exits 1 with its reason", async () => {
    const result = await fleet(["run", "-d", "--constraint", "zone=nowhere", TEST_IMAGE_TAG], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fleet: .*zone=nowhere/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test("ps shows it as a table, as JSON and as ids", async () => {
    const table = await fleet(["ps"], { home });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^CONTAINER ID\s+IMAGE\s+DIGEST\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+HOST\s+NAMES$/,
    );
    const row = lines.find((line) => line.endsWith("cli-web"));
    expect(row).toBeDefined();
    expect(row).toContain(containerId.replaceAll("-", "").slice(-12));
    expect(row).toMatch(/Up (Less than a second|\d+ seconds?|About a minute)/);
    expect(row).toContain(hostName);

    const json = await fleet(["ps", "--json", "--host", hostName], { home });
    const containers = JSON.parse(json.stdout) as {
      id: string;
      name: string;
      resources: { memoryLimitBytes: number };
    }[];
    expect(containers.find((c) => c.id === containerId)).toMatchObject({
      name: "cli-web",
      resources: { memoryLimitBytes: 64 * MIB },
    });

    const quiet = await fleet(["ps", "-q"], { home });
    expect(quiet.stdout.trim().split("\n")).toContain(containerId);
  });

  test("logs prints the container's output, by name or short id", async () => {
    const byName = await eventually(
      "the greeting in the logs",
      () => fleet(["logs", "cli-web"], { home }),
      (result) => result.stdout.includes(greeting),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(byName.code).toBe(0);
    const byShortId = await fleet(["logs", "--tail", "all", containerId.replaceAll("-", "").slice(-12)], {
      home,
    });
    expect(byShortId.code).toBe(0);
    expect(byShortId.stdout.split("\n")[0]).toBe(greeting);
    expect((await fleet(["logs", "no-such-container"], { home })).code).toBe(4);
  });

  test("logs -f sees new lines as they are written and ends on Ctrl-C", async () => {
    const child = spawnFleet(["logs", "-f", "--tail", "1", "cli-web"], { home });
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    const ticks = () => [...stdout.matchAll(/^tick-(\d+)$/gm)].map((match) => Number(match[1]));
    // The tail gives one tick; a later, larger one can only come from following.
    await eventually(
      "two ticks",
      async () => ticks(),
      (seen) => seen.length >= 2,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );
    const seen = ticks();
    expect(seen[1]).toBeGreaterThan(seen[0]!);
    child.kill("SIGINT");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
  });

  test("stop, then rm; rm refuses a running container without -f", async () => {
    const running = await fleet(["run", "-d", "--name", "cli-doomed", TEST_IMAGE_TAG, "sleep", "600"], {
      home,
    });
    expect(running.code).toBe(0);
    const refused = await fleet(["rm", "cli-doomed"], { home });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("use rm -f");
    const forced = await fleet(["rm", "-f", "cli-doomed"], { home });
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).toBe("cli-doomed");

    const stopped = await fleet(["stop", "cli-web"], { home });
    expect(stopped.code).toBe(0);
    expect(stopped.stdout.trim()).toBe("cli-web");
    await eventually(
      "cli-web to be stopped",
      async () => (await fleet(["ps", "-a", "--json"], { home })).stdout,
      (out) =>
        (JSON.parse(out) as { name: string; actualState: string }[]).some(
          (c) => c.name === "cli-web" && c.actualState === "stopped",
        ),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect((await fleet(["ps"], { home })).stdout).not.toContain("cli-web");
    const removed = await fleet(["rm", "cli-web", "no-such-container"], { home });
    expect(removed.stdout.trim()).toBe("cli-web");
    expect(removed.stderr).toContain("fleet: no-such-container: no container matches no-such-container");
    expect(removed.code).toBe(4);
    expect((await fleet(["ps", "-a", "-q"], { home })).stdout).not.toContain(containerId);
  });

  test("images lists what the host holds", async () => {
    const result = await fleet(["images", "--refresh", "--host", hostName], { home });
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toMatch(/^HOST\s+REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(result.stdout).toMatch(
      new RegExp(`^${hostName}\\s+fleet-test/busybox\\s+latest\\s+[0-9a-f]{12}\\s`, "m"),
    );
    const json = JSON.parse((await fleet(["images", "--json"], { home })).stdout) as { tags: string[] }[];
    expect(json.some((image) => image.tags.includes(TEST_IMAGE_TAG))).toBe(true);
  });

  test("pull from the registry exits 0; a pull that fails exits 1", async () => {
    const reference = `${registry.host}/${TEST_IMAGE_TAG}`;
    await engine().docker.getImage(reference).remove();
    const pulled = await fleet(["pull", reference, "--host", hostName], { home });
    expect(pulled.stdout).toContain(`${hostName}: pulled ${reference}`);
    expect(pulled.code).toBe(0);
    expect((await engine().docker.getImage(reference).inspect()).RepoTags).toContain(reference);

    const failed = await fleet(["pull", `${registry.host}/fleet-test/missing:1`, "--all"], { home });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`fleet: ${hostName}: `);
    expect(failed.stderr).toContain("fleet: the pull failed on 1 of 1 host");
  });

  test("build sends a directory and builds it on the host", async () => {
    const context = join(workDir, "build-context");
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, "Dockerfile"),
      `FROM ${TEST_IMAGE_TAG}\nCOPY . /context/\nRUN cat /context/greeting.txt && test ! -e /context/secret.txt\n`,
    );
    await writeFile(join(context, "greeting.txt"), "built by the cli\n");
    await writeFile(join(context, "secret.txt"), "left out\n");
    await writeFile(join(context, ".dockerignore"), "secret.txt\n");
    const built = await fleet(["build", "-t", "cli-built:1", "--host", hostName, context], { home });
    expect(built.stderr).toContain("built by the cli");
    expect(built.code).toBe(0);
    const imageId = built.stdout.trim();
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await engine().docker.getImage("cli-built:1").inspect()).Id).toBe(imageId);

    await writeFile(join(context, "Dockerfile"), `FROM ${TEST_IMAGE_TAG}\nRUN exit 3\n`);
    const failed = await fleet(["build", "-t", "cli-broken:1", "--host", hostName, context], { home });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/fleet: the build on cli-host failed: /);
  });

  test("join-token prints the command for a new host", async () => {
    const result = await fleet(["join-token", "--ttl", "15m", "--label", "zone=a"], { home });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(
      /^curl -fsSLk --pinnedpubkey '(sha256\/\/\S+)' https:\/\/\S+\/install\.sh \| sudo sh -s -- --join-token fleet_join_\S+ --server-pin '\1' --label zone=a$/,
    );
    expect(result.stderr).toContain("works once, for 15 minutes");
  });

  test("top --once prints one snapshot of the fleet", async () => {
    const result = await fleet(["top", "--once"], { home });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^fleet top — /);
    expect(result.stdout).toMatch(
      /HOST\s+STATUS\s+CONTAINERS\s+CPU ALLOCATED\s+CPU USED\s+MEM ALLOCATED\s+MEM USED/,
    );
    expect(result.stdout).toMatch(new RegExp(`^${hostName}\\s+online\\s+\\d+/\\d+\\s`, "m"));
  });

  test("volume create, ls; run -v mounts it and ps shows the digest; volume rm waits for the container", async () => {
    const created = await fleet(["volume", "create", "cli-data", "--host", hostName], { home });
    expect(created).toMatchObject({ code: 0, stdout: "cli-data\n" });
    const listed = await fleet(["volume", "ls", "--filter", "name=cli-"], { home });
    expect(listed.stdout.split("\n")[0]).toMatch(/^HOST\s+NAME\s+DRIVER\s+SIZE\s+USED BY$/);
    expect(listed.stdout).toMatch(new RegExp(`^${hostName}\\s+cli-data\\s+local\\s+(0 B|-)\\s+-$`, "m"));

    // From the registry, so the host has a registry digest to report.
    const reference = `${registry.host}/${TEST_IMAGE_TAG}`;
    const ran = await fleet(
      ["run", "--name", "cli-vol", "-v", "cli-data:/data", "--tmpfs", "/scratch", reference, "sleep", "600"],
      { home },
    );
    expect(ran.stderr).toContain(`cli-vol is running on ${hostName}`);
    expect(ran.code).toBe(0);
    const repoDigest = (await engine().docker.getImage(reference).inspect()).RepoDigests.find((d) =>
      d.startsWith(`${registry.host}/`),
    );
    const digest = repoDigest!.slice(repoDigest!.indexOf("@") + 1);
    const row = await eventually(
      "ps to show cli-vol's digest",
      async () => (await fleet(["ps"], { home })).stdout.split("\n").find((line) => line.endsWith("cli-vol")),
      (line) => line?.includes(" sha256:") === true,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(row).toContain(`   ${digest.slice(0, "sha256:".length + 12)}   `);
    expect((await fleet(["ps", "--no-trunc"], { home })).stdout).toContain(digest);
    expect((await fleet(["volume", "ls", "--host", hostName], { home })).stdout).toMatch(/\scli-vol$/m);

    const refused = await fleet(["volume", "rm", "cli-data"], { home });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^fleet: cli-data: .*used by cli-vol/m);
    expect(refused.stdout).toBe("");

    expect((await fleet(["rm", "-f", "cli-vol"], { home })).code).toBe(0);
    // The host lets go of the volume once its container is gone.
    const removed = await eventually(
      "volume rm to succeed",
      () => fleet(["volume", "rm", "--host", hostName, "cli-data"], { home }),
      (result) => result.code !== 1,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(removed).toMatchObject({ code: 0, stdout: "cli-data\n" });
    expect((await fleet(["volume", "ls", "-q"], { home })).stdout).not.toContain("cli-data");
  });

  test("network create --internal, ls, rm", async () => {
    const created = await fleet(["network", "create", "cli-net", "--host", hostName, "--internal"], { home });
    expect(created).toMatchObject({ code: 0, stdout: "cli-net\n" });
    const listed = await fleet(["network", "ls", "--host", hostName], { home });
    expect(listed.stdout.split("\n")[0]).toMatch(/^HOST\s+NAME\s+DRIVER\s+INTERNAL\s+SUBNET\s+USED BY$/);
    expect(listed.stdout).toMatch(new RegExp(`^${hostName}\\s+cli-net\\s+bridge\\s+true\\s+\\S+\\s+-$`, "m"));
    const removed = await fleet(["network", "rm", "cli-net", "no-such-net"], { home });
    expect(removed).toMatchObject({ code: 4, stdout: "cli-net\n" });
    expect(removed.stderr).toContain("fleet: no-such-net: no network named no-such-net");
    expect((await fleet(["network", "ls", "-q"], { home })).stdout).not.toContain("cli-net");
  });
});
