// Exit codes and each command's argument checks, in-process: every case here
// is decided before the CLI would talk to a central, so none is needed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { COMMANDS, GROUPS, runCli } from "./main";
import { createTestIo } from "./testing/test-io";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-cli-main-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const io = createTestIo({ env: { HOME: dir, XDG_CONFIG_HOME: dir, ...env } });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe("top level", () => {
  test("help, version and the list of commands exit 0", async () => {
    for (const argv of [[], ["--help"], ["-h"], ["help"]]) {
      const result = await run(argv);
      expect(result.code).toBe(0);
      for (const command of COMMANDS) {
        // Subcommands (`volume ls`) are listed under their group's name.
        expect(result.out).toContain(`  ${command.spec.name.split(" ")[0]} `);
      }
    }
    expect((await run(["help", "run"])).out).toContain("Usage:  fleet run [OPTIONS] IMAGE");
    const version = await run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^fleet \d+\.\d+\.\d+ \(commit \S+, node /);
    expect(version.out).toContain("central: not logged in");
  });

  test("an unknown command or a flag before the command is a usage error (2)", async () => {
    expect(await run(["frob"])).toMatchObject({
      code: 2,
      err: expect.stringContaining("fleet: unknown command: frob"),
    });
    expect(await run(["--json", "ps"])).toMatchObject({
      code: 2,
      err: expect.stringContaining("fleet: unknown flag: --json"),
    });
    expect(await run(["help", "frob"])).toMatchObject({ code: 2 });
  });

  test("every command has --help with usage and an example, and refuses unknown flags", async () => {
    const names = [...COMMANDS.map((command) => command.spec.name), ...GROUPS.map((group) => group.name)];
    for (const name of names) {
      const words = name.split(" ");
      const help = await run([...words, "--help"]);
      expect({ name, code: help.code }).toEqual({ name, code: 0 });
      expect(help.out).toContain(`Usage:  fleet ${name}`);
      expect(help.out).toMatch(/Examples?:\n {2}fleet /);
      const unknown = await run([...words, "--no-such-flag"]);
      expect({ name, code: unknown.code }).toEqual({ name, code: 2 });
      expect(unknown.err).toContain("fleet: unknown flag: --no-such-flag");
      expect(unknown.err).toContain(`Run 'fleet ${name} --help' for more information.`);
    }
  });

  test("host upgrade names one host or --all, not both and not neither, before calling the central", async () => {
    for (const argv of [
      ["host", "upgrade"],
      ["host", "upgrade", "node-1", "--all"],
    ]) {
      expect(await run(argv)).toMatchObject({
        code: 2,
        err: expect.stringContaining("name one host, or pass --all"),
      });
    }
  });

  test("management commands: the group's help, docker's verb spellings, unknown verbs", async () => {
    for (const argv of [["volume"], ["help", "volume"]]) {
      const help = await run(argv);
      expect(help.code).toBe(0);
      expect(help.out).toMatch(/^Usage: {2}fleet volume COMMAND\n/);
      expect(help.out).toMatch(
        /Commands:\n {2}create {3}Create a volume on a host\n {2}ls {7}List volumes\n/,
      );
    }
    expect((await run(["help", "network", "rm"])).out).toContain(
      "Usage:  fleet network rm [OPTIONS] NETWORK",
    );
    expect((await run(["volume", "list", "--help"])).out).toContain("Usage:  fleet volume ls");
    expect(await run(["volume", "frob"])).toMatchObject({
      code: 2,
      err: "fleet: unknown command: fleet volume frob\nUsage:  fleet volume COMMAND\nRun 'fleet volume --help' for more information.\n",
    });
  });

  test("no stack traces for expected failures", async () => {
    const result = await run(["ps"]);
    expect(result.err).toBe(
      "fleet: not logged in: run `fleet login <url>` (or set FLEET_URL and FLEET_TOKEN)\n",
    );
  });
});

describe("not logged in: exit 3 for every command that needs the central", () => {
  test.each([
    ["hosts"],
    ["ps"],
    ["run", "busybox"],
    ["logs", "web"],
    ["stop", "web"],
    ["start", "web"],
    ["restart", "web"],
    ["rm", "web"],
    ["images"],
    ["pull", "busybox"],
    ["top", "--once"],
    ["join-token"],
    ["volume", "create", "data", "--host", "h"],
    ["volume", "ls"],
    ["volume", "rm", "data"],
    ["network", "create", "backend", "--host", "h", "--internal"],
    ["network", "ls", "-q"],
    ["network", "remove", "backend"],
    ["run", "-v", "data:/data", "--tmpfs", "/scratch:size=16m", "--net", "backend", "busybox"],
    ["ps", "--no-trunc"],
    ["update", "--image", "busybox:1.37", "api"],
    ["deploy", "ls"],
    ["deploy", "history", "api"],
    ["rollout", "status", "-w", "api"],
  ])("fleet %s", async (...argv) => {
    const result = await run(argv);
    expect(result.code).toBe(3);
    expect(result.err).toContain("not logged in");
  });
});

describe("argument checks per command (exit 2, nothing sent)", () => {
  test.each([
    [["run"], "the image is missing"],
    [["run", "-m", "64x", "busybox"], '--memory: invalid memory size "64x"'],
    [["run", "--cpus", "half", "busybox"], '--cpus: invalid cpus "half"'],
    [["run", "--pids", "0", "busybox"], "--pids must be a whole number from 1"],
    [["run", "-p", "80:http", "busybox"], '--publish: invalid port mapping "80:http"'],
    [["run", "--restart", "sometimes", "busybox"], '--restart: invalid restart policy "sometimes"'],
    [["run", "-l", "bad key=1", "busybox"], "--label bad key=1: "],
    [["run", "--constraint", "zone in (a", "busybox"], "--constraint: "],
    [["run", "--strategy", "random", "busybox"], "--strategy must be binpack or spread, got random"],
    [["run", "--replicas", "3", "busybox"], "--replicas needs --name"],
    [["run", "--replicas", "0", "--name", "x", "busybox"], "--replicas must be a whole number from 1 to 500"],
    [["run", "-e", "=x", "busybox"], "--env =x: the variable needs a name"],
    [["ps", "--limit", "many"], "--limit must be a whole number"],
    [["ps", "extra"], "fleet ps takes no arguments"],
    [["logs"], "the container (name or id) is missing"],
    [["logs", "--tail", "-5", "web"], "flag --tail needs a value"],
    [["logs", "--tail", "lots", "web"], "--tail must be a whole number"],
    [["logs", "a", "b"], "too many arguments: b"],
    [["stop"], "the container (name or id) is missing"],
    [["pull"], "the image is missing"],
    [["pull", "busybox", "--host", "a", "--all"], "give --host or --all, not both"],
    [["build", "."], "-t/--tag is required"],
    [["build", "-t", "x:1", "."], "--host is required"],
    [["top", "--interval", "10ms"], "--interval must be at least 500ms"],
    [["top", "--interval", "soon"], '--interval: invalid duration "soon"'],
    [["join-token", "-l", "bad key"], "--label bad key: "],
    [["run", "-v", "data", "busybox"], '--volume: invalid mount "data": expected volume:/path'],
    [
      ["run", "-v", "data:/x:rx", "busybox"],
      '--volume: invalid mount "data:/x:rx": mode "rx" must be ro or rw',
    ],
    [["run", "--tmpfs", "/t:size=lots", "busybox"], '--tmpfs: invalid tmpfs "/t:size=lots": '],
    [["run", "--network", "host", "busybox"], "--network host: is an engine network"],
    [["run", "--net"], "flag --network, --net needs a value"],
    [["volume", "create"], "the volume's name is missing"],
    [["volume", "create", "data"], "--host is required: a volume lives on one host"],
    [["volume", "create", "bad name", "--host", "h"], "volume name bad name: "],
    [["volume", "ls", "--filter", "driver=local"], "--filter driver=local: only name=TEXT is supported"],
    [["volume", "rm"], "the volume's name is missing"],
    [["network", "create", "bridge", "--host", "h"], "network name bridge: is an engine network"],
    [["network", "create", "backend"], "--host is required: a network lives on one host"],
    [["volume", "--host", "h"], "unknown flag: --host (flags go after fleet volume COMMAND)"],
    [["update", "api"], "nothing to change: give a flag such as --image or --env-add"],
    [["deploy", "scale", "api"], "give DEPLOYMENT=REPLICAS or DEPLOYMENT REPLICAS"],
    [
      ["deploy", "update", "--order", "sideways", "api"],
      "--order must be stop-first or start-first, got sideways",
    ],
    [["deploy", "rollback", "--to-revision", "0", "api"], "--to-revision must be a whole number from 1"],
    [["rollout", "status"], "one deployment (name or id) is missing"],
    [["update", "--image", "x:1"], "the deployment (name or id) is missing"],
    [["login"], "the central's URL is missing"],
    [["login", "ftp://central"], "the central's URL must be http:// or https://, got ftp://central"],
    [["login", "http://c", "--token", "t", "--email", "e"], "--token cannot be combined with --email"],
  ])("fleet %j", async (argv, message) => {
    const result = await run(argv);
    expect(result.err).toContain(`fleet: ${message}`);
    expect(result.code).toBe(2);
  });

  test("run reads -e NAME from this shell, as docker does", async () => {
    // Still stops at "not logged in": the point is that the flag was accepted.
    expect((await run(["run", "-e", "FROM_SHELL", "busybox"], { FROM_SHELL: "1" })).code).toBe(3);
  });
});
