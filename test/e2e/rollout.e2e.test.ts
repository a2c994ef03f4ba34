// Issue 14, rollouts on real engines: a central as its own process (`npm start`
// on a test database, so it can be SIGKILLed), two hosts (a private dockerd and
// a private Podman, each with its real `fleet-agent`, labelled `engine=…`), and
// a deployment of 4 busybox `httpd` replicas with an HTTP health check on the
// Docker host. One fleet for the whole file and one deployment for steps 1–4,
// in order:
//
// 1. stop-first, maxParallel 1: a rollout to a new revision, measured (time per
//    replacement, lowest healthy count);
// 2. a revision whose health check fails, with autoRevert: the rollout fails
//    after maxParallel replacements naming the replica, then reverts, and the
//    previous spec runs healthy on all 4 again;
// 3. start-first: 4 healthy replicas throughout;
// 4. the central SIGKILLed mid-rollout and started again on the same database:
//    the rollout finishes and no replica is replaced twice;
// 5. step 2 again with a deployment on the Podman host.
//
// A sampler reads the central's own truth (the container rows, through a Prisma
// client of the test's) every 200 ms through each rollout and keeps the
// healthy replicas per revision; the invariant is checked on those samples,
// counting the rollout's old and new revisions (for a revert: the last good
// revision, the failing one and the revert's).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPrismaClient, type PrismaClient } from "@fleet/web/server/db/client";
import { createTestClient } from "@fleet/web/server/testing/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDockerd, startPodman, type TEngineKind, type TestEngine } from "../harness/engines";
import { eventually } from "../harness/eventually";
import { findFreePort } from "../harness/ports";
import { createTestDatabase, type TestDatabase } from "../harness/postgres";
import { buildTestImage, TEST_IMAGE_TAG } from "../harness/test-image";
import { type CentralProcess, ensureCentralBuild, startCentralProcess } from "./harness/central-process";
import { teardownInOrder } from "./harness/teardown";

const REPLICAS = 4;
const MAX_PARALLEL = 1;
const NAME = "web";
const agentBin = fileURLToPath(new URL("../../apps/agent/bin/fleet-agent.js", import.meta.url));

// sh as pid 1 with a TERM trap: a bare httpd as pid 1 ignores SIGTERM and would hold every stop for the
// engine's whole stop timeout.
const HTTPD =
  "trap 'exit 0' TERM; mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www & wait";
/** Short intervals so a verdict takes about a second; the timeout leaves room for a probe child on a busy machine. */
const checkOn = (path: string) => ({
  test: { type: "http" as const, port: 8080, path },
  interval: 300,
  timeout: 3000,
  retries: 2,
});
const POLICY = {
  maxParallel: MAX_PARALLEL,
  minHealthyTimeMs: 1000,
  // Generous: only step 2's failing revision is meant to miss it, and a loaded machine starts slowly.
  healthyDeadlineMs: 60_000,
  progressDeadlineMs: 120_000,
  autoRevert: false,
  order: "stop-first" as const,
};
const SAMPLE_EVERY_MS = 200;
const TERMINAL = new Set(["succeeded", "failed", "reverted", "cancelled"]);

let database: TestDatabase | undefined;
let db: PrismaClient | undefined;
const engines: Partial<Record<TEngineKind, TestEngine>> = {};
let central: CentralProcess | undefined;
let centralOptions: Parameters<typeof startCentralProcess>[0];
const agents: { name: string; child: ChildProcess; output: string }[] = [];
let dataDir = "";
let client: ReturnType<typeof createTestClient>;
const measured: Record<string, unknown>[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function diagnostics(): string {
  return [
    ...agents.map((agent) => `--- agent ${agent.name}:\n${agent.output.slice(-3000)}`),
    `--- central:\n${central?.output().slice(-4000) ?? "(stopped)"}`,
    ...Object.values(engines).map((engine) => `--- engine ${engine.name}:\n${engine.logTail(15)}`),
  ].join("\n");
}

async function withDiagnostics<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof Error) error.message += `\n${diagnostics()}`;
    throw error;
  }
}

beforeAll(async () => {
  await ensureCentralBuild();
  dataDir = await mkdtemp(join(tmpdir(), "fleet-e2e-rollout-"));
  await chmod(dataDir, 0o755);
  const token = `fleet-e2e-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const started = await Promise.allSettled([
    (async () => {
      database = await createTestDatabase();
      db = createPrismaClient(database.url);
      centralOptions = {
        port: await findFreePort(),
        fleetDataDir: join(dataDir, "central"),
        env: {
          DATABASE_URL: database.url,
          FLEET_AGENT_PORT: String(await findFreePort()),
          FLEET_BOOTSTRAP_TOKEN: token,
          FLEET_HEARTBEAT_INTERVAL: "1s",
          FLEET_METRICS_INTERVAL: "5s",
          // Far above the central's absence in step 4: a host marked offline would have its replicas
          // rescheduled, which is not what is tested there.
          FLEET_OFFLINE_AFTER: "60s",
        },
      };
      central = await startCentralProcess(centralOptions);
    })(),
    ...(["docker", "podman"] as const).map(async (kind) => {
      const start = kind === "docker" ? startDockerd : startPodman;
      const engine = await start({ name: `rollout-${kind}` });
      engines[kind] = engine;
      await buildTestImage(engine);
    }),
  ]);
  for (const result of started) if (result.status === "rejected") throw result.reason;
  client = createTestClient((central as CentralProcess).url, { bearer: token });

  for (const [kind, engine] of Object.entries(engines)) {
    const name = `rollout-${kind}`;
    const { token: joinToken } = await client.joinToken.create.mutate({ ttl: "10m" });
    const child = spawn(
      process.execPath,
      [
        agentBin,
        ...["--server", (central as CentralProcess).url, "--join-token", joinToken],
        ...[
          "--engine",
          engine.dockerHost,
          "--cgroup-parent",
          engine.cgroupParent,
          "--label",
          `engine=${kind}`,
        ],
        ...["--state-dir", join(dataDir, name), "--name", name, "--log-level", "info"],
      ],
      // Podman's conmon writes into the working directory it inherits: never the checkout.
      { stdio: ["ignore", "pipe", "pipe"], cwd: dataDir },
    );
    const agent = { name, child, output: "" };
    const keep = (chunk: Buffer) => {
      agent.output = (agent.output + chunk.toString()).slice(-100_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    agents.push(agent);
  }
  await withDiagnostics(
    eventually(
      "both hosts to come online",
      async () => (await client.host.list.query({})).items,
      (hosts) => hosts.filter((h) => h.name.startsWith("rollout-") && h.status === "online").length === 2,
      { timeoutMs: 60_000, intervalMs: 250 },
    ),
  );
});

afterAll(async () => {
  await teardownInOrder("rollout", [
    () =>
      Promise.all(
        agents.map(async ({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, "exit");
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          await exited;
          clearTimeout(timer);
        }),
      ),
    () => central?.stop(),
    () => Promise.all(Object.values(engines).map((engine) => engine.stop())),
    () => db?.$disconnect(),
    () => database?.drop(),
    () => (dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined),
  ]);
});

// ---- the central's truth, sampled ------------------------------------------------------------

interface Sample {
  at: number;
  /** Running, healthy, not removed replicas by the revision they were made from. */
  healthyByRevision: Map<number, number>;
}

interface Sampler {
  stop(): Promise<Sample[]>;
}

function startSampler(deploymentId: string): Sampler {
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const began = Date.now();
      const rows = await (db as PrismaClient).container.findMany({
        where: { deploymentId, removedAt: null },
        select: { revision: true, actualState: true, health: true },
      });
      const healthyByRevision = new Map<number, number>();
      for (const row of rows) {
        if (row.actualState !== "running" || row.health !== "healthy" || row.revision === null) continue;
        healthyByRevision.set(row.revision, (healthyByRevision.get(row.revision) ?? 0) + 1);
      }
      samples.push({ at: began, healthyByRevision });
      await sleep(Math.max(0, SAMPLE_EVERY_MS - (Date.now() - began)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/** The lowest number of healthy replicas on any of `revisions` over the samples. */
function lowestHealthy(samples: Sample[], revisions: number[]): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const sample of samples) {
    const healthy = revisions.reduce(
      (sum, revision) => sum + (sample.healthyByRevision.get(revision) ?? 0),
      0,
    );
    lowest = Math.min(lowest, healthy);
  }
  return lowest;
}

function sampleGaps(samples: Sample[]): number {
  let widest = 0;
  samples.forEach((sample, i) => {
    if (i > 0) widest = Math.max(widest, sample.at - (samples[i - 1] as Sample).at);
  });
  return widest;
}

// ---- rollouts ----------------------------------------------------------------------------------

async function rolloutTo(deploymentId: string, toRevision: number) {
  const rollout = await (db as PrismaClient).rollout.findFirst({
    where: { deploymentId, toRevision },
    orderBy: { createdAt: "desc" },
    include: { steps: { orderBy: { startedAt: "asc" } } },
  });
  if (!rollout) throw new Error(`no rollout to revision ${toRevision}`);
  return rollout;
}

async function untilFinished(deploymentId: string, toRevision: number, timeoutMs = 90_000) {
  return withDiagnostics(
    eventually(
      `the rollout to revision ${toRevision} to finish`,
      () => rolloutTo(deploymentId, toRevision),
      (rollout) => TERMINAL.has(rollout.state),
      { timeoutMs, intervalMs: 200 },
    ),
  );
}

async function replicas(deploymentId: string) {
  return (db as PrismaClient).container.findMany({
    where: { deploymentId, removedAt: null },
    orderBy: { replicaIndex: "asc" },
    select: { name: true, replicaIndex: true, revision: true, actualState: true, health: true, spec: true },
  });
}

async function untilAllHealthyOn(deploymentId: string, revision: number) {
  return withDiagnostics(
    eventually(
      `${REPLICAS} healthy replicas on revision ${revision}`,
      () => replicas(deploymentId),
      (rows) =>
        rows.length === REPLICAS &&
        rows.every(
          (row) => row.revision === revision && row.actualState === "running" && row.health === "healthy",
        ),
      { timeoutMs: 60_000, intervalMs: 200 },
    ),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] as number;
  return sorted.length % 2 ? at(middle) : Math.round((at(middle - 1) + at(middle)) / 2);
}

type TRollout = Awaited<ReturnType<typeof rolloutTo>>;

/**
 * Per replacement: from its step's start (the old replica stopped or the new one placed) until it counted,
 * and until its new replica ran and turned healthy (read once the rollout is over, while it still is).
 */
async function measure(
  label: string,
  rollout: TRollout,
  samples: Sample[],
  lowest: number,
): Promise<Record<string, unknown>> {
  const stepMs = rollout.steps.map((step) => (step.finishedAt as Date).getTime() - step.startedAt.getTime());
  const fresh = await (db as PrismaClient).container.findMany({
    where: {
      id: { in: rollout.steps.flatMap((step) => (step.newContainerId ? [step.newContainerId] : [])) },
    },
    select: { id: true, health: true, healthChangedAt: true, startedAt: true },
  });
  const healthyMs = rollout.steps.map((step) => {
    const row = fresh.find((container) => container.id === step.newContainerId);
    return row?.health === "healthy" && row.healthChangedAt
      ? row.healthChangedAt.getTime() - step.startedAt.getTime()
      : null;
  });
  // When the engine started the new replica, so a slow replacement shows which half was slow.
  const runningMs = rollout.steps.map((step) => {
    const started = fresh.find((container) => container.id === step.newContainerId)?.startedAt;
    return started ? started.getTime() - step.startedAt.getTime() : null;
  });
  const figures = {
    label,
    replicas: REPLICAS,
    maxParallel: MAX_PARALLEL,
    order: rollout.steps[0]?.order,
    minHealthyTimeMs: POLICY.minHealthyTimeMs,
    healthIntervalMs: 300,
    replacementMsMedian: median(stepMs),
    replacementMsMax: Math.max(...stepMs),
    replacementMs: stepMs,
    runningAfterMs: runningMs,
    healthyAfterMs: healthyMs,
    rolloutMs: (rollout.finishedAt as Date).getTime() - rollout.createdAt.getTime(),
    lowestHealthy: lowest,
    samples: samples.length,
    widestSampleGapMs: sampleGaps(samples),
  };
  measured.push(figures);
  process.stderr.write(`rollout e2e measured: ${JSON.stringify(figures)}\n`);
  return figures;
}

async function update(
  deploymentId: string,
  changes: Omit<Parameters<typeof client.deployment.update.mutate>[0], "id">,
) {
  const result = await client.deployment.update.mutate({ id: deploymentId, ...changes });
  const revision = result.change.revision;
  if (revision === null) throw new Error("the update made no revision");
  return revision;
}

async function createOn(kind: TEngineKind, name: string): Promise<string> {
  const { deployment } = await client.deployment.create.mutate({
    name,
    replicas: REPLICAS,
    image: TEST_IMAGE_TAG,
    command: ["sh", "-c", HTTPD],
    memory: "32m",
    cpuRequest: "50m",
    healthCheck: checkOn("/index.html"),
    constraints: `engine=${kind}`,
    policy: POLICY,
  });
  await untilAllHealthyOn(deployment.id, 1);
  return deployment.id;
}

/**
 * Updates to a revision whose health check fails, with autoRevert: the rollout fails after maxParallel
 * replacements naming the replica, then a new revision with the good spec rolls out on all replicas.
 * Returns that revision.
 */
async function failAndRevert(kind: TEngineKind, deploymentId: string, name: string, good: number) {
  const sampler = startSampler(deploymentId);
  const failing = await update(deploymentId, {
    healthCheck: checkOn("/missing"),
    // The revert's rollout keeps this deadline: it must hold a Podman replacement on a loaded machine
    // (3–5 s seen), while the failing rollout waits all of it before it fails.
    policy: { autoRevert: true, healthyDeadlineMs: 10_000 },
  });
  const failed = await untilFinished(deploymentId, failing);
  process.stderr.write(
    `rollout e2e failed rollout [${kind}]: ${JSON.stringify({ state: failed.state, reason: failed.reason, steps: failed.steps.map((step) => `${step.replicaIndex}:${step.state}`) })}\n`,
  );
  expect(failed.state).toBe("failed");
  expect(failed.steps).toHaveLength(MAX_PARALLEL);
  const [step] = failed.steps;
  expect(step?.state).toBe("failed");
  expect(failed.reason).toContain(`${name}-${step?.replicaIndex} (revision ${failing})`);
  expect(failed.reason).toContain("/missing: HTTP 404");

  const reverting = await withDiagnostics(
    eventually(
      "the revert's rollout",
      () =>
        (db as PrismaClient).rollout.findFirst({
          where: { deploymentId, fromRevision: failing },
          orderBy: { createdAt: "desc" },
        }),
      (rollout) => rollout !== null,
      { timeoutMs: 30_000, intervalMs: 200 },
    ),
  );
  const revision = (reverting as NonNullable<typeof reverting>).toRevision;
  const reverted = await untilFinished(deploymentId, revision);
  const samples = await sampler.stop();
  expect(reverted.state, reverted.reason ?? "").toBe("reverted");
  const rows = await untilAllHealthyOn(deploymentId, revision);
  for (const row of rows)
    expect((row.spec as { healthCheck?: { test?: { path?: string } } }).healthCheck?.test?.path).toBe(
      "/index.html",
    );
  const { deployment } = await client.deployment.get.query({ id: deploymentId });
  expect(deployment.revision).toBe(revision);
  expect(deployment.healthCheck?.test).toMatchObject({ type: "http", path: "/index.html" });

  const lowest = lowestHealthy(samples, [good, failing, revision]);
  await measure(`fail-and-revert [${kind}]`, reverted, samples, lowest);
  expect(lowest).toBeGreaterThanOrEqual(REPLICAS - MAX_PARALLEL);
  return revision;
}

describe("rollouts on real engines", () => {
  let id = "";
  let revision = 1;

  it("creates 4 replicas of busybox httpd with an HTTP health check on the Docker host, all healthy", async () => {
    id = await createOn("docker", NAME);
  });

  it("stop-first, maxParallel 1: replaces one replica at a time, never fewer than replicas − maxParallel healthy (measured)", async () => {
    const from = revision;
    const sampler = startSampler(id);
    revision = await update(id, { envAdd: { MODE: "v2" } });
    const rollout = await untilFinished(id, revision);
    const samples = await sampler.stop();
    expect(rollout.state, rollout.reason ?? "").toBe("succeeded");
    expect(rollout.steps.map((step) => step.replicaIndex).sort()).toEqual([1, 2, 3, 4]);
    await untilAllHealthyOn(id, revision);
    const lowest = lowestHealthy(samples, [from, revision]);
    await measure("stop-first [docker]", rollout, samples, lowest);
    expect(sampleGaps(samples)).toBeLessThan(2000);
    expect(lowest).toBeGreaterThanOrEqual(REPLICAS - MAX_PARALLEL);
  });

  it("a revision whose health check fails: the rollout stops after maxParallel replacements naming the replica, and autoRevert brings the previous spec back on all 4", async () => {
    revision = await failAndRevert("docker", id, NAME, revision);
  });

  it("start-first keeps 4 healthy replicas throughout", async () => {
    const from = revision;
    const sampler = startSampler(id);
    revision = await update(id, {
      envAdd: { MODE: "v3" },
      policy: { order: "start-first", autoRevert: false, healthyDeadlineMs: POLICY.healthyDeadlineMs },
    });
    const rollout = await untilFinished(id, revision);
    const samples = await sampler.stop();
    expect(rollout.state, rollout.reason ?? "").toBe("succeeded");
    // No step fell back to stop-first for lack of room.
    expect(rollout.steps.map((step) => [step.order, step.reason])).toEqual(
      Array.from({ length: REPLICAS }, () => ["start-first", null]),
    );
    await untilAllHealthyOn(id, revision);
    const lowest = lowestHealthy(samples, [from, revision]);
    await measure("start-first [docker]", rollout, samples, lowest);
    expect(lowest).toBeGreaterThanOrEqual(REPLICAS);
  });

  it("the central SIGKILLed mid-rollout and started again: the rollout finishes, no replica replaced twice", async () => {
    const from = revision;
    const sampler = startSampler(id);
    revision = await update(id, { envAdd: { MODE: "v4" }, policy: { order: "stop-first" } });
    const target = revision;
    // Killed with one replacement counted and the next one in flight (its old replica stopped, its new
    // one placed): the step the new central finds half done.
    await withDiagnostics(
      eventually(
        "one replacement counted and the next in flight",
        () => rolloutTo(id, target),
        (rollout) =>
          rollout.steps.some((step) => step.state === "done") &&
          rollout.steps.some((step) => step.state === "started"),
        { timeoutMs: 60_000, intervalMs: 50 },
      ),
    );
    await (central as CentralProcess).killHard();
    const atKill = await rolloutTo(id, target);
    central = undefined;
    await sleep(1000);
    central = await startCentralProcess(centralOptions);
    const rollout = await untilFinished(id, target);
    const samples = await sampler.stop();
    expect(atKill.state).toBe("running");
    const inFlight = atKill.steps.filter((step) => step.state === "started").map((step) => step.id);
    expect(inFlight.length).toBeGreaterThan(0);
    // The steps in flight at the kill are the ones that finished, not repeated by new rows.
    for (const stepId of inFlight)
      expect(rollout.steps.find((step) => step.id === stepId)?.state).toBe("done");
    expect(rollout.state, rollout.reason ?? "").toBe("succeeded");

    // One step per replica index, and one container made from the revision per index (removed rows count too).
    const stepsPerIndex = new Map<number, number>();
    for (const step of rollout.steps)
      stepsPerIndex.set(step.replicaIndex, (stepsPerIndex.get(step.replicaIndex) ?? 0) + 1);
    expect(Object.fromEntries(stepsPerIndex)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1 });
    const made = await (db as PrismaClient).container.findMany({
      where: { deploymentId: id, revision: target },
      select: { replicaIndex: true, removedAt: true },
    });
    expect(made.map((row) => row.replicaIndex).sort()).toEqual([1, 2, 3, 4]);
    expect(made.every((row) => row.removedAt === null)).toBe(true);
    await untilAllHealthyOn(id, target);

    // The engine runs exactly the four.
    const running = await (engines.docker as TestEngine).docker.listContainers({
      filters: { label: ["fleet.container-id"] },
    });
    expect(running).toHaveLength(REPLICAS);

    const lowest = lowestHealthy(samples, [from, target]);
    const figures = await measure("stop-first, central killed [docker]", rollout, samples, lowest);
    process.stderr.write(
      `rollout e2e central kill: ${JSON.stringify({
        stepsAtKill: atKill.steps.map((step) => `${step.replicaIndex}:${step.state}`),
        rolloutMs: figures.rolloutMs,
        restartedCentralWarnings: (central as CentralProcess)
          .output()
          .split("\n")
          .filter((line) => /"level":(4|5|6)\d/.test(line))
          .map((line) => line.slice(0, 300)),
      })}\n`,
    );
    expect(lowest).toBeGreaterThanOrEqual(REPLICAS - MAX_PARALLEL);
  });

  it("on Podman too: a failing revision stops after maxParallel replacements, and autoRevert brings the previous spec back on all 4", async () => {
    const name = `${NAME}-podman`;
    const podmanId = await createOn("podman", name);
    await failAndRevert("podman", podmanId, name, 1);
    const running = await (engines.podman as TestEngine).docker.listContainers({
      filters: { label: ["fleet.container-id"] },
    });
    expect(running).toHaveLength(REPLICAS);
  });
});

afterAll(() => {
  process.stderr.write(`rollout e2e measurements: ${JSON.stringify(measured)}\n`);
});
