// Health checks on real engines (one Docker and one Podman, each private to
// this file): the engine driver's exec, and the supervisor running exec, HTTP
// and TCP checks (the latter from inside the container's network namespace,
// through nsenter and the probe child) to the same verdicts on both engines,
// restarting an unhealthy container when its spec asks for it.
import { systemClock } from "@fleet/shared/clock";
import type { TContainerHealth, TContainerSpec, THealthCheck } from "@fleet/shared/domain/container-spec";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { describeEachEngine } from "@fleet/test/harness/engines";
import { eventually } from "@fleet/test/harness/eventually";
import { buildImage, buildTestImage, TEST_IMAGE_TAG } from "@fleet/test/harness/test-image";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { isDriverError } from "../runtime/driver";
import { EngineDriver } from "../runtime/engine/engine-driver";
import { BindMountPolicy } from "../supervisor/bind-mount-policy";
import { ContainerSupervisor, type SupervisorDeps } from "../supervisor/container-supervisor";
import { ImagePuller } from "../supervisor/image-puller";
import { OomTracker } from "../supervisor/oom-tracker";
import { DEFAULT_RESTART_TUNING } from "../supervisor/restart-policy";
import { RecordingReporter } from "../testing/recording-reporter";
import { silentLogger } from "../testing/silent-logger";
import { RuntimeHealthProber } from "./health-prober";

const MIB = 1024 * 1024;
/** Short enough that a verdict takes seconds; the timeout leaves room for a probe child's start on a busy machine. */
const FAST: Omit<THealthCheck, "test"> = {
  intervalMs: 300,
  timeoutMs: 3000,
  retries: 2,
  startPeriodMs: 0,
  restartOnUnhealthy: false,
};

let serial = 0;
function spec(
  command: string,
  healthCheck: THealthCheck,
  overrides: Partial<TContainerSpec> = {},
): TContainerSpec {
  serial++;
  return makeContainerSpec({
    id: `c-health-${serial}`,
    name: `health-${serial}`,
    image: TEST_IMAGE_TAG,
    command: ["sh", "-c", command],
    env: {},
    labels: {},
    resources: {
      cpuRequestMillis: 100,
      cpuLimitMillis: null,
      memoryRequestBytes: 16 * MIB,
      memoryLimitBytes: 64 * MIB,
      pidsRequest: 10,
      pidsLimit: 100,
    },
    restartPolicy: { name: "no" },
    healthCheck,
    ...overrides,
  });
}

/** An image whose own HEALTHCHECK always fails: the engines must not run it. */
const UNHEALTHY_IMAGE = "fleet-test/unhealthy-by-image:latest";
const HTTPD = "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www";
// Busybox nc: `-ll` with `-e` keeps listening after each connection.
const NC = "exec nc -ll -p 9000 -e true";

/** What each engine measured, printed once at the end for comparison. */
const measured: string[] = [];

describeEachEngine("health checks on a real engine", ({ kind, engine }) => {
  let reporter: RecordingReporter;
  let deps: SupervisorDeps;
  let driver: EngineDriver;
  const supervisors: ContainerSupervisor[] = [];

  beforeAll(async () => {
    await buildTestImage(engine());
    await buildImage(engine(), {
      tag: UNHEALTHY_IMAGE,
      dockerfile: `FROM ${TEST_IMAGE_TAG}\nHEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD false\n`,
    });
    driver = await EngineDriver.connect({
      socketPath: engine().socketPath,
      cgroupParent: engine().cgroupParent,
    });
  });

  afterEach(async () => {
    await Promise.all(supervisors.splice(0).map((s) => s.remove("test over").catch(() => {})));
    for (const info of await engine().docker.listContainers({ all: true })) {
      await engine().docker.getContainer(info.Id).remove({ force: true });
    }
  });

  function supervise(s: TContainerSpec): ContainerSupervisor {
    reporter ??= new RecordingReporter();
    deps ??= {
      containers: driver.containers,
      clock: systemClock,
      hostId: `host_health_${kind}`,
      // The busybox shell as pid 1 ignores SIGTERM: a short stop timeout keeps restarts quick.
      tuning: { ...DEFAULT_RESTART_TUNING, stopTimeoutSeconds: 1, oomSettleMs: 0 },
      reporter,
      oom: new OomTracker(),
      images: new ImagePuller(driver.images),
      bindMounts: new BindMountPolicy(),
      health: new RuntimeHealthProber(driver.containers),
      log: silentLogger,
    };
    const sup = ContainerSupervisor.create(deps, s, `hash-${s.id}`);
    supervisors.push(sup);
    return sup;
  }

  /** Milliseconds from the first `starting` of the container's current run to `health`. */
  async function untilHealth(
    sup: ContainerSupervisor,
    health: TContainerHealth,
    timeoutMs = 30_000,
  ): Promise<number> {
    await eventually(
      `${sup.containerId} ${health}`,
      // The whole frame, so that a failure shows the check's message.
      async () => sup.statusFrame(),
      (f) => f.health === health,
      {
        timeoutMs,
        intervalMs: 20,
      },
    );
    const frames = reporter.statuses.filter((f) => f.containerId === sup.containerId);
    const reached = frames.findLastIndex((f) => f.health === health);
    const start = frames
      .slice(0, reached)
      .findLastIndex((f) => f.health === "starting" && f.state === "running");
    return frames[reached]!.ts - frames[start]!.ts;
  }

  it("exec: exit code and output, capped; a timed-out process and its children are killed; a stopped container refuses; the image's HEALTHCHECK never runs", async () => {
    const sup = supervise(
      spec("sleep 3600", { ...FAST, test: { type: "exec", command: ["true"] } }, { image: UNHEALTHY_IMAGE }),
    );
    await sup.ready;
    const engineId = sup.engineId!;
    const inspected = await engine().docker.getContainer(engineId).inspect();
    expect(inspected.Config.Healthcheck?.Test).toEqual(["NONE"]);

    const opts = { timeoutMs: 5000, maxOutputBytes: 4096 };
    const execTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = performance.now();
      await expect(driver.containers.exec(engineId, { ...opts, command: ["true"] })).resolves.toMatchObject({
        exitCode: 0,
      });
      execTimes.push(Math.round(performance.now() - before));
    }
    measured.push(`${kind}: one exec of true takes ${execTimes.join(", ")} ms`);
    await expect(
      driver.containers.exec(engineId, { ...opts, command: ["sh", "-c", "echo out; echo err >&2; exit 3"] }),
    ).resolves.toEqual({
      exitCode: 3,
      timedOut: false,
      output: expect.stringMatching(/out[\s\S]*err|err[\s\S]*out/),
      truncated: false,
    });
    const flood = await driver.containers.exec(engineId, {
      ...opts,
      command: ["sh", "-c", "yes flood-line | head -c 200000"],
    });
    expect(flood).toMatchObject({ exitCode: 0, truncated: true });
    expect(Buffer.byteLength(flood.output)).toBeLessThanOrEqual(4096);
    const missing = await driver.containers.exec(engineId, { ...opts, command: ["no-such-program"] });
    // Docker answers 126, Podman 127: either is a failed check.
    expect([126, 127]).toContain(missing.exitCode);

    const startedAt = Date.now();
    const hung = await driver.containers.exec(engineId, {
      ...opts,
      timeoutMs: 500,
      command: ["sh", "-c", "sleep 301 & sleep 302"],
    });
    expect(hung).toMatchObject({ exitCode: null, timedOut: true });
    expect(Date.now() - startedAt).toBeLessThan(3000);
    await eventually(
      "the timed-out exec's processes to be gone",
      async () => (await driver.containers.exec(engineId, { ...opts, command: ["ps", "-o", "args"] })).output,
      (ps) => !/sleep 30[12]/.test(ps),
      { timeoutMs: 5000, intervalMs: 100 },
    );

    // The engine keeps no health of its own: with the image's check it would say starting, then unhealthy.
    expect(sup.health).toBe("healthy");
    const health = (await engine().docker.getContainer(engineId).inspect()).State.Health;
    expect(health?.Status ?? "").toBe("");

    await engine().docker.getContainer(engineId).stop({ t: 0 });
    const refused = await driver.containers
      .exec(engineId, { ...opts, command: ["true"] })
      .catch((e: unknown) => e);
    expect(isDriverError(refused, "conflict")).toBe(true);
  });

  it("exec, HTTP and TCP checks turn healthy; failing ones (false, a wrong path, a closed port) unhealthy after the retries", async () => {
    const cases = {
      execOk: supervise(
        spec("mkdir -p /run && touch /run/ready; exec sleep 3600", {
          ...FAST,
          test: { type: "exec", command: ["test", "-e", "/run/ready"] },
        }),
      ),
      httpOk: supervise(spec(HTTPD, { ...FAST, test: { type: "http", port: 8080, path: "/index.html" } })),
      tcpOk: supervise(spec(NC, { ...FAST, test: { type: "tcp", port: 9000 } })),
      execFalse: supervise(spec("exec sleep 3600", { ...FAST, test: { type: "exec", command: ["false"] } })),
      httpMissing: supervise(spec(HTTPD, { ...FAST, test: { type: "http", port: 8080, path: "/missing" } })),
      tcpClosed: supervise(spec(NC, { ...FAST, test: { type: "tcp", port: 9001 } })),
    };
    await Promise.all(Object.values(cases).map((s) => s.ready));
    const times = {
      execOk: await untilHealth(cases.execOk, "healthy"),
      httpOk: await untilHealth(cases.httpOk, "healthy"),
      tcpOk: await untilHealth(cases.tcpOk, "healthy"),
      execFalse: await untilHealth(cases.execFalse, "unhealthy"),
      httpMissing: await untilHealth(cases.httpMissing, "unhealthy"),
      tcpClosed: await untilHealth(cases.tcpClosed, "unhealthy"),
    };
    measured.push(`${kind}: ms from starting to the verdict ${JSON.stringify(times)}`);
    const messageOf = (sup: ContainerSupervisor) => sup.statusFrame().healthMessage;
    expect(messageOf(cases.httpOk)).toBeNull();
    expect(messageOf(cases.execFalse)).toBe("exit code 1");
    expect(messageOf(cases.httpMissing)).toMatch(
      /^GET http:\/\/127\.0\.0\.1:8080\/missing: HTTP 404 Not Found/,
    );
    expect(messageOf(cases.tcpClosed)).toBe("connect to 127.0.0.1:9001: connect ECONNREFUSED 127.0.0.1:9001");
    for (const sup of Object.values(cases)) expect(sup.state).toBe("running");
    const events = reporter.events
      .filter((e) => e.kind === "container.health" && e.containerId === cases.tcpOk.containerId)
      .map((e) => e.data?.health);
    expect(events).toEqual(["starting", "healthy"]);
  });

  it("restartOnUnhealthy restarts an unhealthy container through the restart policy's backoff", async () => {
    const sup = supervise(
      spec("exec sleep 3600", {
        ...FAST,
        restartOnUnhealthy: true,
        test: { type: "exec", command: ["false"] },
      }),
    );
    await sup.ready;
    const firstStart = Date.now();
    const toUnhealthy = await untilHealth(sup, "unhealthy");
    await eventually(
      "a restart",
      async () => sup.restartCount,
      (n) => n >= 1,
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    const restartedAfterMs = Date.now() - firstStart;
    expect(await untilHealth(sup, "unhealthy")).toBeGreaterThan(0);
    await eventually(
      "a second restart",
      async () => sup.restartCount,
      (n) => n >= 2,
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    const kinds = reporter.events.filter((e) => e.containerId === sup.containerId);
    const restarts = kinds.filter((e) => e.kind === "container.restart");
    expect(restarts.map((e) => e.data?.cause)).toEqual(["unhealthy", "unhealthy"]);
    expect(kinds.filter((e) => e.kind === "container.exit").map((e) => e.message)[0]).toMatch(
      /after failing its health check$/,
    );
    const delays = reporter.statuses
      .filter((f) => f.containerId === sup.containerId && f.state === "restarting")
      .map((f) => f.message);
    expect(delays).toEqual(["restarting in 1s", "restarting in 2s"]);
    measured.push(
      `${kind}: restartOnUnhealthy: unhealthy after ${toUnhealthy} ms, first restart ${restartedAfterMs} ms after the start`,
    );
  });
});

afterAll(() => {
  process.stdout.write(`${measured.join("\n")}\n`);
});
