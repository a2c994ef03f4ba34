// Issue 15's chaos run, bounded: two central replicas behind HAProxy on one
// database, three hosts joined through it (the setup of
// replicas.e2e.test.ts, its own fleet). For 3 minutes one replica chosen at
// random is SIGKILLed every 20 s and started again, while two clients run and
// stop containers through the load balancer (each asking for more CPU than the
// fleet has, so placement keeps meeting full hosts) and a deployment is scaled
// up and down. Afterwards, once everything has settled:
//
// - no host is over-committed: allocated ≤ allocatable in every host row, and
//   the allocated sums are those of the live containers placed there;
// - no deployment replica slot has two live containers, and no engine runs two
//   containers for one slot (or any container twice);
// - every run the API accepted exists exactly once: one row under its name,
//   with the accepted id, and one engine container while it is not removed.
//
// A run whose call died with the replica answering it (the load balancer does
// not replay a write) is asked again under the same name, as a client would:
// its name says whether the first one was made.
import { afterAll, describe, expect, test } from "vitest";
import { managedContainers, sleep, waitFor } from "./fleet/fleet-checks";
import { describeError, httpStatusOf, isRetryable } from "./harness/api-load";
import { type FleetClient, REPLICA_HOST_KEYS, useReplicaFleet } from "./harness/replicas";

const CHAOS_MS = 180_000;
const KILL_EVERY_MS = 20_000;
const SLOT_DEPLOYMENT = "chaos-slots";
const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

const getFleet = useReplicaFleet();
const figures: Record<string, unknown> = {};
afterAll(() => {
  process.stderr.write(`replicas chaos measured: ${JSON.stringify(figures)}\n`);
});

function fleetWait<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  return waitFor(() => getFleet().diagnostics(), what, read, accept, timeoutMs, intervalMs);
}

interface AcceptedRun {
  client: number;
  name: string;
  id: string;
  stopped: boolean;
  removed: boolean;
}

interface ClientFigures {
  runsAccepted: number;
  /** Refused for want of room (or a name already used, when the first try had been made). */
  runsRefused: number;
  /** Calls whose answer was lost with a killed replica, asked again. */
  unknownOutcomes: number;
  retried503: number;
  /** Any other failure. */
  failures: string[];
  /** Runs whose first try was made though its answer was lost, found by name after the retry's refusal. */
  madeBeforeRefusal: string[];
}

/** A call the load balancer could not answer for sure: the replica died with it (502/504, or the connection). */
function outcomeUnknown(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status === 502 || status === 504) return true;
  return status === null && /fetch failed|socket|ECONNRESET|terminated|Unexpected end/i.test(String(error));
}

function codeOf(error: unknown): string | undefined {
  return (error as { data?: { code?: string } } | undefined)?.data?.code;
}

/**
 * One client: runs sleepers of 0.5 CPU under its own names (two clients keeping up to 8 each ask for more
 * than the three hosts' ~5.7 CPUs, so placements keep meeting full hosts), stops some, removes the oldest.
 */
function startClient(index: number, client: FleetClient, image: string, runs: AcceptedRun[]) {
  const counts: ClientFigures = {
    runsAccepted: 0,
    runsRefused: 0,
    unknownOutcomes: 0,
    retried503: 0,
    failures: [],
    madeBeforeRefusal: [],
  };
  let stopped = false;

  /** Retries 503s and unknown outcomes (the attempt number tells `work` it is a retry); other errors are returned. */
  async function call<T>(what: string, work: (attempt: number) => Promise<T>): Promise<T | Error> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work(attempt);
      } catch (error) {
        if (isRetryable(error) || outcomeUnknown(error)) {
          if (outcomeUnknown(error)) counts.unknownOutcomes++;
          else counts.retried503++;
          if (attempt > 200) {
            counts.failures.push(`${what}: still failing: ${describeError(error)}`);
            return error as Error;
          }
          await sleep(250);
          continue;
        }
        return error as Error;
      }
    }
  }

  const loop = (async () => {
    let n = 0;
    while (!stopped) {
      n++;
      const name = `chaos-${index}-${n}`;
      let unknownBefore = false;
      const result = await call(`run ${name}`, async (attempt) => {
        if (attempt > 0) unknownBefore = true;
        return client.container.run.mutate({ name, image, command: SLEEPER, cpus: "0.5", memory: "8m" });
      });
      if (result instanceof Error) {
        const code = codeOf(result);
        // After a try whose answer was lost, the name tells whether it was made: the retry's own
        // refusal may say "no room" (placement is checked before the name) though the first one was.
        const made = unknownBefore
          ? await call(`get ${name}`, () => client.container.get.query({ name }))
          : null;
        if (made !== null && !(made instanceof Error)) {
          runs.push({ client: index, name, id: made.container.id, stopped: false, removed: false });
          counts.runsAccepted++;
          counts.madeBeforeRefusal.push(`${name}: retry answered ${code}`);
        } else if (made instanceof Error && codeOf(made) !== "NOT_FOUND") {
          counts.failures.push(`get ${name}: ${describeError(made)}`);
        } else if (code === "PRECONDITION_FAILED" || code === "CONFLICT" || code === "BAD_REQUEST") {
          counts.runsRefused++;
        } else {
          counts.failures.push(`run ${name}: ${describeError(result)}`);
        }
      } else {
        runs.push({ client: index, name, id: result.container.id, stopped: false, removed: false });
        counts.runsAccepted++;
      }
      const mine = runs.filter((run) => run.client === index && !run.removed);
      // Every third run of ours is stopped (its capacity given back); beyond eight, the oldest is removed.
      const toStop = mine.find((run) => !run.stopped && n % 3 === 0);
      if (toStop) {
        const stopResult = await call(`stop ${toStop.name}`, () =>
          client.container.stop.mutate({ id: toStop.id }),
        );
        if (stopResult instanceof Error)
          counts.failures.push(`stop ${toStop.name}: ${describeError(stopResult)}`);
        else toStop.stopped = true;
      }
      for (const run of mine.slice(0, Math.max(0, mine.length - 8))) {
        const removed = await call(`remove ${run.name}`, () =>
          client.container.remove.mutate({ id: run.id }),
        );
        // Removed already by a try whose answer was lost: NOT_FOUND-like answers count as done.
        if (
          removed instanceof Error &&
          codeOf(removed) !== "PRECONDITION_FAILED" &&
          codeOf(removed) !== "NOT_FOUND"
        ) {
          counts.failures.push(`remove ${run.name}: ${describeError(removed)}`);
        } else run.removed = true;
      }
      await sleep(300);
    }
  })();
  return {
    counts,
    async stop() {
      stopped = true;
      await loop;
      return counts;
    },
  };
}

describe("chaos: a random replica killed every 20 s for 3 minutes", () => {
  test(
    "no host over-committed, no slot held twice, every accepted run exactly once",
    async () => {
      const fleet = getFleet();
      await Promise.all(REPLICA_HOST_KEYS.map((key) => fleet.joinHost(key)));
      await fleetWait(
        "all three hosts online",
        () => fleet.admin.host.list.query({}),
        (list) => list.items.filter((h) => h.status === "online").length === REPLICA_HOST_KEYS.length,
        90_000,
      );
      const { deployment } = await fleet.admin.deployment.create.mutate({
        name: SLOT_DEPLOYMENT,
        replicas: 4,
        image: fleet.image,
        command: SLEEPER,
        cpus: "0.05",
        memory: "8m",
        strategy: "spread",
      });

      const runs: AcceptedRun[] = [];
      const clients = [1, 2].map((index) => startClient(index, fleet.admin, fleet.image, runs));
      const kills: string[] = [];
      const scales: number[] = [];
      let scalesNotDone = 0;
      const began = performance.now();
      try {
        let round = 0;
        while (performance.now() - began < CHAOS_MS) {
          round++;
          const roundStart = performance.now();
          const running = fleet.replicas.filter((replica) => replica.running);
          const victim = running[Math.floor(Math.random() * running.length)];
          if (victim) {
            await victim.kill();
            kills.push(`${Math.round((performance.now() - began) / 1000)}s ${victim.id}`);
            await sleep(1_000 + Math.random() * 3_000);
            await victim.start();
          }
          // The deployment scaled while replicas come and go: rescheduling and scaling meet the kills.
          const replicas = 2 + (round % 4);
          const scaled = await fleet.admin.deployment.scale
            .mutate({ id: deployment.id, replicas })
            .then(() => true)
            .catch((error: unknown) => {
              // No room left by the clients (all or nothing), or a replica gone with the answer.
              if (codeOf(error) === "PRECONDITION_FAILED" || isRetryable(error) || outcomeUnknown(error)) {
                return false;
              }
              throw error;
            });
          if (scaled) scales.push(replicas);
          else scalesNotDone++;
          await sleep(Math.max(0, KILL_EVERY_MS - (performance.now() - roundStart)));
        }
      } finally {
        for (const replica of fleet.replicas) if (!replica.running) await replica.start();
      }
      const counts = await Promise.all(clients.map((client) => client.stop()));

      // Settled: every replica ready, every host online, the deployment at its last scale, running.
      const lastScale = scales.at(-1) ?? 4;
      await fleetWait(
        "every host online",
        () => fleet.admin.host.list.query({}),
        (list) => list.items.every((h) => h.status === "online"),
        60_000,
      );
      await fleetWait(
        `the deployment's ${lastScale} replicas running`,
        () =>
          fleet.db.container.findMany({
            where: { deploymentId: deployment.id, removedAt: null },
            select: { actualState: true },
          }),
        (rows) => rows.length === lastScale && rows.every((row) => row.actualState === "running"),
        90_000,
      );
      // Engines converge on the rows: nothing removed still runs.
      await fleetWait(
        "the engines to hold exactly the live rows",
        async () => {
          const live = await fleet.db.container.findMany({
            where: { removedAt: null, hostId: { not: null } },
            select: { id: true },
          });
          const engines = await Promise.all(
            Object.values(fleet.hosts).map((host) => managedContainers(host.engine)),
          );
          const onEngines = engines.flat().map((c) => c.Labels["fleet.container-id"] ?? "?");
          return { live: live.map((row) => row.id).sort(), onEngines: onEngines.sort() };
        },
        ({ live, onEngines }) => JSON.stringify(live) === JSON.stringify(onEngines),
        90_000,
        1_000,
      );

      // 1. No host over-committed, and the sums are those of the live, running-desired containers.
      const hosts = await fleet.db.host.findMany({
        select: {
          id: true,
          name: true,
          cpuAllocatableMillis: true,
          cpuAllocatedMillis: true,
          memoryAllocatableBytes: true,
          memoryAllocatedBytes: true,
          pidsAllocatable: true,
          pidsAllocated: true,
        },
      });
      const holding = await fleet.db.container.groupBy({
        by: ["hostId"],
        where: { removedAt: null, desiredState: "running", hostId: { not: null } },
        _sum: { cpuRequestMillis: true, memoryRequestBytes: true, pidsRequest: true },
      });
      const overCommitted: string[] = [];
      const sumsOff: string[] = [];
      for (const host of hosts) {
        if (host.cpuAllocatedMillis > host.cpuAllocatableMillis) {
          overCommitted.push(`${host.name} cpu ${host.cpuAllocatedMillis} > ${host.cpuAllocatableMillis}`);
        }
        if (host.memoryAllocatedBytes > host.memoryAllocatableBytes) {
          overCommitted.push(
            `${host.name} memory ${host.memoryAllocatedBytes} > ${host.memoryAllocatableBytes}`,
          );
        }
        if (host.pidsAllocated > host.pidsAllocatable) {
          overCommitted.push(`${host.name} pids ${host.pidsAllocated} > ${host.pidsAllocatable}`);
        }
        const sums = holding.find((group) => group.hostId === host.id)?._sum;
        const cpu = sums?.cpuRequestMillis ?? 0;
        const memory = sums?.memoryRequestBytes ?? 0n;
        if (cpu !== host.cpuAllocatedMillis || memory !== host.memoryAllocatedBytes) {
          sumsOff.push(
            `${host.name}: allocated ${host.cpuAllocatedMillis}m/${host.memoryAllocatedBytes} B, live ${cpu}m/${memory} B`,
          );
        }
      }

      // 2. No slot held twice: in the rows, and on the engines.
      const slotRows = await fleet.db.container.findMany({
        where: { deploymentId: deployment.id },
        select: { id: true, replicaIndex: true, removedAt: true },
      });
      const liveSlots = new Map<number, string[]>();
      for (const row of slotRows.filter((each) => each.removedAt === null)) {
        liveSlots.set(row.replicaIndex ?? -1, [...(liveSlots.get(row.replicaIndex ?? -1) ?? []), row.id]);
      }
      const doubleSlots = [...liveSlots]
        .filter(([, ids]) => ids.length > 1)
        .map(([slot, ids]) => `${slot}: ${ids.join(", ")}`);
      const engineContainers = (
        await Promise.all(Object.values(fleet.hosts).map((host) => managedContainers(host.engine)))
      ).flat();
      const slotOf = new Map(slotRows.map((row) => [row.id, row.replicaIndex]));
      const runningPerSlot = new Map<number, number>();
      const perId = new Map<string, number>();
      for (const container of engineContainers) {
        const id = container.Labels["fleet.container-id"] ?? "?";
        perId.set(id, (perId.get(id) ?? 0) + 1);
        const slot = slotOf.get(id);
        if (slot !== undefined && slot !== null && container.State === "running") {
          runningPerSlot.set(slot, (runningPerSlot.get(slot) ?? 0) + 1);
        }
      }
      const doubleOnEngines = [
        ...[...runningPerSlot]
          .filter(([, count]) => count > 1)
          .map(([slot, count]) => `slot ${slot} runs ${count}×`),
        ...[...perId].filter(([, count]) => count > 1).map(([id, count]) => `${id} on engines ${count}×`),
      ];

      // 3. Every accepted run exactly once.
      const named = await fleet.db.container.findMany({
        where: { name: { startsWith: "chaos-" } },
        select: { id: true, name: true, removedAt: true },
      });
      const runProblems: string[] = [];
      for (const run of runs) {
        const rows = named.filter((row) => row.name === run.name);
        if (rows.length !== 1 || rows[0]?.id !== run.id) {
          runProblems.push(`${run.name}: ${rows.length} rows, accepted as ${run.id}`);
          continue;
        }
        const onEngines = perId.get(run.id) ?? 0;
        if (!run.removed && onEngines !== 1) runProblems.push(`${run.name}: ${onEngines} engine containers`);
      }
      // And nothing made that no client was told of (a write replayed behind the client's back).
      const accepted = new Set(runs.map((run) => run.id));
      const unaccounted = named
        .filter((row) => !accepted.has(row.id) && /^chaos-\d+-\d+$/.test(row.name))
        .map((row) => row.name);

      Object.assign(figures, {
        chaosMs: Math.round(performance.now() - began),
        kills,
        scales,
        scalesNotDone,
        clients: counts.map((c) => ({ ...c, failures: c.failures.length })),
        runs: runs.length,
        overCommitted,
        sumsOff,
        doubleSlots,
        doubleOnEngines,
        runProblems,
        unaccounted,
      });
      expect(kills.length).toBeGreaterThanOrEqual(Math.floor(CHAOS_MS / KILL_EVERY_MS) - 1);
      expect(counts.flatMap((c) => c.failures)).toEqual([]);
      expect(runs.length).toBeGreaterThan(10);
      expect(overCommitted).toEqual([]);
      expect(sumsOff).toEqual([]);
      expect(doubleSlots).toEqual([]);
      expect(doubleOnEngines).toEqual([]);
      expect(runProblems).toEqual([]);
      expect(unaccounted).toEqual([]);
      // The chaos itself, then time to settle and check.
    },
    CHAOS_MS + 180_000,
  );
});
