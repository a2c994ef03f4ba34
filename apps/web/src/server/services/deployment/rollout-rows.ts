// Reading a rollout's rows into what the decision takes and what the API
// shows. One select per table, declared once.
import type { Prisma } from "../../db/client";
import type { TTransaction } from "../placement/placement-lock";
import {
  ROLLOUT_STATES,
  STEP_STATES,
  type TReplicaFacts,
  type TRolloutFacts,
  type TRolloutState,
  type TStepFacts,
  type TStepState,
} from "./rollout-decision";
import { readUpdatePolicy } from "./update-policy";

export const rolloutSelect = {
  id: true,
  deploymentId: true,
  fromRevision: true,
  toRevision: true,
  state: true,
  reason: true,
  policy: true,
  promoted: true,
  createdBy: true,
  createdAt: true,
  updatedAt: true,
  progressAt: true,
  finishedAt: true,
} satisfies Prisma.RolloutSelect;
export type TRolloutRow = Prisma.RolloutGetPayload<{ select: typeof rolloutSelect }>;

export const rolloutStepSelect = {
  id: true,
  replicaIndex: true,
  oldContainerId: true,
  newContainerId: true,
  order: true,
  canary: true,
  state: true,
  reason: true,
  startedAt: true,
  oldRemovedAt: true,
  finishedAt: true,
} satisfies Prisma.RolloutStepSelect;
export type TRolloutStepRow = Prisma.RolloutStepGetPayload<{ select: typeof rolloutStepSelect }>;

export const replicaFactsSelect = {
  id: true,
  name: true,
  replicaIndex: true,
  revision: true,
  actualState: true,
  health: true,
  healthChangedAt: true,
  healthMessage: true,
  statusMessage: true,
  startedAt: true,
  runningReportedAt: true,
  hostId: true,
} satisfies Prisma.ContainerSelect;
type TReplicaFactsRow = Prisma.ContainerGetPayload<{ select: typeof replicaFactsSelect }>;

/** Rows are only written with these values; anything else is read as the safest one. */
export function rolloutStateOf(state: string): TRolloutState {
  return (ROLLOUT_STATES as readonly string[]).includes(state) ? (state as TRolloutState) : "failed";
}
export function stepStateOf(state: string): TStepState {
  return (STEP_STATES as readonly string[]).includes(state) ? (state as TStepState) : "failed";
}

export function rolloutFactsOf(row: TRolloutRow): TRolloutFacts {
  return {
    state: rolloutStateOf(row.state),
    toRevision: row.toRevision,
    promoted: row.promoted,
    progressAt: row.progressAt,
    policy: readUpdatePolicy(row.policy),
  };
}

export function stepFactsOf(row: TRolloutStepRow): TStepFacts {
  return {
    id: row.id,
    replicaIndex: row.replicaIndex,
    oldContainerId: row.oldContainerId,
    newContainerId: row.newContainerId,
    order: row.order === "start-first" ? "start-first" : "stop-first",
    canary: row.canary,
    state: stepStateOf(row.state),
    startedAt: row.startedAt,
    oldRemovedAt: row.oldRemovedAt,
  };
}

export function replicaFactsOf(row: TReplicaFactsRow): TReplicaFacts {
  const running = row.actualState === "running";
  // The engine's start time moves on a restart; the central's first sighting does not.
  const since =
    row.startedAt && row.runningReportedAt && row.startedAt > row.runningReportedAt
      ? row.startedAt
      : row.runningReportedAt;
  return {
    id: row.id,
    name: row.name,
    replicaIndex: row.replicaIndex ?? 0,
    revision: row.revision,
    actualState: row.actualState,
    health: row.health,
    healthChangedAt: row.healthChangedAt,
    healthMessage: row.healthMessage,
    statusMessage: row.statusMessage,
    runningSince: running ? since : null,
    hostId: row.hostId,
  };
}

export interface TRolloutFactsBundle {
  row: TRolloutRow;
  steps: TRolloutStepRow[];
  replicas: TReplicaFacts[];
  targetHasHealthCheck: boolean;
}

/** Everything the decision needs for one rollout, read in `db` (a transaction or the client). */
export async function readRolloutFacts(
  db: TTransaction,
  rolloutId: string,
): Promise<TRolloutFactsBundle | null> {
  const row = await db.rollout.findUnique({ where: { id: rolloutId }, select: rolloutSelect });
  if (!row) return null;
  const [steps, replicas, revision] = await Promise.all([
    db.rolloutStep.findMany({
      where: { rolloutId },
      orderBy: [{ startedAt: "asc" }, { id: "asc" }],
      select: rolloutStepSelect,
    }),
    db.container.findMany({
      where: { deploymentId: row.deploymentId, removedAt: null },
      orderBy: [{ replicaIndex: "asc" }, { createdAt: "asc" }],
      select: replicaFactsSelect,
    }),
    db.deploymentRevision.findUnique({
      where: { deploymentId_number: { deploymentId: row.deploymentId, number: row.toRevision } },
      select: { spec: true },
    }),
  ]);
  const spec = revision?.spec as { healthCheck?: unknown } | null;
  return {
    row,
    steps,
    replicas: replicas.map(replicaFactsOf),
    targetHasHealthCheck: !!spec?.healthCheck,
  };
}
