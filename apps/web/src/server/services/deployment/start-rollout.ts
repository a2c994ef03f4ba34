// A new revision and the rollout towards it, written in the caller's
// transaction (with the deployment row locked): the revision row, the
// deployment's spec and policy, a rollout in state running (or reverting),
// and any rollout still in progress cancelled, since it aimed at a spec that
// is no longer the newest.
import type { Prisma } from "../../db/client";
import { recordEvent } from "../../events/record-event";
import type { TContainerTemplate } from "../placement/container-template";
import type { TPlacementContext } from "../placement/place-containers";
import { revisionSpecOf, type TPlacementParts } from "./revision-spec";
import { ACTIVE_ROLLOUT_STATES } from "./rollout-decision";
import type { TUpdatePolicy } from "./update-policy";

export interface TStartedRollout {
  revision: number;
  rolloutId: string;
  diff: string;
}

export async function startRollout(
  ctx: Pick<TPlacementContext, "tx" | "effects" | "now">,
  options: {
    deployment: { id: string; name: string; revision: number };
    template: TContainerTemplate;
    /** Where the replicas may go; kept in the revision so a rollback restores it. */
    placement: TPlacementParts;
    imageDigest: string | null;
    diff: string;
    policy: TUpdatePolicy;
    actorEmail: string;
    /** Auto-revert: no canaries, and the rollout ends as `reverted`. */
    reverting?: boolean;
    /** What the event says happened, e.g. "rolled back to revision 2". */
    what: string;
  },
): Promise<TStartedRollout> {
  const { tx, effects, now } = ctx;
  const { deployment, policy, actorEmail } = options;
  const latest = await tx.deploymentRevision.findFirst({
    where: { deploymentId: deployment.id },
    orderBy: { number: "desc" },
    select: { number: true },
  });
  const revision = Math.max(latest?.number ?? 0, deployment.revision) + 1;
  await tx.deploymentRevision.create({
    data: {
      deploymentId: deployment.id,
      number: revision,
      spec: revisionSpecOf(options.template, options.placement),
      imageDigest: options.imageDigest,
      diff: options.diff,
      createdBy: actorEmail,
      createdAt: now,
    },
    select: { id: true },
  });
  await tx.deployment.update({
    where: { id: deployment.id },
    data: {
      spec: options.template as unknown as Prisma.InputJsonObject,
      imageDigest: options.imageDigest,
      constraints: options.placement.constraints,
      strategy: options.placement.strategy,
      revision,
      updatePolicy: policy as unknown as Prisma.InputJsonObject,
    },
    select: { id: true },
  });
  await tx.rollout.updateMany({
    where: { deploymentId: deployment.id, state: { in: [...ACTIVE_ROLLOUT_STATES] } },
    data: { state: "cancelled", reason: `superseded by revision ${revision}`, finishedAt: now },
  });
  const rollout = await tx.rollout.create({
    data: {
      deploymentId: deployment.id,
      fromRevision: deployment.revision,
      toRevision: revision,
      state: options.reverting ? "reverting" : "running",
      policy: policy as unknown as Prisma.InputJsonObject,
      promoted: options.reverting === true || policy.canary === 0,
      createdBy: actorEmail,
      createdAt: now,
      progressAt: now,
    },
    select: { id: true },
  });
  effects.events.push(
    await recordEvent({
      db: tx,
      kind: options.reverting ? "deployment.reverting" : "deployment.updated",
      severity: options.reverting ? "warning" : "info",
      deploymentId: deployment.id,
      message: `${actorEmail} ${options.what} of deployment ${deployment.name}: revision ${revision}${
        options.diff ? ` (${options.diff})` : ""
      }`,
      data: {
        by: actorEmail,
        revision,
        from: deployment.revision,
        rolloutId: rollout.id,
        diff: options.diff,
      },
      ts: now,
    }),
  );
  return { revision, rolloutId: rollout.id, diff: options.diff };
}
