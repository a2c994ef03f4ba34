// One step of a rollout, in one placement transaction: the deployment row and
// its replicas locked (`changeDeployment`), the decision taken again on the
// rows as they are under the lock, and its first action written together with
// the container rows it creates or stops. A central that dies between two
// actions finds the step row beside the containers it made, never one without
// the other, so no replica is replaced twice.
import { readContainerRow } from "../../db/container-row";
import { isAppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import type { TLockedContainer } from "../container/container-lock";
import { removeLockedContainer } from "../container/remove-container";
import type { TContainerTemplate } from "../placement/container-template";
import {
  placeDrafts,
  placementRequestOf,
  type RunPlacementOptions,
  type TPlacementContext,
} from "../placement/place-containers";
import { changeDeployment, type TLockedDeployment } from "./deployment-lock";
import { replicaName, templateOfDeployment } from "./deployment-view";
import { revisionDiff } from "./revision-diff";
import { readRevisionSpec } from "./revision-spec";
import { AUTO_REVERT_ACTOR } from "./rollout-control";
import { decideRollout, type TRolloutAction, type TRolloutDecision } from "./rollout-decision";
import { readRolloutFacts, rolloutFactsOf, stepFactsOf } from "./rollout-rows";
import { startRollout } from "./start-rollout";

export async function decideFromRows(
  db: RunPlacementOptions["db"],
  rolloutId: string,
  now: Date,
): Promise<{ deploymentId: string; decision: TRolloutDecision } | null> {
  const facts = await readRolloutFacts(db, rolloutId);
  if (!facts) return null;
  return {
    deploymentId: facts.row.deploymentId,
    decision: decideRollout({
      rollout: rolloutFactsOf(facts.row),
      steps: facts.steps.map(stepFactsOf),
      replicas: facts.replicas,
      targetHasHealthCheck: facts.targetHasHealthCheck,
      now,
    }),
  };
}

/** Applies the first action the decision takes under the lock; returns it, or null when there was none. */
export async function applyNextRolloutAction(
  options: RunPlacementOptions & { deploymentId: string; rolloutId: string },
): Promise<TRolloutAction | null> {
  const { rolloutId, now } = options;
  return changeDeployment(options, options.deploymentId, async (ctx, deployment, live) => {
    const facts = await readRolloutFacts(ctx.tx, rolloutId);
    if (!facts || deployment.removedAt) return null;
    const decision = decideRollout({
      rollout: rolloutFactsOf(facts.row),
      steps: facts.steps.map(stepFactsOf),
      replicas: facts.replicas,
      targetHasHealthCheck: facts.targetHasHealthCheck,
      now,
    });
    const action = decision.actions[0];
    if (!action) return null;
    await applyAction(ctx, { action, rolloutId, deployment, live, facts });
    // A step taken: whatever kept the rollout waiting (a placement refused) is over.
    if (facts.row.reason && action.kind !== "fail" && action.kind !== "finish") {
      await ctx.tx.rollout.updateMany({
        where: { id: rolloutId, state: { in: ["running", "reverting", "awaiting-promotion"] } },
        data: { reason: null },
      });
    }
    return action;
  });
}

type TFacts = NonNullable<Awaited<ReturnType<typeof readRolloutFacts>>>;

async function applyAction(
  ctx: TPlacementContext,
  options: {
    action: TRolloutAction;
    rolloutId: string;
    deployment: TLockedDeployment;
    live: TLockedContainer[];
    facts: TFacts;
  },
): Promise<void> {
  const { tx, now } = ctx;
  const { action, rolloutId, deployment, live, facts } = options;
  const liveById = new Map(live.map((row) => [row.id, row]));
  const remove = async (id: string, why: string) => {
    const row = liveById.get(id);
    if (!row) return;
    await removeLockedContainer(tx, row, ctx.effects, {
      now,
      message: `rollout of deployment ${deployment.name} to revision ${facts.row.toRevision}: replica ${row.name} removed (${why})`,
      data: { rolloutId },
    });
    releaseInView(ctx, row);
  };
  switch (action.kind) {
    case "complete-step": {
      if (action.removeContainerId) await remove(action.removeContainerId, "its replacement counted");
      await tx.rolloutStep.update({
        where: { id: action.stepId },
        data: {
          state: "done",
          finishedAt: now,
          ...(action.removeContainerId ? { oldRemovedAt: now } : {}),
        },
        select: { id: true },
      });
      await tx.rollout.update({ where: { id: rolloutId }, data: { progressAt: now }, select: { id: true } });
      return;
    }
    case "retire-old": {
      await remove(action.containerId, "the canaries were promoted");
      await tx.rolloutStep.update({
        where: { id: action.stepId },
        data: { oldRemovedAt: now },
        select: { id: true },
      });
      return;
    }
    case "remove-surplus":
      await remove(action.containerId, "left over by a cancelled rollout");
      return;
    case "replace":
      await replaceReplica(ctx, { action, rolloutId, deployment, facts, remove });
      return;
    case "await-promotion":
      await tx.rollout.update({
        where: { id: rolloutId },
        data: { state: "awaiting-promotion" },
        select: { id: true },
      });
      ctx.effects.events.push(
        await recordEvent({
          db: tx,
          kind: "deployment.rollout-awaiting-promotion",
          deploymentId: deployment.id,
          message: `rollout of deployment ${deployment.name} to revision ${facts.row.toRevision}: canaries counted; waiting for promotion`,
          data: { rolloutId },
          ts: now,
        }),
      );
      return;
    case "finish": {
      const state = facts.row.state === "reverting" ? "reverted" : "succeeded";
      await tx.rollout.update({
        where: { id: rolloutId },
        data: { state, finishedAt: now, progressAt: now },
        select: { id: true },
      });
      ctx.effects.events.push(
        await recordEvent({
          db: tx,
          kind: `deployment.rollout-${state}`,
          deploymentId: deployment.id,
          message: `rollout of deployment ${deployment.name} to revision ${facts.row.toRevision} ${state}`,
          data: { rolloutId },
          ts: now,
        }),
      );
      return;
    }
    case "fail":
      await failRollout(ctx, { action, rolloutId, deployment, facts });
      return;
  }
}

/** Keeps the transaction's cluster view in step with a removal, so the replacement may take its room. */
function releaseInView(ctx: TPlacementContext, row: TLockedContainer): void {
  if (!row.hostId || row.desiredState !== "running") return;
  try {
    ctx.cluster.view.release(
      row.hostId,
      placementRequestOf(readContainerRow(row), { strategy: row.strategy, constraints: [] }),
    );
  } catch {
    // The host is not a candidate (offline, draining): nothing of it is in the view.
  }
}

async function replaceReplica(
  ctx: TPlacementContext,
  options: {
    action: Extract<TRolloutAction, { kind: "replace" }>;
    rolloutId: string;
    deployment: TLockedDeployment;
    facts: TFacts;
    remove: (id: string, why: string) => Promise<void>;
  },
): Promise<void> {
  const { tx, now } = ctx;
  const { action, rolloutId, deployment, facts } = options;
  const revision = facts.row.toRevision;
  const revisionRow = await tx.deploymentRevision.findUnique({
    where: { deploymentId_number: { deploymentId: deployment.id, number: revision } },
    select: { spec: true },
  });
  const template: TContainerTemplate = templateOfDeployment(revisionRow?.spec ?? deployment.spec);
  const place = async (name: string) => {
    const [placed] = await placeDrafts(ctx, {
      drafts: [{ name, template, deploymentId: deployment.id, replicaIndex: action.replicaIndex }],
      strategy: deployment.strategy,
      constraints: deployment.constraints,
    });
    await tx.container.update({
      where: { id: placed!.containerId },
      data: { revision },
      select: { id: true },
    });
    return placed!;
  };
  let order = action.order;
  let note: string | null = null;
  let placedId: string | null = null;
  const baseName = replicaName(deployment.name, action.replicaIndex);
  if (order === "start-first") {
    const taken = await tx.container.findFirst({
      where: { name: baseName, removedAt: null },
      select: { id: true },
    });
    try {
      placedId = (await place(taken ? `${baseName}-r${revision}` : baseName)).containerId;
    } catch (error) {
      // The scheduler refuses before anything is written, so the transaction goes on.
      if (!isAppError(error) || error.code !== "PRECONDITION_FAILED") throw error;
      order = "stop-first";
      note = `no room to start the new replica beside the old one, so it was stopped first: ${error.message}`;
    }
  }
  if (order === "stop-first") {
    if (action.oldContainerId) await options.remove(action.oldContainerId, "replaced (stop-first)");
    const taken = await tx.container.findFirst({
      where: { name: baseName, removedAt: null },
      select: { id: true },
    });
    placedId = (await place(taken ? `${baseName}-r${revision}` : baseName)).containerId;
  }
  await tx.rolloutStep.create({
    data: {
      rolloutId,
      replicaIndex: action.replicaIndex,
      oldContainerId: action.oldContainerId,
      newContainerId: placedId,
      order,
      canary: action.canary && order === "start-first",
      state: "started",
      reason: note,
      startedAt: now,
      oldRemovedAt: order === "stop-first" && action.oldContainerId ? now : null,
    },
    select: { id: true },
  });
}

async function failRollout(
  ctx: TPlacementContext,
  options: {
    action: Extract<TRolloutAction, { kind: "fail" }>;
    rolloutId: string;
    deployment: TLockedDeployment;
    facts: TFacts;
  },
): Promise<void> {
  const { tx, now } = ctx;
  const { action, rolloutId, deployment, facts } = options;
  if (action.stepId) {
    await tx.rolloutStep.update({
      where: { id: action.stepId },
      data: { state: "failed", reason: action.reason, finishedAt: now },
      select: { id: true },
    });
  }
  // What kept it waiting (a placement the scheduler refused) explains a progress deadline.
  const reason = facts.row.reason ? `${action.reason}; last problem: ${facts.row.reason}` : action.reason;
  await tx.rollout.update({
    where: { id: rolloutId },
    data: { state: "failed", reason, finishedAt: now },
    select: { id: true },
  });
  ctx.effects.events.push(
    await recordEvent({
      db: tx,
      kind: "deployment.rollout-failed",
      severity: "error",
      deploymentId: deployment.id,
      message: `rollout of deployment ${deployment.name} to revision ${facts.row.toRevision} failed: ${reason}`,
      data: { rolloutId, reason },
      ts: now,
    }),
  );
  const policy = rolloutFactsOf(facts.row).policy;
  // A failed revert stops there: going back again could only loop.
  if (!policy.autoRevert || facts.row.state === "reverting") return;
  const good = await lastGoodRevision(tx, deployment.id, facts.row.toRevision);
  if (good === null) return;
  const target = await tx.deploymentRevision.findUnique({
    where: { deploymentId_number: { deploymentId: deployment.id, number: good } },
    select: { spec: true, imageDigest: true },
  });
  if (!target) return;
  const placementNow = { constraints: deployment.constraints, strategy: deployment.strategy };
  const { template, placement } = readRevisionSpec(target.spec, placementNow);
  const diff = revisionDiff(
    { ...templateOfDeployment(deployment.spec), ...placementNow },
    { ...template, ...placement },
  );
  await startRollout(ctx, {
    deployment,
    template,
    placement,
    imageDigest: target.imageDigest,
    diff: `revert to revision ${good}${diff ? `: ${diff}` : ""}`,
    policy,
    actorEmail: AUTO_REVERT_ACTOR,
    reverting: true,
    what: `reverted the spec to revision ${good}`,
  });
}

/** The newest revision a rollout reached; the first revision when none did (creation needs no rollout). */
async function lastGoodRevision(
  tx: TPlacementContext["tx"],
  deploymentId: string,
  failed: number,
): Promise<number | null> {
  const reached = await tx.rollout.findFirst({
    where: { deploymentId, state: { in: ["succeeded", "reverted"] }, toRevision: { not: failed } },
    orderBy: { createdAt: "desc" },
    select: { toRevision: true },
  });
  if (reached) return reached.toRevision;
  return failed === 1 ? null : 1;
}
