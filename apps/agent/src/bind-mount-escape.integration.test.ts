// The bind mount escape through symlinks, played out on real engines (Docker
// and Podman, each private to this file) against the agent: a container with
// an allowed host directory mounted read-write plants symlinks in it, and
// later containers that mount those symlinks are refused by the agent, with
// a status naming where the path really leads, and never created. Also: a
// symlink that stays inside is followed (the container gets the real path), a
// missing source is refused (Podman would create it), `..` cannot smuggle a
// path out, a source swapped for a symlink after the agent's check is caught
// after create and before the first start, and one swapped while the
// container exists is caught before the engine starts it again.
import { lstat, mkdir, mkdtemp, readFile, readlink, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { systemClock } from "@fleet/shared/clock";
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { describeEachEngine, type TestEngine } from "@fleet/test/harness/engines";
import { eventually } from "@fleet/test/harness/eventually";
import { buildTestImage, TEST_IMAGE_TAG } from "@fleet/test/harness/test-image";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { Agent } from "./agent";
import { RuntimeHealthProber } from "./health/health-prober";
import { cgroupMetricsSource, kmsgOomSource } from "./metrics-source";
import { isDriverError } from "./runtime/driver";
import { EngineDriver } from "./runtime/engine/engine-driver";
import { JsonObjectSplitter } from "./runtime/engine/json-stream";
import { StateStore } from "./state-store";
import { BindMountPolicy } from "./supervisor/bind-mount-policy";
import { ContainerSupervisor } from "./supervisor/container-supervisor";
import { ImagePuller } from "./supervisor/image-puller";
import { OomTracker } from "./supervisor/oom-tracker";
import { DEFAULT_RESTART_TUNING } from "./supervisor/restart-policy";
import { FakeCentral } from "./testing/fake-central";
import { RecordingReporter } from "./testing/recording-reporter";
import { silentLogger } from "./testing/silent-logger";

const MIB = 1024 * 1024;

function spec(overrides: Partial<TContainerSpec>): TContainerSpec {
  return makeContainerSpec({
    image: TEST_IMAGE_TAG,
    command: ["sleep", "3600"],
    env: {},
    labels: {},
    resources: {
      cpuRequestMillis: 10,
      cpuLimitMillis: null,
      memoryRequestBytes: 8 * MIB,
      memoryLimitBytes: 64 * MIB,
      pidsRequest: 1,
      pidsLimit: 100,
    },
    restartPolicy: { name: "always" },
    ...overrides,
  });
}

function bind(source: string, target: string, readOnly = false) {
  return { type: "bind" as const, source, target, readOnly };
}

/** Container events of the engine (create, start, remove…) by container name, as they happen. */
async function recordEngineEvents(engine: TestEngine) {
  const stream = (await engine.docker.getEvents({
    filters: { type: ["container"] },
  })) as NodeJS.ReadableStream & {
    destroy(): void;
  };
  const events: { action: string; name: string; id: string }[] = [];
  const splitter = new JsonObjectSplitter();
  stream.on("data", (chunk: Buffer) => {
    for (const raw of splitter.push(chunk)) {
      const event = raw as {
        Action?: string;
        status?: string;
        Actor?: { ID?: string; Attributes?: Record<string, string> };
      };
      events.push({
        action: event.Action ?? event.status ?? "",
        name: event.Actor?.Attributes?.name ?? "",
        id: event.Actor?.ID ?? "",
      });
    }
  });
  stream.on("error", () => {});
  return {
    of: (name: string) => events.filter((e) => e.name === name).map((e) => e.action),
    stop: () => stream.destroy(),
  };
}

/** Host paths, as the engine holds them, of every bind mount of every container the engine has. */
async function bindSourcesOnEngine(engine: TestEngine): Promise<string[]> {
  const sources: string[] = [];
  for (const summary of await engine.docker.listContainers({ all: true })) {
    const info = await engine.docker.getContainer(summary.Id).inspect();
    for (const mount of info.Mounts) if (mount.Type === "bind") sources.push(mount.Source);
  }
  return sources;
}

describeEachEngine("bind mount sources through symlinks on a real engine", ({ kind, engine }) => {
  let central: FakeCentral;
  let stateDir: string;
  let base: string;
  let allowed: string;
  let events: Awaited<ReturnType<typeof recordEngineEvents>>;
  const agents: Agent[] = [];

  beforeAll(async () => {
    await buildTestImage(engine());
  });

  beforeEach(async () => {
    central = new FakeCentral({
      joinTokens: ["jt-bind"],
      hostId: `host_bind_${kind}`,
      settings: { metricsIntervalMs: 5000, heartbeatIntervalMs: 1000 },
    });
    await central.start();
    stateDir = await mkdtemp(join(tmpdir(), "fleet-agent-bind-state-"));
    // The real path, so the expected messages hold wherever the temp dir lives.
    base = await realpath(await mkdtemp(join(tmpdir(), "fleet-bind-escape-")));
    allowed = join(base, "allowed");
    await mkdir(allowed);
    events = await recordEngineEvents(engine());
  });

  afterEach(async () => {
    events.stop();
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    await central.stop();
    for (const info of await engine().docker.listContainers({ all: true })) {
      await engine().docker.getContainer(info.Id).remove({ force: true });
    }
    await rm(stateDir, { recursive: true, force: true });
    // fs.rm unlinks symlinks, never follows them: `allowed/r -> /` goes, / stays.
    await rm(base, { recursive: true, force: true });
  });

  async function startAgent(): Promise<Agent> {
    const e = engine();
    const driver = await EngineDriver.connect({ socketPath: e.socketPath, cgroupParent: e.cgroupParent });
    const fingerprint = await driver.containers.fingerprint();
    const agent = new Agent({
      config: {
        serverUrl: central.url,
        joinToken: "jt-bind",
        name: `bind-${kind}`,
        labels: {},
        metricsIntervalMs: 5000,
        reserveCpuMillis: 0,
        reserveMemoryBytes: 0,
      },
      driver,
      store: new StateStore(stateDir),
      log: silentLogger,
      agentVersion: "0.0.0-it",
      metrics: cgroupMetricsSource({ diskPath: fingerprint.dataRoot, log: silentLogger }),
      kernelOoms: kmsgOomSource({ log: silentLogger }),
      linkTuning: { reconnectInitialMs: 50, reconnectMaxMs: 200 },
      restartTuning: { initialBackoffMs: 500, maxBackoffMs: 2000 },
    });
    agents.push(agent);
    await agent.start();
    await central.waitFor("welcome", () => agent.isConnected, 20_000);
    return agent;
  }

  function statusOf(containerId: string) {
    return central
      .framesOf("container.status")
      .filter((s) => s.containerId === containerId)
      .at(-1);
  }

  async function applied(generation: number, containers: TContainerSpec[]): Promise<void> {
    central.send({ type: "desired", generation, containers, bindMountPrefixes: [allowed] });
    await central.waitFor(
      `ack ${generation}`,
      () => central.framesOf("ack").some((a) => a.generation === generation),
      60_000,
    );
  }

  async function hostFile(path: string): Promise<string> {
    return readFile(path, "utf8").catch(() => "");
  }

  async function hostPathAppears(what: string, path: string, timeoutMs: number): Promise<void> {
    await eventually(
      what,
      () =>
        lstat(path).then(
          () => true,
          () => false,
        ),
      (exists) => exists,
      { timeoutMs },
    );
  }

  it("refuses containers mounting symlinks a first container planted to / and out with ../.., and never creates them", async () => {
    await startAgent();
    // The first container holds the allowed directory read-write and plants the links on the host through it.
    const planter = spec({
      command: [
        "sh",
        "-c",
        [
          "ln -s / /data/r",
          "ln -s ../.. /data/up",
          "mkdir /data/inside && echo hello-from-inside > /data/inside/marker",
          "ln -s inside /data/ok",
          "touch /data/ready",
          "exec sleep 3600",
        ].join(" && "),
      ],
      mounts: [bind(allowed, "/data")],
    });
    await applied(1, [planter]);
    await hostPathAppears("the planted links", join(allowed, "ready"), 30_000);
    expect(await readlink(join(allowed, "r"))).toBe("/");
    expect(await readlink(join(allowed, "up"))).toBe("../..");

    const toRoot = spec({
      command: ["sh", "-c", "ls /host; exec sleep 3600"],
      mounts: [bind(join(allowed, "r"), "/host")],
    });
    const climbing = spec({ mounts: [bind(join(allowed, "up"), "/host")] });
    const inside = spec({
      command: ["sh", "-c", "cat /host/marker; exec sleep 3600"],
      mounts: [bind(join(allowed, "ok"), "/host", true)],
    });
    const missing = spec({ mounts: [bind(join(allowed, "missing", "dir"), "/host")] });
    await applied(2, [planter, toRoot, climbing, inside, missing]);

    const refusals = [
      [
        toRoot,
        `bind mount of ${allowed}/r refused: it resolves to /, outside the allowed host paths (${allowed})`,
      ],
      [
        climbing,
        `bind mount of ${allowed}/up refused: it resolves to ${dirname(base)}, outside the allowed host paths (${allowed})`,
      ],
      [missing, `bind mount of ${allowed}/missing/dir refused: bind source path does not exist`],
    ] as const;
    for (const [refused, message] of refusals) {
      await central.waitFor(
        `${refused.name} refused`,
        () => statusOf(refused.id)?.state === "failed",
        30_000,
      );
      expect(statusOf(refused.id)).toMatchObject({ state: "failed", engineId: null });
      expect(statusOf(refused.id)?.message).toMatch(
        new RegExp(`^${escapeRegExp(message)} \\(retrying in \\d+s\\)$`),
      );
    }

    // The link that stays inside is followed: the engine was given the real path.
    await central.waitFor("the inside mount running", () => statusOf(inside.id)?.state === "running", 30_000);
    const insideInfo = await engine().docker.getContainer(statusOf(inside.id)!.engineId!).inspect();
    expect(insideInfo.Mounts.map((m) => [m.Type, m.Source, m.Destination])).toEqual([
      ["bind", join(allowed, "inside"), "/host"],
    ]);
    await eventually(
      "the inside container's output",
      async () =>
        (await engine().docker.getContainer(insideInfo.Id).logs({ stdout: true, stderr: true })).toString(),
      (text) => text.includes("hello-from-inside"),
      { timeoutMs: 10_000 },
    );

    // Let the refused ones retry at least once; they stay refused.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const [refused] of refusals) {
      expect(events.of(refused.name)).toEqual([]);
      expect(statusOf(refused.id)?.state).toBe("failed");
    }
    expect(
      central
        .framesOf("event")
        .filter((e) => e.containerId === toRoot.id)
        .map((e) => e.kind),
    ).not.toContain("container.create");
    const sources = await bindSourcesOnEngine(engine());
    expect(sources.sort()).toEqual([allowed, join(allowed, "inside")].sort());
    // Podman would have created the missing source at start.
    await expect(lstat(join(allowed, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("resolves '..' components on the host: a source that leaves the prefix through them is refused", async () => {
    // The wire refuses '..' outright (the central's schema and the agent's parser); this is the agent's own check behind it.
    await mkdir(join(allowed, "a", "b"), { recursive: true });
    await symlink("/", join(allowed, "a", "root"));
    const driver = await EngineDriver.connect({
      socketPath: engine().socketPath,
      cgroupParent: engine().cgroupParent,
    });
    const reporter = new RecordingReporter();
    const bindMounts = new BindMountPolicy();
    bindMounts.update([allowed]);
    const deps = {
      containers: driver.containers,
      clock: systemClock,
      hostId: `host_bind_${kind}`,
      tuning: { ...DEFAULT_RESTART_TUNING, initialBackoffMs: 60_000, stopTimeoutSeconds: 1 },
      reporter,
      oom: new OomTracker(),
      images: new ImagePuller(driver.images),
      bindMounts,
      health: new RuntimeHealthProber(driver.containers),
      log: silentLogger,
    };
    const cases = [
      [`${allowed}/a/b/../../..`, `it resolves to ${base}, outside`],
      [`${allowed}/a/root/..`, "it resolves to /, outside"],
      [`${allowed}/a/root/etc/..`, "it resolves to /, outside"],
    ] as const;
    const supervisors: ContainerSupervisor[] = [];
    for (const [source, why] of cases) {
      const s = spec({ mounts: [bind(source, "/host")] });
      // Not hashContainerSpec: it parses the spec, and the schema refuses '..'.
      const sup = ContainerSupervisor.create(deps, s, `h-${s.id}`);
      supervisors.push(sup);
      await sup.ready;
      expect(reporter.lastStatus(s.id)?.message).toMatch(
        new RegExp(
          `^${escapeRegExp(`bind mount of ${source} refused: ${why} the allowed host paths (${allowed})`)}`,
        ),
      );
      expect(events.of(s.name)).toEqual([]);
    }
    // Inside the prefix, '..' is fine and the engine gets the real path.
    // The trailing slash of the target: the engines report it cleaned, and the check after create must still match it.
    const within = spec({ mounts: [bind(`${allowed}/a/b/..`, "/host/")] });
    const sup = ContainerSupervisor.create(deps, within, `h-${within.id}`);
    supervisors.push(sup);
    await sup.ready;
    expect(sup.state).toBe("running");
    const info = await engine().docker.getContainer(sup.engineId!).inspect();
    expect(info.Mounts.map((m) => [m.Source, m.Destination])).toEqual([[join(allowed, "a"), "/host"]]);
    for (const each of supervisors) await each.remove("test over");
  });

  it("removes a container whose source became a symlink after the agent's check, before it ever starts", async () => {
    // The race a check before create leaves open, made certain: the driver is handed a path that is a symlink to / by the time it creates.
    await symlink("/", join(allowed, "swapped"));
    const driver = await EngineDriver.connect({
      socketPath: engine().socketPath,
      cgroupParent: engine().cgroupParent,
    });
    const late = spec({
      command: ["sh", "-c", "ls /host; exec sleep 3600"],
      mounts: [bind(join(allowed, "swapped"), "/host")],
    });
    const error = await driver.containers
      .start({ spec: late, hostId: `host_bind_${kind}`, specHash: "h" })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(isDriverError(error, "bind-mount-refused")).toBe(true);
    expect((error as Error).message).toBe(
      `bind mount of ${allowed}/swapped refused: it now resolves to /: a symlink took the place of part of the path`,
    );
    await eventually(
      "the create and removal events",
      async () => events.of(late.name),
      (actions) => actions.some((a) => a === "destroy" || a === "remove"),
    );
    expect(events.of(late.name)).toContain("create");
    expect(events.of(late.name)).not.toContain("start");
    expect(await engine().docker.listContainers({ all: true })).toEqual([]);
  });

  it("does not start a container again once its source was swapped for a symlink to /, and recreates nothing", async () => {
    await startAgent();
    const swapper = spec({
      command: [
        "sh",
        "-c",
        [
          "mkdir -p /data/swap /data/log",
          "echo legit > /data/swap/legit-file",
          "touch /data/ready",
          "while [ ! -e /data/go ]; do sleep 0.1; done",
          "mv /data/swap /data/swap-old",
          "ln -s / /data/swap",
          "touch /data/swapped",
          "exec sleep 3600",
        ].join(" && "),
      ],
      mounts: [bind(allowed, "/data")],
    });
    await applied(1, [swapper]);
    await hostPathAppears("the swapper ready", join(allowed, "ready"), 30_000);
    // Lists what it sees at /host on every run, into a log the test reads on the host.
    const victim = spec({
      command: ["sh", "-c", "ls /host >> /log/seen; sleep 1; exit 1"],
      mounts: [bind(join(allowed, "swap"), "/host", true), bind(join(allowed, "log"), "/log")],
    });
    await applied(2, [swapper, victim]);
    await eventually(
      "the victim's first run",
      () => hostFile(join(allowed, "log", "seen")),
      (text) => text.includes("legit-file"),
      { timeoutMs: 30_000 },
    );
    const firstEngineId = statusOf(victim.id)!.engineId!;

    await mkdir(join(allowed, "go"));
    await hostPathAppears("the swap", join(allowed, "swapped"), 10_000);
    expect(await readlink(join(allowed, "swap"))).toBe("/");

    const refusal = `bind mount of ${allowed}/swap refused: it resolves to /, outside the allowed host paths (${allowed})`;
    await central.waitFor(
      "the victim refused",
      () =>
        statusOf(victim.id)?.state === "failed" && (statusOf(victim.id)?.message ?? "").startsWith(refusal),
      30_000,
    );
    const warnings = central
      .framesOf("event")
      .filter((e) => e.containerId === victim.id && e.kind === "agent.warning");
    expect(warnings.map((w) => w.message).join("\n")).toMatch(
      /not started again: bind mount of .*\/swap refused/,
    );
    // The engine container that held the path was removed, not started through the link.
    await eventually(
      "the old container removed",
      async () => (await engine().docker.listContainers({ all: true })).map((c) => c.Id),
      (ids) => !ids.includes(firstEngineId),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const seen = (await hostFile(join(allowed, "log", "seen"))).split("\n").filter(Boolean);
    expect(new Set(seen)).toEqual(new Set(["legit-file"]));
    expect(events.of(victim.name).filter((a) => a === "create")).toHaveLength(1);
    expect(await bindSourcesOnEngine(engine())).toEqual([allowed]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
