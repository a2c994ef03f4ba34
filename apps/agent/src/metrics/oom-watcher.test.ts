import { readFileSync } from "node:fs";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TOomEvent } from "./oom-watcher";
import {
  engineIdFromMemcgPath,
  OomRecordAssembler,
  OomWatcher,
  parseKilledProcessLine,
  parseKmsgRecord,
  parseLegacyTaskInLine,
  parseOomKillLine,
} from "./oom-watcher";
import { kmsgRoot } from "./testing/fixtures";

const realRecords = readFileSync(join(kmsgRoot, "oom-memcg-v1.txt"), "utf8");
const legacyMessages = readFileSync(join(kmsgRoot, "oom-legacy-3.13.messages.txt"), "utf8");

const scratch: string[] = [];
const watchers: OomWatcher[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((watcher) => watcher.stop()));
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const silentLogger = () => ({ warn: vi.fn() });

describe("parseKmsgRecord", () => {
  it("splits a record into priority, sequence, timestamp and message", () => {
    expect(
      parseKmsgRecord("3,427,499865771,-;Memory cgroup out of memory: Killed process 14921 (perl)"),
    ).toEqual({
      level: 3,
      facility: 0,
      seq: 427,
      monotonicUs: 499865771,
      message: "Memory cgroup out of memory: Killed process 14921 (perl)",
    });
  });

  it("unescapes the bytes the kernel escaped", () => {
    expect(parseKmsgRecord("6,1,2,-;a\\x0ab")?.message).toBe("a\nb");
  });

  it("ignores lines that are not records", () => {
    expect(parseKmsgRecord(" SUBSYSTEM=net")).toBeNull();
  });
});

describe("OOM line parsers", () => {
  it("reads the oom-kill summary of a memcg OOM on Linux 6.18", () => {
    const line = realRecords.split("\n").find((record) => record.includes("oom-kill:"))!;
    expect(parseOomKillLine(parseKmsgRecord(line)!.message)).toEqual({
      constraint: "CONSTRAINT_MEMCG",
      oomMemcg: "/fleet-metrics-oom",
      taskMemcg: "/fleet-metrics-oom",
      task: "perl",
      pid: 14921,
      uid: 0,
    });
  });

  it("reads a summary where the limit was hit by a parent cgroup (cAdvisor's kubelet line)", () => {
    const summary = parseOomKillLine(
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=ef807430361e6e82b45db92e2e9b6fbec98f419b12c591e655c1a725565e73a8,mems_allowed=0,oom_memcg=/kubepods/burstable/podfbdfe8e3-1c87-4ff2-907c-b2ec8e25d012,task_memcg=/kubepods/burstable/podfbdfe8e3-1c87-4ff2-907c-b2ec8e25d012/ef807430361e6e82b45db92e2e9b6fbec98f419b12c591e655c1a725565e73a8,task=manager,pid=966,uid=0",
    );
    expect(summary).toMatchObject({
      oomMemcg: "/kubepods/burstable/podfbdfe8e3-1c87-4ff2-907c-b2ec8e25d012",
      taskMemcg:
        "/kubepods/burstable/podfbdfe8e3-1c87-4ff2-907c-b2ec8e25d012/ef807430361e6e82b45db92e2e9b6fbec98f419b12c591e655c1a725565e73a8",
      task: "manager",
      pid: 966,
    });
  });

  it("reads the summary of a host-wide OOM and node lists with commas", () => {
    const summary = parseOomKillLine(
      "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0-1,3,global_oom,task_memcg=/docker/77aa,task=java,pid=4100,uid=1000",
    );
    expect(summary).toEqual({
      constraint: "CONSTRAINT_NONE",
      oomMemcg: null,
      taskMemcg: "/docker/77aa",
      task: "java",
      pid: 4100,
      uid: 1000,
    });
  });

  it("reads process names with spaces and parentheses from the Killed process line", () => {
    for (const comm of ["perl", "Plex Media Server", "()", "(sd-pam)", "x86_64-pc-linux-gnu-c++-5.4.0"]) {
      const line = `Memory cgroup out of memory: Killed process 1234 (${comm}) total-vm:73428kB, anon-rss:29184kB`;
      expect(parseKilledProcessLine(line)).toEqual({ pid: 1234, comm });
    }
    expect(parseKilledProcessLine("Memory cgroup out of memory: Killed process 7 (sh)")).toEqual({
      pid: 7,
      comm: "sh",
    });
    // "Kill process ... or sacrifice child" announces the choice; only "Killed" reports the kill.
    expect(
      parseKilledProcessLine("Memory cgroup out of memory: Kill process 13536 (memorymonster) score 996"),
    ).toBeNull();
  });

  it("reads the memcgs named by kernels before 4.19", () => {
    expect(parseLegacyTaskInLine("Task in /docker/77aa killed as a result of limit of /docker")).toEqual({
      taskMemcg: "/docker/77aa",
      oomMemcg: "/docker",
    });
  });
});

describe("OomRecordAssembler", () => {
  it("reports the real OOM kill of Linux 6.18 exactly once", () => {
    const assembler = new OomRecordAssembler();
    const events = realRecords
      .split("\n")
      .map((line) => parseKmsgRecord(line))
      .flatMap((record) => (record === null ? [] : [assembler.push(record.message, record.monotonicUs)]))
      .filter((event) => event !== null);
    expect(events).toEqual([
      {
        memcgPath: "/fleet-metrics-oom",
        oomMemcgPath: "/fleet-metrics-oom",
        pid: 14921,
        comm: "perl",
        ts: 499865728,
      },
    ]);
  });

  it("reports an OOM kill in the format of Linux 3.13", () => {
    const assembler = new OomRecordAssembler();
    const messages = legacyMessages.split("\n");
    const events = messages
      .map((message, index) => assembler.push(message, index))
      .filter((event) => event !== null);
    // Reported at the "Killed process" line, the last of the kill, whose time the event carries.
    const killedAt = messages.findIndex((message) => message.startsWith("Killed process"));
    expect(events).toEqual([
      { memcgPath: "/mem2", oomMemcgPath: "/mem2", pid: 13536, comm: "memorymonster", ts: killedAt },
    ]);
  });
});

describe("engineIdFromMemcgPath", () => {
  const id = "902c94c04f8d1fbb630eddb6f847928c45e0f2d7633fae3abfae28ecba58c477";

  it("finds the container id in each engine's cgroup layout", () => {
    expect(engineIdFromMemcgPath(`/docker/${id}`)).toBe(id);
    expect(engineIdFromMemcgPath(`/fleet-host-2/${id}`)).toBe(id);
    expect(engineIdFromMemcgPath(`/libpod_parent/libpod-${id}`)).toBe(id);
    expect(engineIdFromMemcgPath(`/machine.slice/libpod-${id}.scope`)).toBe(id);
    expect(engineIdFromMemcgPath(`/system.slice/docker-${id}.scope`)).toBe(id);
    expect(engineIdFromMemcgPath(`/docker/${id}/worker`)).toBe(id);
  });

  it("finds none outside containers and in Podman's conmon cgroup", () => {
    expect(engineIdFromMemcgPath("/fleet-metrics-oom")).toBeNull();
    expect(engineIdFromMemcgPath("/")).toBeNull();
    expect(engineIdFromMemcgPath(`/machine.slice/libpod-conmon-${id}.scope`)).toBeNull();
  });
});

describe("OomWatcher", () => {
  async function logFile(contents: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "fleet-kmsg-"));
    scratch.push(dir);
    const path = join(dir, "kmsg");
    await writeFile(path, contents);
    return path;
  }

  function nextOom(watcher: OomWatcher): Promise<TOomEvent> {
    return new Promise((resolve) => watcher.once("oom", resolve));
  }

  it("emits the OOM kills of a log read from its start, with wall-clock times", async () => {
    const watcher = new OomWatcher({
      devicePath: await logFile(realRecords),
      startAtEnd: false,
      bootTimeMs: 1_700_000_000_000,
      logger: silentLogger(),
    });
    watchers.push(watcher);
    const event = nextOom(watcher);
    await expect(watcher.start()).resolves.toBe(true);
    await expect(event).resolves.toEqual({
      memcgPath: "/fleet-metrics-oom",
      oomMemcgPath: "/fleet-metrics-oom",
      pid: 14921,
      comm: "perl",
      ts: 1_700_000_000_000 + 499_866,
    });
  });

  it("skips what the log held at start and follows what comes after", async () => {
    const path = await logFile(realRecords);
    const watcher = new OomWatcher({ devicePath: path, pollIntervalMs: 10, logger: silentLogger() });
    watchers.push(watcher);
    const seen: TOomEvent[] = [];
    watcher.on("oom", (event) => seen.push(event));
    await watcher.start();
    expect(seen).toEqual([]);
    const next = nextOom(watcher);
    await appendFile(path, realRecords.replaceAll("14921", "15000"));
    await expect(next).resolves.toMatchObject({ pid: 15000, memcgPath: "/fleet-metrics-oom" });
    expect(seen).toHaveLength(1);
  });

  it("warns once and stays idle when the log cannot be opened", async () => {
    const logger = silentLogger();
    const watcher = new OomWatcher({ devicePath: join(tmpdir(), "fleet-no-such-kmsg"), logger });
    watchers.push(watcher);
    const unavailable = vi.fn();
    watcher.on("unavailable", unavailable);
    await expect(watcher.start()).resolves.toBe(false);
    await expect(watcher.start()).resolves.toBe(false);
    expect(watcher.running).toBe(false);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(unavailable).toHaveBeenCalledTimes(2);
  });
});
