// The rollout's next move, decided from what the rows say and nothing else:
// no clock (the caller passes `now`), no I/O. The loop around it
// (`rollout-loop.ts`) reads the rows, asks, applies one action in one
// transaction, and asks again, so a central restarted between any two
// actions resumes from the rows with the same answer.
import { formatDuration } from "@fleet/shared/units";
import type { TUpdatePolicy } from "./update-policy";

export const ROLLOUT_STATES = [
  "running",
  "paused",
  "awaiting-promotion",
  "succeeded",
  "failed",
  "reverting",
  "reverted",
  "cancelled",
] as const;
export type TRolloutState = (typeof ROLLOUT_STATES)[number];
/** States in which the loop still has work (or waits for a person). */
export const ACTIVE_ROLLOUT_STATES: readonly TRolloutState[] = [
  "running",
  "paused",
  "awaiting-promotion",
  "reverting",
];

export const STEP_STATES = ["started", "done", "failed"] as const;
export type TStepState = (typeof STEP_STATES)[number];
export type TStepOrder = "stop-first" | "start-first";

export interface TReplicaFacts {
  id: string;
  name: string;
  replicaIndex: number;
  revision: number | null;
  actualState: string;
  health: "starting" | "healthy" | "unhealthy" | null;
  /** When `health` last changed (so, while healthy: healthy since). */
  healthChangedAt: Date | null;
  healthMessage: string | null;
  statusMessage: string | null;
  /** When the agent last reported it running; null while not running. */
  runningSince: Date | null;
  hostId: string | null;
}

export interface TStepFacts {
  id: string;
  replicaIndex: number;
  oldContainerId: string | null;
  newContainerId: string | null;
  order: TStepOrder;
  canary: boolean;
  state: TStepState;
  startedAt: Date;
  oldRemovedAt: Date | null;
}

export interface TRolloutFacts {
  state: TRolloutState;
  toRevision: number;
  promoted: boolean;
  progressAt: Date;
  policy: TUpdatePolicy;
}

export interface TRolloutInput {
  rollout: TRolloutFacts;
  steps: readonly TStepFacts[];
  /** The deployment's live replica rows. */
  replicas: readonly TReplicaFacts[];
  /** Whether the target revision has a health check (else running counts). */
  targetHasHealthCheck: boolean;
  now: Date;
}

export type TRolloutAction =
  /** The new replica counted: the step is done; start-first removes the old one now. */
  | { kind: "complete-step"; stepId: string; removeContainerId: string | null }
  /** A promoted canary's old replica goes. */
  | { kind: "retire-old"; stepId: string; containerId: string }
  /** A replica that no step accounts for beside another of the same index (a cancelled start-first). */
  | { kind: "remove-surplus"; containerId: string }
  /** Replace the replica at this index (or place one where none is). */
  | {
      kind: "replace";
      replicaIndex: number;
      oldContainerId: string | null;
      order: TStepOrder;
      canary: boolean;
    }
  | { kind: "fail"; reason: string; stepId: string | null }
  | { kind: "await-promotion" }
  /** Every replica runs the target revision and counted. */
  | { kind: "finish" };

export interface TRolloutDecision {
  /** What to do now, in order; empty means wait. */
  actions: TRolloutAction[];
  /** Why it waits, for the view. */
  waitingFor: string | null;
}

function isCounted(replica: TReplicaFacts, input: TRolloutInput): boolean {
  const since = input.targetHasHealthCheck
    ? replica.health === "healthy"
      ? replica.healthChangedAt
      : null
    : replica.actualState === "running"
      ? replica.runningSince
      : null;
  return since !== null && input.now.getTime() - since.getTime() >= input.rollout.policy.minHealthyTimeMs;
}

/** How a replica that has not counted looks, for a failure's reason. */
export function replicaCondition(replica: TReplicaFacts | undefined): string {
  if (!replica) return "gone";
  const parts = [replica.hostId === null ? "waiting for a host" : replica.actualState];
  if (replica.health) parts.push(`health ${replica.health}`);
  const message = replica.healthMessage ?? replica.statusMessage;
  if (message) parts.push(message);
  return parts.join(", ");
}

/** Whether a replica is serving: healthy, or running when its revision has no health check. */
export function isServing(replica: TReplicaFacts, hasHealthCheck: boolean): boolean {
  return hasHealthCheck ? replica.health === "healthy" : replica.actualState === "running";
}

export function decideRollout(input: TRolloutInput): TRolloutDecision {
  const { rollout, steps, replicas, now } = input;
  const { policy } = rollout;
  if (!ACTIVE_ROLLOUT_STATES.includes(rollout.state)) return { actions: [], waitingFor: null };
  if (rollout.state === "paused") return { actions: [], waitingFor: "paused" };

  const byId = new Map(replicas.map((replica) => [replica.id, replica]));
  const started = steps.filter((step) => step.state === "started");
  const actions: TRolloutAction[] = [];

  // 1. Replacements in flight: counted, or past their deadline.
  for (const step of started) {
    const fresh = step.newContainerId ? byId.get(step.newContainerId) : undefined;
    if (fresh && isCounted(fresh, input)) {
      const old = step.oldContainerId ? byId.get(step.oldContainerId) : undefined;
      const removeOld = !step.canary && old !== undefined;
      actions.push({ kind: "complete-step", stepId: step.id, removeContainerId: removeOld ? old.id : null });
    } else if (now.getTime() - step.startedAt.getTime() > policy.healthyDeadlineMs) {
      const name = fresh?.name ?? `replica ${step.replicaIndex}`;
      return {
        actions: [
          {
            kind: "fail",
            stepId: step.id,
            reason: `${name} (revision ${rollout.toRevision}) did not ${
              input.targetHasHealthCheck ? "stay healthy" : "keep running"
            } for ${formatDuration(policy.minHealthyTimeMs)} within ${formatDuration(policy.healthyDeadlineMs)}: ${replicaCondition(fresh)}`,
          },
        ],
        waitingFor: null,
      };
    }
  }
  if (actions.length > 0) return { actions, waitingFor: null };
  // Waiting for a person is not a lack of progress: promotion restarts the clock.
  if (rollout.state === "awaiting-promotion") return { actions: [], waitingFor: "promotion" };
  if (now.getTime() - rollout.progressAt.getTime() > policy.progressDeadlineMs) {
    return {
      actions: [
        {
          kind: "fail",
          stepId: null,
          reason: `no replica counted for ${formatDuration(policy.progressDeadlineMs)} (progress deadline)`,
        },
      ],
      waitingFor: null,
    };
  }

  // 2. After promotion, canaries' old replicas go.
  if (rollout.promoted) {
    for (const step of steps) {
      if (!step.canary || step.state !== "done" || step.oldRemovedAt || !step.oldContainerId) continue;
      if (byId.has(step.oldContainerId)) {
        actions.push({ kind: "retire-old", stepId: step.id, containerId: step.oldContainerId });
      }
    }
    if (actions.length > 0) return { actions, waitingFor: null };
  }

  // 3. Which indexes still need a replacement.
  const referenced = new Set(
    steps.flatMap((step) => [step.oldContainerId, step.newContainerId]).filter((id): id is string => !!id),
  );
  const byIndex = new Map<number, TReplicaFacts[]>();
  for (const replica of replicas) {
    const list = byIndex.get(replica.replicaIndex) ?? [];
    list.push(replica);
    byIndex.set(replica.replicaIndex, list);
  }
  const busyIndexes = new Set(started.map((step) => step.replicaIndex));
  const pending: { index: number; old: TReplicaFacts }[] = [];
  for (const [index, list] of [...byIndex.entries()].sort(([a], [b]) => a - b)) {
    if (busyIndexes.has(index)) continue;
    const onTarget = list.filter((replica) => replica.revision === rollout.toRevision);
    const unreferenced = list.filter((replica) => !referenced.has(replica.id));
    // Left over by a rollout cancelled mid-step: one replica per index is kept, preferring the target.
    if (list.length > 1) {
      const keep =
        onTarget.find((replica) => referenced.has(replica.id)) ??
        onTarget[0] ??
        list.find((replica) => referenced.has(replica.id)) ??
        list.find((replica) => isServing(replica, false)) ??
        list[0]!;
      const canaryKeeps = steps.some(
        (step) => step.canary && step.replicaIndex === index && !step.oldRemovedAt && step.state === "done",
      );
      const surplus = unreferenced.filter((replica) => replica.id !== keep.id);
      if (surplus.length > 0 && !canaryKeeps) {
        return {
          actions: surplus.map((replica) => ({ kind: "remove-surplus" as const, containerId: replica.id })),
          waitingFor: null,
        };
      }
    }
    if (onTarget.length === 0) pending.push({ index, old: list[0]! });
  }

  const inFlight = started.length;
  const room = policy.maxParallel - inFlight;
  const canaryPhase = policy.canary > 0 && !rollout.promoted;
  if (canaryPhase) {
    const canaries = steps.filter((step) => step.canary).length;
    const wanted = Math.min(policy.canary, canaries + pending.length);
    if (canaries < wanted) {
      for (const { index, old } of pending.slice(0, Math.min(room, wanted - canaries))) {
        actions.push({
          kind: "replace",
          replicaIndex: index,
          oldContainerId: old.id,
          order: "start-first",
          canary: true,
        });
      }
      return { actions, waitingFor: actions.length > 0 ? null : "replacements in flight" };
    }
    if (inFlight > 0) return { actions: [], waitingFor: "canaries to count" };
    return { actions: [{ kind: "await-promotion" }], waitingFor: null };
  }

  for (const { index, old } of pending.slice(0, Math.max(0, room))) {
    actions.push({
      kind: "replace",
      replicaIndex: index,
      oldContainerId: old.id,
      order: policy.order,
      canary: false,
    });
  }
  if (actions.length > 0) return { actions, waitingFor: null };
  if (inFlight > 0 || pending.length > 0) return { actions: [], waitingFor: "replacements to count" };
  return { actions: [{ kind: "finish" }], waitingFor: null };
}
