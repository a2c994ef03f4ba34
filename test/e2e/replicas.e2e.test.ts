// Issue 15, several centrals on one Postgres: two replicas (the built central,
// each its own process) behind HAProxy running deploy/haproxy/haproxy.cfg, a
// private PostgreSQL server this file may stop, and three hosts (two dockerd,
// one Podman, each in its own network namespace with its real agent) joined
// through the load balancer. One fleet for the whole file; the steps run in
// order and build on each other:
//
// 1. the hosts join through HAProxy; both replicas serve; /internal/ is
//    refused from outside; a deployment of one ticker per host runs;
// 2. the replica holding the duties is SIGKILLed: the other holds them within
//    15 s, no host goes offline, no container restarts, container.run through
//    HAProxy works within 5 s, the metrics have no gap beyond a lost batch;
// 3. a run on one replica reaches a host whose agent is connected to the other
//    within 1 s (NOTIFY), measured per run;
// 4. logs follow, an image pull and a volume create, each through the replica
//    that does not hold the host;
// 5. a rolling upgrade (SIGTERM replica 1, start it, then replica 2) under
//    steady API traffic: no failed call but retried 503s, no lost sample, no
//    restart, every accepted run exactly once;
// 6. Postgres stopped for 30 s under the same traffic: 503s meanwhile,
//    nothing lost, no host offline, no restart.
//
// Each step prints `replicas e2e measured: {…}`.

import { CLUSTER_COMPARE_INTERVAL_MS } from "@fleet/web/server/gateway/cluster-sync";
import type { AppRouter } from "@fleet/web/server/routers/_app";
import { recordSubscription } from "@fleet/web/server/routers/event/testing/sse-test-client";
import type { inferRouterOutputs } from "@trpc/server";
import { afterAll, describe, expect, test } from "vitest";
import { pushImage, tagImage } from "../harness/registry";
import { largestGap, managedContainers, sleep, waitFor } from "./fleet/fleet-checks";
import { type AcceptedRun, isRetryable, type LoadFigures, startApiLoad } from "./harness/api-load";
import {
  type CentralReplica,
  REPLICA_HOST_KEYS,
  type ReplicaFleet,
  type ReplicaHost,
  type TReplicaHostKey,
  useReplicaFleet,
} from "./harness/replicas";

type TOutputs = inferRouterOutputs<AppRouter>;
type TPullProgress = { hostId: string; status: string; done: boolean; error?: string };
type TLogLine = TOutputs["container"]["logs"]["lines"][number];

const getFleet = useReplicaFleet();
const measured: Record<string, unknown>[] = [];
afterAll(() => {
  process.stderr.write(`replicas e2e measurements: ${JSON.stringify(measured)}\n`);
});

function record(label: string, figures: Record<string, unknown>): void {
  const entry = { label, ...figures };
  measured.push(entry);
  process.stderr.write(`replicas e2e measured: ${JSON.stringify(entry)}\n`);
}

// What the issue promises, and room for this loaded 2-core machine where it says so.
const TAKEOVER_PROMISE_MS = 15_000;
const RUN_AFTER_KILL_PROMISE_MS = 5_000;
const NOTIFY_PROMISE_MS = 1_000;
const OUTAGE_MS = 30_000;
/** A sample every second: a gap over this means a sample was lost (jitter of a loaded machine allowed). */
const NO_LOST_SAMPLE_GAP_MS = 2_500;
/** A replica killed outright may take the batch it was writing with it: one sample. */
const KILL_GAP_MS = 3_500;

const TICKER = [
  "sh",
  "-c",
  "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done",
];
const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

const hostIds = {} as Record<TReplicaHostKey, string>;
let steadyId: string | null = null;

function fleetWait<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  return waitFor(() => getFleet().diagnostics(), what, read, accept, timeoutMs, intervalMs);
}

function requireJoined(): void {
  if (REPLICA_HOST_KEYS.some((key) => !hostIds[key]))
    throw new Error("step 1 did not bring all three hosts online");
}

function requireSteady(): string {
  requireJoined();
  if (!steadyId) throw new Error("step 1 did not start the steady deployment");
  return steadyId;
}

async function hostRows() {
  return getFleet().db.host.findMany({
    select: { id: true, name: true, status: true, connectedReplica: true, connectionEpoch: true },
    orderBy: { name: "asc" },
  });
}

function otherReplica(fleet: ReplicaFleet, id: string | null): CentralReplica {
  const other = fleet.replicas.find((replica) => replica.id !== id && replica.running);
  if (!other) throw new Error(`no running replica besides ${id}`);
  return other;
}

/** The live containers of the steady deployment, from the rows. */
async function steadyContainers() {
  return getFleet().db.container.findMany({
    where: { deploymentId: requireSteady(), removedAt: null },
    select: { id: true, name: true, hostId: true, engineId: true, actualState: true },
    orderBy: { replicaIndex: "asc" },
  });
}

/** Each running managed container's engine start time, by fleet container id, on every host. */
async function engineStarts(): Promise<Map<string, string>> {
  const fleet = getFleet();
  const starts = new Map<string, string>();
  for (const host of Object.values(fleet.hosts)) {
    for (const listed of await managedContainers(host.engine)) {
      const id = listed.Labels["fleet.container-id"];
      if (!id || listed.State !== "running") continue;
      // Removed between the listing and the inspection (a removal under way): not running.
      const inspected = await host.engine.docker
        .getContainer(listed.Id)
        .inspect()
        .catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode === 404) return null;
          throw error;
        });
      if (inspected) starts.set(id, `${inspected.State.StartedAt} pid ${inspected.State.Pid}`);
    }
  }
  return starts;
}

/** The containers of `before` that are no longer running as they were (restarted or gone), ignoring `except`. */
async function restartedSince(before: Map<string, string>, except: ReadonlySet<string> = new Set()) {
  const now = await engineStarts();
  const changed = [...before]
    .filter(([id]) => !except.has(id))
    .filter(([id, start]) => now.get(id) !== start);
  // A container an earlier step removed may still have been on its way out when `before` was read.
  const removed = await getFleet().db.container.findMany({
    where: { id: { in: changed.map(([id]) => id) }, removedAt: { not: null } },
    select: { id: true },
  });
  const removedIds = new Set(removed.map((row) => row.id));
  return changed
    .filter(([id]) => !removedIds.has(id))
    .map(([id, start]) => `${id}: ${start} → ${now.get(id) ?? "not running"}`);
}

/**
 * The largest gap in each steady container's samples over [from, to] (agent time), once every one of
 * them has a sample at or after `to` (spooled samples arrive late); where it began, in ms after `from`.
 */
async function sampleGaps(
  from: number,
  to: number,
): Promise<Record<string, { gapMs: number; atMs: number }>> {
  const fleet = getFleet();
  const containers = await steadyContainers();
  const ids = containers.map((container) => container.id);
  const rows = await fleetWait(
    "every steady container's samples to reach the end of the window",
    () =>
      fleet.db.containerSample.findMany({
        where: { containerId: { in: ids }, ts: { gte: new Date(from - 2_000) } },
        select: { containerId: true, ts: true },
      }),
    (samples) => ids.every((id) => samples.some((s) => s.containerId === id && s.ts.getTime() >= to)),
    60_000,
    500,
  );
  const gaps: Record<string, { gapMs: number; atMs: number }> = {};
  for (const container of containers) {
    const times = rows.filter((row) => row.containerId === container.id).map((row) => row.ts.getTime());
    const gap = largestGap(times, from, to);
    gaps[container.name] = { gapMs: gap.gapMs, atMs: gap.at - from };
  }
  return gaps;
}

function expectGapsAtMost(gaps: Record<string, { gapMs: number }>, limitMs: number): void {
  for (const [name, { gapMs }] of Object.entries(gaps)) expect(gapMs, name).toBeLessThanOrEqual(limitMs);
}

/** Polls host rows until each of `hostIdsToWatch` is held by a replica other than `gone` and online; ms per host name. */
async function reconnectTimes(gone: string, hostIdsToWatch: string[], since: number, timeoutMs = 30_000) {
  const times: Record<string, number> = {};
  await fleetWait(
    `the hosts held by ${gone} to be held by another replica`,
    async () => {
      const rows = await hostRows();
      for (const row of rows) {
        if (!hostIdsToWatch.includes(row.id) || times[row.name] !== undefined) continue;
        if (row.connectedReplica && row.connectedReplica !== gone && row.status === "online") {
          times[row.name] = Math.round(performance.now() - since);
        }
      }
      return Object.keys(times).length;
    },
    (count) => count === hostIdsToWatch.length,
    timeoutMs,
    50,
  );
  return times;
}

/** Samples the hosts' statuses from the rows until stopped; returns every (host, status) that was not online. */
function watchHostStatus(): { stop(): Promise<string[]> } {
  const seen: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const row of await hostRows()) {
          if (row.status !== "online") seen.push(`${row.name} ${row.status} at ${new Date().toISOString()}`);
        }
      } catch {
        // the database is away (step 6): the events tell afterwards
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** A replica's `/readyz` status (0 when it does not answer). */
async function readyz(replica: CentralReplica): Promise<number> {
  return fetch(`${replica.url}/readyz`)
    .then((response) => response.status)
    .catch(() => 0);
}

/** Every accepted run's row and engine container: exactly one row each, and one engine container for those not removed. */
async function checkAcceptedRuns(runs: AcceptedRun[]): Promise<string[]> {
  const fleet = getFleet();
  const problems: string[] = [];
  const rows = await fleet.db.container.findMany({
    where: { name: { in: runs.map((run) => run.name) } },
    select: { id: true, name: true, removedAt: true, actualState: true },
  });
  const onEngines = new Map<string, number>();
  for (const host of Object.values(fleet.hosts)) {
    for (const listed of await managedContainers(host.engine)) {
      const id = listed.Labels["fleet.container-id"] ?? "";
      onEngines.set(id, (onEngines.get(id) ?? 0) + 1);
    }
  }
  for (const run of runs) {
    const named = rows.filter((row) => row.name === run.name);
    if (named.length !== 1 || named[0]?.id !== run.id) {
      problems.push(
        `${run.name}: ${named.length} rows (${named.map((row) => row.id).join(", ")}), accepted as ${run.id}`,
      );
      continue;
    }
    const engines = onEngines.get(run.id) ?? 0;
    if (!run.removed && engines !== 1) problems.push(`${run.name}: ${engines} engine containers`);
    if (run.removed && engines !== 0 && named[0]?.removedAt === null) {
      problems.push(`${run.name}: removed, yet its row is live with ${engines} engine containers`);
    }
  }
  return problems;
}

/** `checkAcceptedRuns` once the engines have caught up with the last runs (or its problems after 30 s). */
async function acceptedRunProblems(runs: AcceptedRun[]): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const problems = await checkAcceptedRuns(runs);
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await sleep(500);
  }
}

async function removeRuns(runs: AcceptedRun[]): Promise<void> {
  const fleet = getFleet();
  for (const run of runs.filter((each) => !each.removed)) {
    await fleet.admin.container.remove.mutate({ id: run.id });
    run.removed = true;
  }
  // Gone from the engines too, or the next step would count a removal still under way as a restart.
  const ids = runs.map((run) => run.id);
  await fleetWait(
    "removed runs gone from the engines",
    engineStarts,
    (starts) => ids.every((id) => !starts.has(id)),
    30_000,
  );
}

function loadSummary(figures: LoadFigures) {
  return {
    calls: figures.calls,
    retried503: figures.retried503,
    failures: figures.failures.length,
    runsAccepted: figures.runs.length,
    slowestCallMs: figures.slowestCallMs,
  };
}

describe("several centrals behind HAProxy", () => {
  test("1. hosts join through HAProxy and are spread over both replicas; /internal/ is refused outside; a ticker runs on every host", async () => {
    const fleet = getFleet();
    const started = performance.now();
    await Promise.all(REPLICA_HOST_KEYS.map((key) => fleet.joinHost(key)));
    const online = await fleetWait(
      "all three hosts to come online",
      () => fleet.admin.host.list.query({}),
      (list) => list.items.filter((h) => h.status === "online").length === REPLICA_HOST_KEYS.length,
      90_000,
    );
    for (const key of REPLICA_HOST_KEYS) {
      const host = online.items.find((h) => h.name === fleet.hosts[key].name);
      if (!host) throw new Error(`host ${key} is not listed`);
      hostIds[key] = host.id;
      fleet.hosts[key].id = host.id;
    }
    const joinedMs = Math.round(performance.now() - started);

    // Each host is held by one of the replicas (the row says which); leastconn spreads them.
    const rows = await fleetWait(
      "every host row to name the replica holding it",
      hostRows,
      (list) => list.every((row) => row.connectedReplica !== null),
      15_000,
    );
    const replicaIds = fleet.replicas.map((replica) => replica.id);
    for (const row of rows) expect(replicaIds).toContain(row.connectedReplica);

    // Both replicas ready, both up at the load balancer, and both get requests through it.
    for (const replica of fleet.replicas) expect(await readyz(replica)).toBe(200);
    const states = await fleet.lb.states();
    for (const replica of fleet.replicas) {
      expect(states[`centrals/${replica.id}`]).toBe("UP");
      expect(states[`agent_ports/${replica.id}`]).toBe("UP");
    }
    const servedBefore = await servedCounts();
    for (let i = 0; i < 6; i++) await fleet.admin.host.list.query({});
    const servedAfter = await servedCounts();
    for (const replica of fleet.replicas) {
      expect(servedAfter[replica.id] ?? 0, replica.id).toBeGreaterThan(servedBefore[replica.id] ?? 0);
    }

    // The replicas' own endpoint is refused at the load balancer, however the path is spelled…
    for (const path of ["/internal/agent-ops", "/internal", "/INTERNAL/agent-ops", "/internal/jobs/watch"]) {
      const response = await fetch(`${fleet.lb.url}${path}`, { method: "POST", body: "{}" });
      expect(response.status, path).toBe(403);
    }
    // …and a replica asked directly without the cluster secret refuses too.
    const direct = await fetch(`${fleet.replicas[0]?.url}/internal/agent-ops`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect([401, 403]).toContain(direct.status);

    // The image onto every host (through the load balancer: the watch may land on the other replica).
    const { jobId } = await fleet.adminSse.image.pull.mutate({ image: fleet.image, all: true });
    const pull = recordSubscription<TPullProgress>((handlers) =>
      fleet.adminSse.image.watchPull.subscribe({ jobId }, handlers),
    );
    await pull.waitForEnd(120_000);
    const finals = pull.items.map((item) => item.data).filter((progress) => progress.done);
    expect(finals.map((p) => [p.hostId, p.status]).sort()).toEqual(
      REPLICA_HOST_KEYS.map((key) => [hostIds[key], "pulled"]).sort(),
    );

    const { deployment } = await fleet.admin.deployment.create.mutate({
      name: "steady",
      replicas: REPLICA_HOST_KEYS.length,
      image: fleet.image,
      command: TICKER,
      cpus: "0.05",
      memory: "16m",
      strategy: "spread",
    });
    steadyId = deployment.id;
    await fleetWait(
      "one steady ticker running on every host",
      steadyContainers,
      (list) =>
        list.length === REPLICA_HOST_KEYS.length &&
        list.every((c) => c.actualState === "running" && c.engineId !== null) &&
        new Set(list.map((c) => c.hostId)).size === REPLICA_HOST_KEYS.length,
      90_000,
      300,
    );
    // Samples of every ticker before the steps measure their gaps.
    const tickers = (await steadyContainers()).map((container) => container.id);
    await fleetWait(
      "three samples of every ticker",
      () =>
        fleet.db.containerSample.groupBy({
          by: ["containerId"],
          where: { containerId: { in: tickers } },
          _count: true,
        }),
      (groups) => groups.length === tickers.length && groups.every((group) => group._count >= 3),
      30_000,
      500,
    );
    record("join through haproxy", {
      joinedMs,
      heldBy: Object.fromEntries(rows.map((row) => [row.name, row.connectedReplica])),
    });
  });

  /** Requests each replica's HTTP server took through the load balancer so far (HAProxy's session totals). */
  async function servedCounts(): Promise<Record<string, number>> {
    const csv = await fetch(`${getFleet().lb.statsUrl};csv`).then((response) => response.text());
    const [header, ...lines] = csv.trim().split("\n");
    const columns = (header ?? "").replace(/^# /, "").split(",");
    const counts: Record<string, number> = {};
    for (const line of lines) {
      const cells = line.split(",");
      if (cells[columns.indexOf("pxname")] !== "centrals") continue;
      counts[cells[columns.indexOf("svname")] ?? ""] = Number(cells[columns.indexOf("stot")]);
    }
    return counts;
  }

  test("2. the replica holding the duties SIGKILLed: the other holds them within 15 s, no host offline, no restart, container.run works within 5 s, no gap beyond a lost batch", async () => {
    requireSteady();
    const fleet = getFleet();
    const lease = await fleetWait(
      "a replica to hold the duties",
      fleet.dutyLease,
      (row) => row !== null,
      20_000,
    );
    const victim = fleet.replica(lease?.holder);
    const survivor = otherReplica(fleet, victim.id);
    const before = await engineStarts();
    const heldByVictim = (await hostRows()).filter((row) => row.connectedReplica === victim.id);
    const statuses = watchHostStatus();
    const windowFrom = Date.now();
    await sleep(3_000);

    const killedAt = performance.now();
    const killedAtWall = Date.now();
    await victim.kill();
    try {
      await afterTheKill();
    } finally {
      if (!victim.running) await victim.start();
    }

    async function afterTheKill() {
      const takeover = (async () => {
        const row = await fleetWait(
          "another replica to hold the duties",
          fleet.dutyLease,
          (current) => current !== null && current.holder !== victim.id,
          TAKEOVER_PROMISE_MS + 15_000,
          100,
        );
        return { ms: Math.round(performance.now() - killedAt), holder: row?.holder, token: row?.token };
      })();
      const reconnects = reconnectTimes(
        victim.id,
        heldByVictim.map((row) => row.id),
        killedAt,
      );
      // A run on the host the dead replica held (when it held one), through the load balancer.
      const target = heldByVictim[0]?.name ?? fleet.hosts.a.name;
      const targetKey = (Object.values(fleet.hosts).find((h) => h.name === target) as ReplicaHost).key;
      const run = (async () => {
        let attempts = 0;
        for (;;) {
          attempts++;
          try {
            const result = await fleet.admin.container.run.mutate({
              name: "after-kill",
              image: fleet.image,
              command: SLEEPER,
              cpus: "0.01",
              memory: "8m",
              constraints: `zone=${fleet.hosts[targetKey].zone}`,
            });
            const acceptedMs = Math.round(performance.now() - killedAt);
            const running = await fleetWait(
              "the run after the kill to be running",
              () => fleet.admin.container.get.query({ id: result.container.id }),
              ({ container }) => container.actualState === "running",
              30_000,
              100,
            );
            return {
              id: result.container.id,
              acceptedMs,
              attempts,
              runningMs: Math.round(performance.now() - killedAt),
              container: running.container,
            };
          } catch (error) {
            if (performance.now() - killedAt > 30_000) throw error;
            process.stderr.write(
              `replicas e2e: container.run after the kill failed (${String(error)}); again\n`,
            );
            await sleep(200);
          }
        }
      })();
      const [took, reconnected, ran] = await Promise.all([takeover, reconnects, run]);
      const targetHost = fleet.hosts[targetKey];
      const engineStarted = (
        await targetHost.engine.docker.getContainer(ran.container.engineId as string).inspect()
      ).State.StartedAt;

      // Long enough past the kill for a sweeper that wrongly counted the dead replica's hosts to act.
      await sleep(Math.max(0, 16_000 - (performance.now() - killedAt)));
      const notOnline = await statuses.stop();
      const restarted = await restartedSince(before);
      const gaps = await sampleGaps(windowFrom, killedAtWall + 15_000);
      record("duty holder SIGKILLed", {
        killed: victim.id,
        takeoverMs: took.ms,
        newHolder: took.holder,
        leaseToken: `${lease?.token} → ${took.token}`,
        agentReconnectMs: reconnected,
        runAcceptedMs: ran.acceptedMs,
        runAttempts: ran.attempts,
        runRunningMs: ran.runningMs,
        runEngineStartedMs: Date.parse(engineStarted) - killedAtWall,
        runHost: ran.container.hostName,
        largestSampleGapMs: gaps,
      });
      expect(took.holder).toBe(survivor.id);
      expect(took.ms).toBeLessThan(TAKEOVER_PROMISE_MS);
      expect(ran.acceptedMs).toBeLessThan(RUN_AFTER_KILL_PROMISE_MS);
      expect(ran.runningMs).toBeLessThan(RUN_AFTER_KILL_PROMISE_MS);
      expect(notOnline).toEqual([]);
      expect(restarted).toEqual([]);
      expectGapsAtMost(gaps, KILL_GAP_MS);
      await fleet.admin.container.remove.mutate({ id: ran.id });
    }
  });

  test("3. a run on one replica reaches a host whose agent is connected to the other within 1 s (NOTIFY)", async () => {
    requireJoined();
    const fleet = getFleet();
    const latencies: number[] = [];
    const fromCall: number[] = [];
    const made: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const key of REPLICA_HOST_KEYS) {
        const host = fleet.hosts[key];
        const row = (await hostRows()).find((each) => each.id === hostIds[key]);
        const other = otherReplica(fleet, row?.connectedReplica ?? null);
        expect(row?.connectedReplica).not.toBe(other.id);
        const calledAt = Date.now();
        const { container } = await other.client.container.run.mutate({
          name: `notify-${key}-${round}`,
          image: fleet.image,
          command: SLEEPER,
          cpus: "0.01",
          memory: "8m",
          constraints: `zone=${host.zone}`,
        });
        const answeredAt = Date.now();
        made.push(container.id);
        // When the engine made the container: the agent creates it as soon as the desired set arrives
        // (the image is there already), so this is the set's arrival, plus one engine call.
        const created = await fleetWait(
          `notify-${key}-${round} to be created on ${host.name}`,
          async () => {
            const listed = await host.engine.docker.listContainers({
              all: true,
              filters: { label: [`fleet.container-id=${container.id}`] },
            });
            if (!listed[0]) return null;
            // Listed, then gone before the inspect (the agent replaced a create that failed): look again.
            return host.engine.docker
              .getContainer(listed[0].Id)
              .inspect()
              .then((inspected) => inspected.Created)
              .catch(() => null);
          },
          (value) => value !== null,
          15_000,
          20,
        );
        latencies.push(Date.parse(created as string) - answeredAt);
        fromCall.push(Date.parse(created as string) - calledAt);
      }
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    record("desired set across replicas (NOTIFY)", {
      runs: latencies.length,
      answerToCreatedMs: latencies,
      callToCreatedMs: fromCall,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.at(-1),
    });
    for (const id of made) await fleet.admin.container.remove.mutate({ id });
    // Without NOTIFY a set would wait for the comparison every CLUSTER_COMPARE_INTERVAL_MS, spread evenly over
    // that interval, so a median under the promise tells the wake-up worked; single runs on a loaded machine
    // may overshoot the promise, but none may wait for the comparison.
    expect(at(0.5)).toBeLessThan(NOTIFY_PROMISE_MS);
    for (const latency of latencies) expect(latency).toBeLessThan(CLUSTER_COMPARE_INTERVAL_MS);
  });

  test("4. logs follow, an image pull and a volume create, each through the replica that does not hold the host", async () => {
    requireSteady();
    const fleet = getFleet();
    const host = fleet.hosts.b;
    const row = (await hostRows()).find((each) => each.id === hostIds.b);
    const other = otherReplica(fleet, row?.connectedReplica ?? null);
    const ticker = (await steadyContainers()).find((container) => container.hostId === hostIds.b);
    if (!ticker) throw new Error(`no steady ticker on ${host.name}`);

    // Logs, followed: new lines keep arriving through the replica that only relays them.
    const followedAt = performance.now();
    const follow = recordSubscription<TLogLine>((handlers) =>
      other.sse.container.logsFollow.subscribe({ id: ticker.id, tail: 0 }, handlers),
    );
    try {
      const lines = await follow.waitFor((items) => items.length >= 5, 20_000);
      expect(lines.every((line) => /^tick \d+$/.test(line.line.trim()))).toBe(true);
    } finally {
      follow.unsubscribe();
    }
    const followMs = Math.round(performance.now() - followedAt);

    // An image pull: a tag the host has never had, pushed from host a's engine.
    const image = `${fleet.registry.host}/fleet-test/busybox:routed`;
    await tagImage(fleet.hosts.a.engine, fleet.image, image);
    await pushImage(fleet.hosts.a.engine, image);
    await expect(host.engine.docker.getImage(image).inspect()).rejects.toThrow();
    const pullAt = performance.now();
    const { jobId } = await other.sse.image.pull.mutate({ image, hostIds: [hostIds.b] });
    const pull = recordSubscription<TPullProgress>((handlers) =>
      other.sse.image.watchPull.subscribe({ jobId }, handlers),
    );
    await pull.waitForEnd(60_000);
    const final = pull.items.map((item) => item.data).find((progress) => progress.done);
    expect(final, JSON.stringify(pull.items.map((item) => item.data))).toMatchObject({ status: "pulled" });
    expect((await host.engine.docker.getImage(image).inspect()).Id).toMatch(/^sha256:/);
    const pullMs = Math.round(performance.now() - pullAt);

    // A volume, made on the host's engine.
    const volumeAt = performance.now();
    await other.client.volume.create.mutate({ hostId: hostIds.b, name: "routed-volume" });
    const volume = await host.engine.docker.getVolume("routed-volume").inspect();
    expect(volume.Name).toBe("routed-volume");
    const volumeMs = Math.round(performance.now() - volumeAt);
    record("operations through the replica not holding the host", {
      host: host.name,
      heldBy: row?.connectedReplica,
      calledOn: other.id,
      followFirstFiveLinesMs: followMs,
      pullMs,
      volumeCreateMs: volumeMs,
    });
  });

  test("5. a rolling upgrade (SIGTERM replica 1, start it, then replica 2) under steady API traffic: only retried 503s, no lost sample, no restart, every accepted run exactly once", async () => {
    requireSteady();
    const fleet = getFleet();
    const before = await engineStarts();
    const statuses = watchHostStatus();
    const windowFrom = Date.now();
    const load = startApiLoad({ client: fleet.admin, image: fleet.image, prefix: "rolling" });
    const replaced: Record<string, unknown>[] = [];
    try {
      await sleep(2_000);
      for (const replica of fleet.replicas) {
        const held = (await hostRows()).filter((row) => row.connectedReplica === replica.id);
        const stoppedAt = performance.now();
        const reconnects = reconnectTimes(
          replica.id,
          held.map((row) => row.id),
          stoppedAt,
        );
        const exit = await replica.terminate();
        const reconnected = await reconnects;
        await sleep(1_000);
        const startAt = performance.now();
        await replica.start();
        replaced.push({
          replica: replica.id,
          exit: exit.code,
          stopMs: exit.ms,
          agentReconnectMs: reconnected,
          startMs: Math.round(performance.now() - startAt),
        });
        expect(exit.code, replica.output().slice(-3000)).toBe(0);
        await sleep(2_000);
      }
    } finally {
      await load.stop();
    }
    const figures = load.figures;
    const notOnline = await statuses.stop();
    const windowTo = Date.now() - 2_000;
    const gaps = await sampleGaps(windowFrom, windowTo);
    const restarted = await restartedSince(before, new Set(figures.runs.map((run) => run.id)));
    const runProblems = await acceptedRunProblems(figures.runs);
    record("rolling upgrade", {
      replaced,
      load: loadSummary(figures),
      largestSampleGapMs: gaps,
      notOnline,
      restarted,
      runProblems,
    });
    expect(figures.failures).toEqual([]);
    expect(figures.runs.length).toBeGreaterThan(0);
    expect(runProblems).toEqual([]);
    expect(notOnline).toEqual([]);
    expect(restarted).toEqual([]);
    expectGapsAtMost(gaps, NO_LOST_SAMPLE_GAP_MS);
    await removeRuns(figures.runs);
  });

  test("6. Postgres stopped for 30 s under the same traffic: the API answers 503 meanwhile; nothing lost, no host offline, no restart", async () => {
    requireSteady();
    const fleet = getFleet();
    const before = await engineStarts();
    const windowFrom = Date.now();
    const load = startApiLoad({ client: fleet.admin, image: fleet.image, prefix: "outage" });
    let during: Record<string, unknown> = {};
    let stoppedAtWall = 0;
    let startedAtWall = 0;
    try {
      await sleep(2_000);
      stoppedAtWall = Date.now();
      fleet.postgres.stop();
      const stoppedAt = performance.now();
      // Seen from outside a few seconds in: both replicas not ready, the API 503 through the load balancer.
      await sleep(5_000);
      const readiness = await Promise.all(fleet.replicas.map(readyz));
      const apiStatus = await fetch(`${fleet.lb.url}/api/trpc/host.list`, {
        headers: { authorization: `Bearer ${fleet.token}` },
      }).then((response) => response.status);
      const direct = await fleet.replicas[0]?.client.host.list.query({}).then(
        () => "answered",
        (error: unknown) => (isRetryable(error) ? "503" : String(error)),
      );
      const lbStates = await fleet.lb.states();
      during = { readyz: readiness, apiThroughLb: apiStatus, apiDirect: direct, lbStates };
      await sleep(Math.max(0, OUTAGE_MS - (performance.now() - stoppedAt)));
      fleet.postgres.start();
      startedAtWall = Date.now();
      const back = performance.now();
      await fleetWait(
        "both replicas ready again",
        () => Promise.all(fleet.replicas.map(readyz)),
        (statuses) => statuses.every((status) => status === 200),
        60_000,
      );
      const readyMs = Math.round(performance.now() - back);
      for (const replica of fleet.replicas) await fleet.lb.until(replica.index, "UP");
      await fleetWait(
        "every host online and held again",
        hostRows,
        (rows) => rows.every((row) => row.status === "online" && row.connectedReplica !== null),
        60_000,
      );
      during = { ...during, readyAgainMs: readyMs, hostsBackMs: Math.round(performance.now() - back) };
      await sleep(3_000);
    } finally {
      if (!fleet.postgres.running) fleet.postgres.start();
      await load.stop();
    }
    const figures = load.figures;
    const offlineEvents = await fleet.db.event.findMany({
      where: { kind: "host.offline", ts: { gte: new Date(windowFrom) } },
      select: { hostId: true, ts: true, message: true },
    });
    const gaps = await sampleGaps(windowFrom, Date.now() - 2_000);
    const restarted = await restartedSince(before, new Set(figures.runs.map((run) => run.id)));
    const runProblems = await acceptedRunProblems(figures.runs);
    record("postgres outage", {
      outageMs: startedAtWall - stoppedAtWall,
      during,
      load: loadSummary(figures),
      largestSampleGapMs: gaps,
      offlineEvents,
      restarted,
      runProblems,
    });
    expect(during).toMatchObject({ readyz: [503, 503], apiThroughLb: 503, apiDirect: "503" });
    expect(figures.failures).toEqual([]);
    expect(figures.retried503).toBeGreaterThan(0);
    expect(runProblems).toEqual([]);
    expect(offlineEvents).toEqual([]);
    expect(restarted).toEqual([]);
    expectGapsAtMost(gaps, NO_LOST_SAMPLE_GAP_MS);
    await removeRuns(figures.runs);
  });
});
