// The built executables (dist/fleet-agent-linux-x64, dist/fleet-linux-x64) as
// a host without Node or a checkout runs them: copied out of the checkout and
// started with an empty environment, so no PATH and no node on it. The agent
// joins an in-process central and runs a container on a private dockerd.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeCentral } from "@fleet/agent/testing/fake-central";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgentBinary, ensureCliBinary } from "../harness/built-binaries";
import { useDockerd } from "../harness/engines";
import { buildTestImage, TEST_IMAGE_TAG } from "../harness/test-image";

const REPO_ROOT = join(import.meta.dirname, "../..");
const MIB = 1024 * 1024;

function currentCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** A copy outside the checkout, so nothing beside the built file can be what makes it work. */
function copyOut(path: string, dir: string): string {
  const copy = join(dir, path.split("/").at(-1)!);
  copyFileSync(path, copy);
  return copy;
}

// Next.js's types make NODE_ENV a required variable; these environments lack it on purpose.
function environment(vars: Record<string, string>): NodeJS.ProcessEnv {
  return vars as NodeJS.ProcessEnv;
}

function runEmpty(executable: string, args: string[], cwd: string) {
  return spawnSync(executable, args, { env: environment({}), cwd, encoding: "utf8", timeout: 30_000 });
}

describe("the built executables", () => {
  let dir: string;
  let agent: string;
  let cli: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fleet-executables-"));
    agent = copyOut(await ensureAgentBinary(), dir);
    cli = copyOut(await ensureCliBinary(), dir);
  }, 300_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("fleet-agent --version prints the version and the commit, with an empty environment", () => {
    const result = runEmpty(agent, ["--version"], dir);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const expected = `fleet-agent 0.1.0 (commit ${currentCommit()}, node ${process.versions.node})`;
    expect(result.stdout.trim()).toBe(expected);
    // A PATH where no node can be found, in case an empty one falls back to the system's.
    const noNode = spawnSync(agent, ["--version"], {
      env: environment({ PATH: dir }),
      cwd: "/",
      encoding: "utf8",
    });
    expect(noNode.stdout.trim()).toBe(expected);
  });

  it("fleet --help and fleet version work, with an empty environment", () => {
    const help = runEmpty(cli, ["--help"], dir);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage:  fleet COMMAND");
    expect(help.stderr).toBe("");
    // XDG_CONFIG_HOME keeps it from reading this machine's own login.
    const version = spawnSync(cli, ["version"], {
      env: environment({ XDG_CONFIG_HOME: dir }),
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(version.status).toBe(0);
    expect(version.stdout).toContain(`fleet 0.1.0 (commit ${currentCommit()}, node `);
    expect(version.stdout).toContain("central: not logged in");
  });

  describe("fleet-agent on a real engine", () => {
    const engine = useDockerd({ name: "exe-agent" });
    let central: FakeCentral;
    let child: ChildProcess | null = null;
    let output = "";

    beforeAll(async () => {
      await buildTestImage(engine());
      central = new FakeCentral({
        joinTokens: ["jt-exe"],
        hostId: "host_exe",
        settings: { metricsIntervalMs: 500, heartbeatIntervalMs: 500 },
      });
      await central.start();
    });

    afterAll(async () => {
      if (child && child.exitCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
      await central?.stop();
    });

    it("joins the central and reports a container it runs, started with an empty environment", async () => {
      const e = engine();
      const stateDir = join(dir, "state");
      const started = spawn(
        agent,
        [
          ...["--server", central.url, "--join-token", "jt-exe", "--engine", e.dockerHost],
          ...["--cgroup-parent", e.cgroupParent, "--state-dir", stateDir, "--name", "exe-host"],
        ],
        { env: environment({}), cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
      );
      child = started;
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000);
      };
      started.stdout?.on("data", keep);
      started.stderr?.on("data", keep);
      const failWithOutput = (error: Error) => {
        throw new Error(`${error.message}\nagent output:\n${output}`);
      };

      await central
        .waitFor("hello", () => central.framesOf("hello").length === 1, 30_000)
        .catch(failWithOutput);
      const hello = central.framesOf("hello")[0]!;
      expect(hello).toMatchObject({ agentVersion: `0.1.0+${currentCommit()}` });

      const web = makeContainerSpec({
        image: TEST_IMAGE_TAG,
        command: ["sleep", "3600"],
        env: {},
        labels: {},
        resources: {
          cpuRequestMillis: 100,
          cpuLimitMillis: 500,
          memoryRequestBytes: 16 * MIB,
          memoryLimitBytes: 32 * MIB,
          pidsRequest: 10,
          pidsLimit: 50,
        },
        restartPolicy: { name: "no" },
      });
      central.send({ type: "desired", generation: 1, containers: [web] });
      await central
        .waitFor(
          "running status",
          () =>
            central
              .framesOf("container.status")
              .some((s) => s.containerId === web.id && s.state === "running"),
          60_000,
        )
        .catch(failWithOutput);
      // And its metrics, read from the kernel's cgroup files by the executable.
      await central
        .waitFor(
          "metrics",
          () =>
            central
              .framesOf("metrics")
              .some((m) =>
                m.containers.some((c) => c.containerId === web.id && c.memoryLimitBytes === 32 * MIB),
              ),
          30_000,
        )
        .catch(failWithOutput);

      const exited = once(started, "exit");
      started.kill("SIGTERM");
      const [code] = await exited;
      expect(code).toBe(0);
      expect(output).not.toContain("Warning");
    });
  });
});
