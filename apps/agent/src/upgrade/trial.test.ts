// The switch with small shell scripts standing in for agent binaries: one that
// connects (writes the trial file) is kept by rename; one that exits, or stays
// silent past the deadline, is killed and deleted, the old binary untouched.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { runTrial, stopTrialChild } from "./trial";

let dir: string;
let executable: string;
let staged: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleet-trial-"));
  executable = join(dir, "fleet-agent");
  staged = `${executable}.new`;
  await writeFile(executable, "#!/bin/sh\necho old\n", { mode: 0o755 });
  return () => rm(dir, { recursive: true, force: true });
});

async function stage(body: string): Promise<void> {
  await writeFile(staged, `#!/bin/sh\n${body}\n`);
  await chmod(staged, 0o755);
}

const trial = (deadlineMs = 5000) =>
  runTrial({
    executable,
    staged,
    args: ["--name", "h1"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stateDir: dir,
    deadlineMs,
    pollMs: 20,
  });

describe("runTrial", () => {
  it("keeps a binary that connects: renamed over the old one, still running, told its final path", async () => {
    await stage(
      'echo "$1 $2 $FLEET_AGENT_EXECUTABLE" > "$0.args"; printf "connected\\n" > "$FLEET_AGENT_TRIAL"; exec sleep 30',
    );
    const outcome = await trial();
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(await readFile(executable, "utf8")).toContain("connected");
    expect(await readFile(`${staged}.args`, "utf8")).toBe(`--name h1 ${executable}\n`);
    expect(outcome.child.exitCode).toBeNull();
    await stopTrialChild(outcome.child, 2000);
    expect((await readdir(dir)).sort()).toEqual(["fleet-agent", "fleet-agent.new.args"]);
  });

  it("rolls back a binary that exits at once: deleted, the old one untouched", async () => {
    await stage("exit 1");
    const outcome = await trial();
    expect(outcome).toEqual({ ok: false, reason: "the new binary exited (code 1) before it connected" });
    expect(await readFile(executable, "utf8")).toBe("#!/bin/sh\necho old\n");
    expect(await readdir(dir)).toEqual(["fleet-agent"]);
  });

  it("kills and rolls back a binary that does not connect within the deadline", async () => {
    await stage("exec sleep 30");
    const started = Date.now();
    const outcome = await trial(300);
    expect(outcome).toEqual({ ok: false, reason: "the new binary did not connect within 300 ms" });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await readdir(dir)).toEqual(["fleet-agent"]);
  });

  it("rolls back a staged file that cannot be executed", async () => {
    await writeFile(staged, "not a program", { mode: 0o644 });
    const outcome = await trial();
    expect(outcome.ok).toBe(false);
    expect(await readdir(dir)).toEqual(["fleet-agent"]);
  });
});
