import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { isOutdated, rollOneAtATime, servedAgentBuild } from "./upgrade-agents";

describe("rollOneAtATime", () => {
  it("upgrades in order, never two at once, and stops at the first failure", async () => {
    const log: string[] = [];
    let inFlight = 0;
    const outcomes = await rollOneAtATime(["a", "b", "c", "d"], async (host) => {
      inFlight++;
      expect(inFlight).toBe(1);
      log.push(`start ${host}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`end ${host}`);
      inFlight--;
      return host !== "b";
    });
    expect(log).toEqual(["start a", "end a", "start b", "end b"]);
    expect(outcomes).toEqual([
      { host: "a", ok: true },
      { host: "b", ok: false },
    ]);
  });

  it("does nothing for no hosts", async () => {
    expect(await rollOneAtATime([], async () => true)).toEqual([]);
  });
});

describe("servedAgentBuild", () => {
  let dir: string;
  const sha = createHash("sha256").update("agent").digest("hex");
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fleet-served-"));
    return () => rm(dir, { recursive: true, force: true });
  });
  const write = async (manifest: unknown, sum = `${sha}  fleet-agent-linux-x64\n`) => {
    await writeFile(join(dir, "fleet-agent-linux-x64.json"), JSON.stringify(manifest));
    await writeFile(join(dir, "fleet-agent-linux-x64.sha256"), sum);
  };

  it("reads version+commit and the sha256 the download is checked against", async () => {
    await write({ version: "1.2.3", commit: "abc1234", sha256: sha });
    expect(await servedAgentBuild(dir)).toEqual({ build: "1.2.3+abc1234", sha256: sha });
  });

  it("serves nothing when nothing is built, the manifest is malformed, or it disagrees with the .sha256", async () => {
    expect(await servedAgentBuild(dir)).toBeNull();
    await write({ version: "1.2.3", commit: "abc1234", sha256: "nothex" });
    expect(await servedAgentBuild(dir)).toBeNull();
    await write(
      { version: "1.2.3", commit: "abc1234", sha256: sha },
      `${"0".repeat(64)}  fleet-agent-linux-x64\n`,
    );
    expect(await servedAgentBuild(dir)).toBeNull();
  });

  it("calls a host outdated only when both builds are known and differ", () => {
    const served = { build: "1.2.3+abc1234", sha256: sha };
    expect(isOutdated("1.2.2+0000000", served)).toBe(true);
    expect(isOutdated("1.2.3+abc1234", served)).toBe(false);
    expect(isOutdated(null, served)).toBe(false);
    expect(isOutdated("1.2.2+0000000", null)).toBe(false);
  });
});
