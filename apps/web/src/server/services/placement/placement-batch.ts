// Group commit for placements asked for one call at a time (container.run):
// calls that arrive while a placement transaction runs wait here, and when
// it ends they are placed together in one transaction, each on its own terms
// (all of its drafts or none, its own CONFLICT or PRECONDITION_FAILED).
//
// The batch schedules on an unlocked read of the cluster, then locks only the
// hosts it chose, in id order, and checks under those locks, with the
// scheduler's own filter, that everything the batch puts on each host still
// fits it. A host that changed in between (another central, a removal, a
// host going offline) is taken as it now is and the calls that had chosen it
// are planned again, a few rounds at most: optimistic concurrency verified
// under lock, as Nomad's plan applier does. Every host written is locked and
// checked by this transaction, as on the path that locks every candidate, so
// the two never over-commit a host together, from any number of centrals.
import { volumeNamesOf } from "@fleet/shared/domain/container-spec";
import { formatLabelSelector } from "@fleet/shared/label-selector";
import { ClusterView } from "@fleet/shared/scheduler/cluster-view";
import { usedHostPortsOf } from "@fleet/shared/scheduler/host-ports";
import { schedule } from "@fleet/shared/scheduler/schedule";
import { scheduleMany } from "@fleet/shared/scheduler/schedule-many";
import type {
  PlacementRequest,
  PlacementStrategy,
  PlacementSuccess,
  SchedulerHost,
} from "@fleet/shared/scheduler/types";
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { assertTemplateBindMounts } from "./bind-mount-check";
import { generateContainerNames, liveNamesAmong } from "./container-names";
import {
  decisionOf,
  noFitError,
  PLACEMENT_TRANSACTION_OPTIONS,
  parseConstraints,
  placeDrafts,
  placementRequestOf,
  type RunPlacementOptions,
  runPlacement,
  runPlacementTransaction,
  type TContainerDraft,
  type TPlacedRow,
  type TPlacementWrite,
  withRows,
  writePlacements,
} from "./place-containers";
import { applyPlacementEffectsInBackground, PlacementEffects } from "./placement-effects";
import { lockSchedulerHosts, readPlacementCluster, type TTransaction } from "./placement-lock";
import { queuePlacement } from "./placement-queue";
import { withTransactionRetry } from "./transaction-retry";

/** Calls placed together at most; the rest wait for the next transaction. */
const MAX_BATCH = 256;
/** Rounds of locking chosen hosts before the batch gives up and places its calls one at a time. */
const MAX_LOCK_ROUNDS = 5;

export type TPlaceContainersOptions = RunPlacementOptions & {
  drafts: readonly TContainerDraft[];
  strategy: PlacementStrategy;
  constraints: string;
  avoidHostIds?: readonly string[];
};

interface TCall {
  options: TPlaceContainersOptions;
  requests: PlacementRequest[];
  /** The constraints as stored: parsed and formatted again. */
  constraints: string;
  resolve(placed: TPlacedRow[]): void;
  reject(error: unknown): void;
}

type TOutcome = { ok: true; placed: TPlacedRow[] } | { ok: false; error: unknown };

interface TBatchResult {
  outcomes: TOutcome[];
  effects: PlacementEffects[];
}

// Keyed by client, as the queue is: one central has one client, one bus and one gateway.
const batchers = new WeakMap<PrismaClient, { calls: TCall[]; queued: boolean }>();

/**
 * Places containers made from drafts, all or nothing, in one transaction with
 * the other calls waiting at the time; answers once committed, and the chosen
 * hosts' desired sets are pushed right after. Throws PRECONDITION_FAILED
 * (nothing written) when one fits nowhere, CONFLICT when a given name is taken.
 */
export async function placeContainers(options: TPlaceContainersOptions): Promise<TPlacedRow[]> {
  const { drafts } = options;
  if (drafts.length === 0) return [];
  // A named volume that exists nowhere is created where its first container
  // goes and every later one must follow it: that takes a decision over every
  // candidate host, all of them locked.
  if (drafts.some((draft) => volumeNamesOf(draft.template.mounts).length > 0)) {
    return runPlacement(options, async (ctx) => withRows(ctx.tx, await placeDrafts(ctx, options)));
  }
  for (const template of new Set(drafts.map((draft) => draft.template))) {
    await assertTemplateBindMounts(options.db, template);
  }
  const requirements = parseConstraints(options.constraints);
  const requests = drafts.map((draft) =>
    placementRequestOf(draft.template, {
      strategy: options.strategy,
      constraints: requirements,
      avoidHostIds: options.avoidHostIds,
    }),
  );
  return new Promise((resolve, reject) => {
    let batcher = batchers.get(options.db);
    if (!batcher) {
      batcher = { calls: [], queued: false };
      batchers.set(options.db, batcher);
    }
    batcher.calls.push({
      options,
      requests,
      constraints: formatLabelSelector(requirements),
      resolve,
      reject,
    });
    if (!batcher.queued) queueBatch(options.db, batcher);
  });
}

function queueBatch(db: PrismaClient, batcher: { calls: TCall[]; queued: boolean }): void {
  batcher.queued = true;
  let calls: TCall[] = [];
  queuePlacement(db, () => {
    // Taken when its turn comes, so it holds every call that arrived meanwhile.
    calls = batcher.calls.splice(0, MAX_BATCH);
    batcher.queued = false;
    if (batcher.calls.length > 0) queueBatch(db, batcher);
    return placeBatch(db, calls);
  }).then(
    ({ outcomes, effects }) => {
      const deps = calls[0]!.options;
      for (const each of effects) applyPlacementEffectsInBackground(deps, each);
      for (const [index, outcome] of outcomes.entries()) {
        if (outcome.ok) calls[index]!.resolve(outcome.placed);
        else calls[index]!.reject(outcome.error);
      }
    },
    (error: unknown) => {
      for (const call of calls) call.reject(error);
    },
  );
}

async function placeBatch(db: PrismaClient, calls: TCall[]): Promise<TBatchResult> {
  if (calls.length === 0) return { outcomes: [], effects: [] };
  try {
    return await withTransactionRetry(() => batchTransaction(db, calls));
  } catch (error) {
    // A failure of the whole (a name taken by another central meanwhile,
    // hosts that kept changing): each call alone, so each gets its own answer.
    calls[0]!.options.log.warn(
      { err: error, calls: calls.length },
      "placement batch failed; placing its calls one at a time",
    );
    const result: TBatchResult = { outcomes: [], effects: [] };
    for (const call of calls) {
      try {
        const { result: placed, effects } = await runPlacementTransaction(call.options, async (ctx) =>
          withRows(ctx.tx, await placeDrafts(ctx, call.options)),
        );
        result.outcomes.push({ ok: true, placed });
        result.effects.push(effects);
      } catch (callError) {
        result.outcomes.push({ ok: false, error: callError });
      }
    }
    return result;
  }
}

/**
 * Names per call: given names free among live containers and not claimed by
 * an earlier call of the batch (else that call's CONFLICT), the rest
 * generated. Checked before scheduling, as a lone placement does.
 */
async function resolveBatchNames(
  tx: TTransaction,
  calls: readonly TCall[],
  failed: (index: number, error: AppError) => void,
): Promise<string[][]> {
  const taken = await liveNamesAmong(
    tx,
    calls.flatMap((call) => call.options.drafts.flatMap((draft) => (draft.name ? [draft.name] : []))),
  );
  const claimed = new Set<string>();
  const ok: boolean[] = [];
  let unnamed = 0;
  for (const [index, call] of calls.entries()) {
    const given = call.options.drafts.flatMap((draft) => (draft.name ? [draft.name] : []));
    const twice = given.find((name, at) => given.indexOf(name) !== at);
    const clash = given.find((name) => taken.has(name) || claimed.has(name));
    if (twice) failed(index, new AppError("CONFLICT", `the name ${twice} is given twice`));
    else if (clash) failed(index, new AppError("CONFLICT", `a container named ${clash} already exists`));
    ok.push(!twice && !clash);
    if (twice || clash) continue;
    for (const name of given) claimed.add(name);
    unnamed += call.options.drafts.length - given.length;
  }
  const generated = await generateContainerNames(tx, unnamed, claimed);
  let next = 0;
  return calls.map((call, index) =>
    ok[index] ? call.options.drafts.map((draft) => draft.name ?? generated[next++]!) : [],
  );
}

/** Whether everything the batch puts on `host` fits it as locked, by the scheduler's own rules. */
function stillFits(host: SchedulerHost, placements: readonly PlacementRequest[]): boolean {
  const check = new ClusterView([host]);
  for (const request of placements) {
    if (!schedule(check, request).ok) return false;
    check.place(host.id, request);
  }
  return true;
}

function batchTransaction(db: PrismaClient, calls: readonly TCall[]): Promise<TBatchResult> {
  const effects = new PlacementEffects();
  // The latest request time: when the batch is placed, as the clock the callers use tells it.
  const now = new Date(Math.max(...calls.map((call) => call.options.now.getTime())));
  return db.$transaction(async (tx) => {
    const outcomes: (TOutcome | undefined)[] = calls.map(() => undefined);
    const names = await resolveBatchNames(tx, calls, (index, error) => {
      outcomes[index] = { ok: false, error };
    });
    const ports = calls.some((call) =>
      call.requests.some((request) => usedHostPortsOf(request.ports).length > 0),
    );
    const cluster = await readPlacementCluster(tx, { ports, volumes: false });
    const { view } = cluster;
    const plans: (PlacementSuccess[] | undefined)[] = calls.map(() => undefined);
    const plan = (index: number) => {
      const requests = calls[index]!.requests;
      const scheduled = scheduleMany(view, requests, { allOrNothing: true });
      if (scheduled.ok) plans[index] = scheduled.placements;
      else outcomes[index] = { ok: false, error: noFitError(scheduled, requests.length) };
    };
    for (const index of calls.keys()) if (!outcomes[index]) plan(index);

    // Host id → the host as locked (null: its row is gone).
    const locked = new Map<string, SchedulerHost | null>();
    for (let round = 0; ; round++) {
      // What the batch puts on each host not locked yet, in arrival order.
      const onHost = new Map<string, PlacementRequest[]>();
      for (const [index, placements] of plans.entries()) {
        for (const [at, placement] of (placements ?? []).entries()) {
          if (locked.has(placement.hostId)) continue;
          const list = onHost.get(placement.hostId) ?? [];
          list.push(calls[index]!.requests[at]!);
          onHost.set(placement.hostId, list);
        }
      }
      if (onHost.size === 0) break;
      if (round === MAX_LOCK_ROUNDS) throw new Error("the hosts a placement batch chose kept changing");
      const fresh = await lockSchedulerHosts(tx, [...onHost.keys()], { ports });
      const changed = new Set<string>();
      for (const [hostId, requests] of onHost) {
        const host = fresh.get(hostId) ?? null;
        locked.set(hostId, host);
        if (!host || !stillFits(host, requests)) changed.add(hostId);
      }
      // The calls that chose a changed host give back everything they booked…
      const replan: number[] = [];
      for (const [index, placements] of plans.entries()) {
        if (!placements?.some((placement) => changed.has(placement.hostId))) continue;
        for (const [at, placement] of placements.entries())
          view.release(placement.hostId, calls[index]!.requests[at]!);
        plans[index] = undefined;
        replan.push(index);
      }
      // …every newly locked host is taken as it is now, with what the other calls put there…
      for (const hostId of onHost.keys()) {
        const host = locked.get(hostId);
        if (!host) {
          view.removeHost(hostId);
          continue;
        }
        view.upsertHost(host);
        for (const [index, placements] of plans.entries()) {
          for (const [at, placement] of (placements ?? []).entries()) {
            if (placement.hostId === hostId) view.place(hostId, calls[index]!.requests[at]!);
          }
        }
      }
      // …and they are planned again, in arrival order, on a view exact for every locked host.
      for (const index of replan) plan(index);
    }

    const lockedHostIds = new Set([...locked].flatMap(([hostId, host]) => (host ? [hostId] : [])));
    const writes: TPlacementWrite[] = [];
    const owners: number[] = [];
    for (const [index, placements] of plans.entries()) {
      const call = calls[index]!;
      for (const [at, placement] of (placements ?? []).entries()) {
        writes.push({
          name: names[index]![at]!,
          draft: call.options.drafts[at]!,
          decision: decisionOf(placement),
          strategy: call.options.strategy,
          constraints: call.constraints,
          requestedAt: call.options.now,
        });
        owners.push(index);
      }
    }
    const placed = await withRows(
      tx,
      await writePlacements({ tx, cluster: { ...cluster, lockedHostIds }, effects, now }, writes),
    );
    for (const [at, container] of placed.entries()) {
      const index = owners[at]!;
      const outcome = outcomes[index];
      if (outcome?.ok) outcome.placed.push(container);
      else outcomes[index] = { ok: true, placed: [container] };
    }
    return { outcomes: outcomes.map((outcome) => outcome ?? { ok: true, placed: [] }), effects: [effects] };
  }, PLACEMENT_TRANSACTION_OPTIONS);
}
