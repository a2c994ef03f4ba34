// A rollout as the API shows it: its state and why, how far it got (replicas
// on the target revision, serving ones), and each replacement with the
// replica it replaced, the one that replaced it, and why it failed.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { decideRollout, isServing, type TRolloutState } from "./rollout-decision";
import {
  readRolloutFacts,
  rolloutFactsOf,
  rolloutStateOf,
  stepFactsOf,
  stepStateOf,
  type TRolloutRow,
  type TRolloutStepRow,
} from "./rollout-rows";
import { readUpdatePolicy, type TUpdatePolicy } from "./update-policy";

export interface TRolloutProgress {
  /** Replicas the deployment wants. */
  desired: number;
  /** Live replicas made from the target revision. */
  updated: number;
  /** Of those, the ones serving (healthy, or running without a health check). */
  updatedServing: number;
  /** Live replicas serving, whatever their revision. */
  serving: number;
  /** Replacements done / in flight / failed. */
  stepsDone: number;
  stepsInFlight: number;
  stepsFailed: number;
}

export interface TRolloutSummary {
  id: string;
  state: TRolloutState;
  fromRevision: number | null;
  toRevision: number;
  reason: string | null;
  policy: TUpdatePolicy;
  promoted: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  progressAt: Date;
  finishedAt: Date | null;
  progress: TRolloutProgress;
  /** What an active rollout waits for (e.g. "replacements to count", "promotion"); null otherwise. */
  waitingFor: string | null;
}

export interface TRolloutStepView {
  id: string;
  replicaIndex: number;
  oldContainerId: string | null;
  oldContainerName: string | null;
  newContainerId: string | null;
  newContainerName: string | null;
  order: "stop-first" | "start-first";
  canary: boolean;
  state: "started" | "done" | "failed";
  reason: string | null;
  startedAt: Date;
  oldRemovedAt: Date | null;
  finishedAt: Date | null;
}

export interface TRolloutDetail {
  rollout: TRolloutSummary;
  steps: TRolloutStepView[];
}

function summaryOf(
  row: TRolloutRow,
  steps: TRolloutStepRow[],
  facts: NonNullable<Awaited<ReturnType<typeof readRolloutFacts>>>,
  desired: number,
  now: Date,
): TRolloutSummary {
  const onTarget = facts.replicas.filter((replica) => replica.revision === row.toRevision);
  const decision = decideRollout({
    rollout: rolloutFactsOf(row),
    steps: steps.map(stepFactsOf),
    replicas: facts.replicas,
    targetHasHealthCheck: facts.targetHasHealthCheck,
    now,
  });
  return {
    id: row.id,
    state: rolloutStateOf(row.state),
    fromRevision: row.fromRevision,
    toRevision: row.toRevision,
    reason: row.reason,
    policy: readUpdatePolicy(row.policy),
    promoted: row.promoted,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    progressAt: row.progressAt,
    finishedAt: row.finishedAt,
    progress: {
      desired,
      updated: onTarget.length,
      updatedServing: onTarget.filter((replica) => isServing(replica, facts.targetHasHealthCheck)).length,
      // Replicas of other revisions count by their own kind of check: healthy when they report health.
      serving: facts.replicas.filter((replica) => isServing(replica, replica.health !== null)).length,
      stepsDone: steps.filter((step) => step.state === "done").length,
      stepsInFlight: steps.filter((step) => step.state === "started").length,
      stepsFailed: steps.filter((step) => step.state === "failed").length,
    },
    waitingFor: decision.waitingFor,
  };
}

/** One rollout with its steps; the deployment's newest when `rolloutId` is not given, null when it has none. */
export async function getRollout(options: {
  db: PrismaClient;
  deploymentId: string;
  rolloutId?: string | undefined;
  now: Date;
}): Promise<TRolloutDetail | null> {
  const { db, deploymentId, now } = options;
  const deployment = await db.deployment.findUnique({
    where: { id: deploymentId },
    select: { replicas: true },
  });
  if (!deployment) throw new AppError("NOT_FOUND", `no deployment with id ${deploymentId}`);
  const chosen = options.rolloutId
    ? await db.rollout.findFirst({ where: { id: options.rolloutId, deploymentId }, select: { id: true } })
    : await db.rollout.findFirst({
        where: { deploymentId },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        select: { id: true },
      });
  if (!chosen) {
    if (options.rolloutId) throw new AppError("NOT_FOUND", `no rollout with id ${options.rolloutId}`);
    return null;
  }
  const facts = await readRolloutFacts(db, chosen.id);
  if (!facts) return null;
  const ids = facts.steps.flatMap((step) =>
    [step.oldContainerId, step.newContainerId].filter((id): id is string => !!id),
  );
  const names = new Map(
    (await db.container.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map(
      (row) => [row.id, row.name],
    ),
  );
  return {
    rollout: summaryOf(facts.row, facts.steps, facts, deployment.replicas, now),
    steps: facts.steps.map((step) => ({
      id: step.id,
      replicaIndex: step.replicaIndex,
      oldContainerId: step.oldContainerId,
      oldContainerName: step.oldContainerId ? (names.get(step.oldContainerId) ?? null) : null,
      newContainerId: step.newContainerId,
      newContainerName: step.newContainerId ? (names.get(step.newContainerId) ?? null) : null,
      order: step.order === "start-first" ? "start-first" : "stop-first",
      canary: step.canary,
      state: stepStateOf(step.state),
      reason: step.reason,
      startedAt: step.startedAt,
      oldRemovedAt: step.oldRemovedAt,
      finishedAt: step.finishedAt,
    })),
  };
}
