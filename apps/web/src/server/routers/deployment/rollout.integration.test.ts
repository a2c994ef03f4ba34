// Rollouts over HTTP with fake agents whose engines report running/healthy as
// told: maxParallel at a time with the serving invariant sampled throughout,
// a revision that never counts (failure, auto-revert), start-first, canaries
// with promote, pause/resume, rollback, and a central stopped mid-rollout
// whose successor on the same database finishes without replacing a replica
// twice.
import { connectFakeAgent, type FakeAgent } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../../testing/test-server";
import type { AppRouter } from "../_app";
import { createSseTestClient } from "../event/testing/sse-test-client";
import { type SimulatedEngines, simulateEngines, type TDesiredContainer } from "./testing/simulated-engines";

const MIB = 1024 * 1024;
const FAST = { minHealthyTimeMs: 300, healthyDeadlineMs: 2_000, progressDeadlineMs: 10_000 };

/** Containers whose env says MODE=broken crash; the others run and are healthy when they have a check. */
function behave(container: TDesiredContainer) {
  if (container.env.MODE === "broken")
    return { state: "crashloop" as const, health: null, message: "exit 1" };
  if (container.env.MODE === "sick")
    return { state: "running" as const, health: "unhealthy" as const, message: "HTTP 500" };
  return { state: "running" as const, health: container.healthCheck ? ("healthy" as const) : null };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("deployment rollouts", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let port: string;
  let operator: ReturnType<typeof createTestClient>;
  let viewer: ReturnType<typeof createTestClient>;
  let operatorToken: string;
  let viewerToken: string;
  const agents: FakeAgent[] = [];
  let engines: SimulatedEngines;
  let samplers: (() => void)[] = [];

  const start = (reusePort?: string) =>
    startTestServer({
      databaseUrl: getDatabase().url,
      env: { FLEET_OFFLINE_AFTER: "10m", ...(reusePort ? { PORT: reusePort } : {}) },
      tuning: { rolloutTickMs: 40 },
    });

  beforeAll(async () => {
    server = await start();
    port = new URL(server.url).port;
    operatorToken = (await createTestUserWithToken({ db: server.db, role: "operator" })).token;
    viewerToken = (await createTestUserWithToken({ db: server.db, role: "viewer" })).token;
    const admin = createTestClient(server.url, {
      bearer: (await createTestUserWithToken({ db: server.db, role: "admin" })).token,
    });
    operator = createTestClient(server.url, { bearer: operatorToken });
    viewer = createTestClient(server.url, { bearer: viewerToken });
    for (const name of ["roll-a", "roll-b"]) {
      const { token } = await admin.joinToken.create.mutate({});
      agents.push(
        await connectFakeAgent({
          url: server.url,
          joinToken: token,
          name,
          facts: { cpus: 4, memoryBytes: 1024 * MIB, labels: {} },
          reserve: { cpuMillis: 0, memoryBytes: 0 },
          answerOp: (request) =>
            request.op.kind === "image.pull"
              ? { ok: true, result: { digest: `sha256:${"1".repeat(64)}` } }
              : request.op.kind === "image.list"
                ? { ok: true, result: { images: [] } }
                : request.op.kind === "volume.list"
                  ? { ok: true, result: { volumes: [] } }
                  : request.op.kind === "network.list"
                    ? { ok: true, result: { networks: [] } }
                    : { ignore: true },
        }),
      );
    }
    engines = simulateEngines(agents, behave);
  });
  afterEach(() => {
    for (const stop of samplers) stop();
    samplers = [];
  });
  afterAll(async () => {
    engines?.stop();
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
    await server?.close();
  });

  async function deploy(name: string, policy: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const created = await operator.deployment.create.mutate({
      name,
      image: "registry.test/app:1",
      command: ["sleep", "3600"],
      cpus: "0.25",
      memory: "32m",
      env: { MODE: "ok" },
      replicas: 4,
      strategy: "spread",
      policy: { ...FAST, ...policy },
      ...extra,
    });
    await until("4 serving replicas", async () => {
      const got = await viewer.deployment.get.query({ id: created.deployment.id });
      return got.deployment.healthyReplicas === 4;
    });
    return created.deployment.id;
  }

  /** Samples serving replicas (any revision) every 20 ms from the rows; returns the lowest seen. */
  function sampleServing(deploymentId: string) {
    let lowest = Number.POSITIVE_INFINITY;
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        const rows = await server.db.container.findMany({
          where: { deploymentId, removedAt: null },
          select: { actualState: true, health: true },
        });
        const serving = rows.filter((row) =>
          row.health === null ? row.actualState === "running" : row.health === "healthy",
        ).length;
        lowest = Math.min(lowest, serving);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const running = loop();
    const stop = () => {
      stopped = true;
    };
    samplers.push(stop);
    return {
      async lowest() {
        stop();
        await running;
        return lowest;
      },
    };
  }

  const rolloutOf = (id: string) => viewer.deployment.rollout.query({ id });
  const settled = (id: string, states: string[]) =>
    until(`rollout of ${id} in ${states.join("|")}`, async () => {
      const detail = await rolloutOf(id);
      return detail && states.includes(detail.rollout.state) ? detail : null;
    });

  test("stop-first, maxParallel 1: one replica at a time, never fewer than 3 serving; history and diff", async () => {
    const id = await deploy("rolling", { maxParallel: 1 });
    const sampler = sampleServing(id);
    const began = Date.now();
    const updated = await operator.deployment.update.mutate({ id, env: { MODE: "ok", COLOR: "blue" } });
    expect(updated.change).toEqual({ revision: 2, diff: "env +COLOR", dryRun: false });
    const done = await settled(id, ["succeeded", "failed"]);
    const elapsed = Date.now() - began;
    expect(done.rollout.state).toBe("succeeded");
    const lowest = await sampler.lowest();
    expect(lowest).toBeGreaterThanOrEqual(3);
    expect(done.steps).toHaveLength(4);
    expect(done.steps.map((step) => [step.replicaIndex, step.order, step.state])).toEqual([
      [1, "stop-first", "done"],
      [2, "stop-first", "done"],
      [3, "stop-first", "done"],
      [4, "stop-first", "done"],
    ]);
    // One at a time: each replacement started after the one before had counted.
    for (let i = 1; i < done.steps.length; i++) {
      expect(done.steps[i]!.startedAt.getTime()).toBeGreaterThanOrEqual(
        done.steps[i - 1]!.finishedAt!.getTime(),
      );
    }
    console.log(
      `rollout of 4 replicas, maxParallel 1, minHealthyTime ${FAST.minHealthyTimeMs} ms: ${elapsed} ms, ` +
        `${Math.round(elapsed / 4)} ms per replacement, lowest serving ${lowest}`,
    );
    const got = await viewer.deployment.get.query({ id });
    expect(got.deployment).toMatchObject({ revision: 2, updatedReplicas: 4, healthyReplicas: 4 });
    expect(got.deployment.rollout).toMatchObject({ state: "succeeded", fromRevision: 1, toRevision: 2 });
    expect(got.replicas.map((replica) => replica.name)).toEqual([
      "rolling-1",
      "rolling-2",
      "rolling-3",
      "rolling-4",
    ]);

    const history = await viewer.deployment.history.query({ id });
    expect(history.items.map((item) => [item.number, item.diff, item.current, item.rolloutState])).toEqual([
      [2, "env +COLOR", true, "succeeded"],
      [1, "created", false, null],
    ]);

    // The same spec again is no revision; a dry run says what would change and changes nothing.
    const same = await operator.deployment.update.mutate({ id, env: { MODE: "ok", COLOR: "blue" } });
    expect(same.change).toEqual({ revision: null, diff: "", dryRun: false });
    const dry = await operator.deployment.update.mutate({ id, command: "sleep 60", dryRun: true });
    expect(dry.change).toEqual({ revision: null, diff: "command sleep 3600 → sleep 60", dryRun: true });
    expect((await viewer.deployment.get.query({ id })).deployment.revision).toBe(2);
  });

  test("a revision that never counts fails after maxParallel replacements; autoRevert goes back", async () => {
    const id = await deploy("failing", { maxParallel: 1 });
    await operator.deployment.update.mutate({ id, env: { MODE: "broken" } });
    const failed = await settled(id, ["failed"]);
    expect(failed.rollout.reason).toMatch(
      /^failing-1 \(revision 2\) did not keep running for 300ms within 2s: crashloop, exit 1$/,
    );
    expect(failed.steps.map((step) => step.state)).toEqual(["failed"]);
    // Without autoRevert the rollout stops: three replicas stay on revision 1.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stuck = await viewer.deployment.get.query({ id });
    expect(stuck.deployment).toMatchObject({ revision: 2, updatedReplicas: 1, healthyReplicas: 3 });
    const revisions = await server.db.container.findMany({
      where: { deploymentId: id, removedAt: null },
      orderBy: { replicaIndex: "asc" },
      select: { replicaIndex: true, revision: true },
    });
    expect(revisions.map((row) => [row.replicaIndex, row.revision])).toEqual([
      [1, 2],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);

    const reverting = await deploy("reverting", { maxParallel: 1, autoRevert: true });
    const sampler = sampleServing(reverting);
    await operator.deployment.update.mutate({ id: reverting, env: { MODE: "broken" } });
    const reverted = await until("the revert", async () => {
      const got = await viewer.deployment.get.query({ id: reverting });
      return got.deployment.rollout?.state === "reverted" ? got : null;
    });
    expect(reverted.deployment).toMatchObject({ revision: 3, updatedReplicas: 4, healthyReplicas: 4 });
    expect(await sampler.lowest()).toBeGreaterThanOrEqual(3);
    const history = await viewer.deployment.history.query({ id: reverting });
    expect(history.items.map((item) => [item.number, item.diff, item.createdBy, item.rolloutState])).toEqual([
      [3, "revert to revision 1: env ~MODE", "auto-revert", "reverted"],
      [2, "env ~MODE", expect.any(String), "failed"],
      [1, "created", expect.any(String), null],
    ]);
    const events = await server.db.event.findMany({
      where: { deploymentId: reverting, kind: { startsWith: "deployment.rollout" } },
      orderBy: { id: "asc" },
      select: { kind: true },
    });
    expect(events.map((event) => event.kind)).toEqual([
      "deployment.rollout-failed",
      "deployment.rollout-reverted",
    ]);
  });

  test("with a health check, a replacement counts only once healthy; unhealthy ones fail the rollout", async () => {
    const id = await deploy(
      "checked",
      { maxParallel: 2 },
      {
        healthCheck: { test: { type: "http", port: 80, path: "/healthz" }, interval: "1s" },
      },
    );
    const got = await viewer.deployment.get.query({ id });
    expect(got.deployment.healthCheck).toMatchObject({ test: { type: "http", port: 80, path: "/healthz" } });
    await operator.deployment.update.mutate({ id, env: { MODE: "sick" } });
    const failed = await settled(id, ["failed"]);
    expect(failed.rollout.reason).toMatch(
      /^checked-[12] \(revision 2\) did not stay healthy for 300ms within 2s: running, health unhealthy, HTTP 500$/,
    );
    // maxParallel replacements, then it stopped.
    expect(failed.steps).toHaveLength(2);
    // The health check went along with the new revision.
    const revision2 = await server.db.deploymentRevision.findFirstOrThrow({
      where: { deploymentId: id, number: 2 },
      select: { spec: true },
    });
    expect((revision2.spec as { healthCheck: unknown }).healthCheck).toMatchObject({
      test: { type: "http" },
    });
  });

  test("a replacement no host has room for leaves the replicas alone, says why, and fails at the progress deadline", async () => {
    const id = await deploy("stuck", { maxParallel: 1, progressDeadlineMs: 1_500 });
    await operator.deployment.update.mutate({ id, cpus: "8" });
    await until("the problem on the rollout", async () => {
      const detail = await rolloutOf(id);
      return detail?.rollout.state === "running" && detail.rollout.reason?.includes("no host fits");
    });
    const failed = await settled(id, ["failed"]);
    expect(failed.rollout.reason).toMatch(
      /^no replica counted for 1s500ms \(progress deadline\); last problem: .*no host fits/,
    );
    expect(failed.steps).toEqual([]);
    const got = await viewer.deployment.get.query({ id });
    expect(got.deployment).toMatchObject({ revision: 2, updatedReplicas: 0, healthyReplicas: 4 });
  });

  test("start-first keeps 4 serving replicas throughout; watchRollout streams it", async () => {
    const id = await deploy("startfirst", { maxParallel: 1, order: "start-first" });
    const sampler = sampleServing(id);
    const streamed: { id: string | undefined; state: string | undefined; steps: number }[] = [];
    const sse = createSseTestClient<AppRouter>(server.url, viewerToken);
    const subscription = sse.deployment.watchRollout.subscribe(
      { id },
      {
        onData(value) {
          streamed.push({
            id: value.id,
            state: value.data.rollout?.rollout.state,
            steps: value.data.rollout?.steps.length ?? 0,
          });
        },
      },
    );
    // The first message is the state before the update (no rollout yet).
    await until("the subscription's first message", async () => streamed.length > 0);
    await operator.deployment.update.mutate({ id, env: { MODE: "ok", V: "2" } });
    const done = await settled(id, ["succeeded", "failed"]);
    await until("the stream to see the end", async () => streamed.at(-1)?.state === "succeeded");
    subscription.unsubscribe();
    expect(streamed[0]).toMatchObject({ state: undefined, id: "none:1" });
    expect(streamed.map((item) => item.state)).toContain("running");
    expect(Math.max(...streamed.map((item) => item.steps))).toBe(4);
    expect(new Set(streamed.map((item) => item.id)).size).toBe(streamed.length);
    expect(done.rollout.state).toBe("succeeded");
    expect(done.steps.map((step) => step.order)).toEqual([
      "start-first",
      "start-first",
      "start-first",
      "start-first",
    ]);
    expect(await sampler.lowest()).toBeGreaterThanOrEqual(4);
    const got = await viewer.deployment.get.query({ id });
    expect(got.replicas).toHaveLength(4);
    expect(got.deployment.currentReplicas).toBe(4);
  });

  test("canary, promote, pause, resume and rollback", async () => {
    const id = await deploy("canary", { maxParallel: 2, canary: 1 });
    await operator.deployment.update.mutate({ id, env: { MODE: "ok", V: "2" } });
    const waiting = await settled(id, ["awaiting-promotion"]);
    expect(waiting.steps.map((step) => [step.canary, step.state])).toEqual([[true, "done"]]);
    // The canary runs beside the four old replicas.
    expect((await viewer.deployment.get.query({ id })).replicas).toHaveLength(5);
    await operator.deployment.promote.mutate({ id });
    const promoted = await settled(id, ["succeeded", "failed"]);
    expect(promoted.rollout.state).toBe("succeeded");
    expect((await viewer.deployment.get.query({ id })).replicas).toHaveLength(4);

    // Pause holds the rollout where it is; resume finishes it.
    await operator.deployment.update.mutate({
      id,
      env: { MODE: "ok", V: "3" },
      policy: { canary: 0, maxParallel: 1 },
    });
    const paused = await operator.deployment.pause.mutate({ id });
    expect(paused.rollout.state).toBe("paused");
    await new Promise((resolve) => setTimeout(resolve, 600));
    const held = await rolloutOf(id);
    expect(held?.rollout.state).toBe("paused");
    expect(held!.steps.length).toBeLessThanOrEqual(1);
    await operator.deployment.resume.mutate({ id });
    expect((await settled(id, ["succeeded", "failed"])).rollout.state).toBe("succeeded");

    // Rollback to revision 1: a new revision with its spec.
    const back = await operator.deployment.rollback.mutate({ id, toRevision: 1 });
    expect(back.change).toMatchObject({ revision: 4, diff: "rollback to revision 1: env -V" });
    expect((await settled(id, ["succeeded", "failed"])).rollout.state).toBe("succeeded");
    const history = await viewer.deployment.history.query({ id });
    expect(history.items.map((item) => item.number)).toEqual([4, 3, 2, 1]);
    const env = await server.db.container.findMany({
      where: { deploymentId: id, removedAt: null },
      select: { spec: true, revision: true },
    });
    expect(env.map((row) => [(row.spec as { env: Record<string, string> }).env, row.revision])).toEqual(
      Array(4).fill([{ MODE: "ok" }, 4]),
    );
  });

  test("a central stopped mid-rollout resumes on the same database without replacing a replica twice", async () => {
    // The replica in flight waits through the restart and the agents' reconnects: a loaded
    // machine can spend the other tests' 2 s healthy deadline on those alone.
    const id = await deploy("resume", { maxParallel: 1, minHealthyTimeMs: 500, healthyDeadlineMs: 10_000 });
    const sampler = sampleServing(id);
    await operator.deployment.update.mutate({ id, env: { MODE: "ok", V: "2" } });
    await until("two replacements", async () => {
      const detail = await rolloutOf(id);
      return detail && detail.steps.length >= 2;
    });
    await server.close();
    server = await start(port);
    for (const agent of agents) await agent.reconnect();
    operator = createTestClient(server.url, { bearer: operatorToken });
    viewer = createTestClient(server.url, { bearer: viewerToken });
    const done = await settled(id, ["succeeded", "failed"]);
    expect(done.rollout.state).toBe("succeeded");
    expect(done.steps.map((step) => step.replicaIndex)).toEqual([1, 2, 3, 4]);
    // Four replicas made at creation and one replacement each: nothing more.
    expect(await server.db.container.count({ where: { deploymentId: id } })).toBe(8);
    expect(await sampler.lowest()).toBeGreaterThanOrEqual(3);
  });
});
