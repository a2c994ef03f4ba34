// A change of a deployment's spec or update policy. A spec change becomes a
// new revision and a rollout towards it (the rollout loop replaces the
// replicas by the policy); a policy change alone is stored and applies to the
// next rollout. A new image is pinned to a digest first, as at creation.
import { familiarImageRef, parseImageRef } from "@fleet/shared/image-ref";
import type { PlacementStrategy } from "@fleet/shared/scheduler/types";
import type { Prisma } from "../../db/client";
import { AppError } from "../../errors";
import type { AgentOperations } from "../agent/agent-operations";
import type { TContainerTemplate } from "../placement/container-template";
import type { RunPlacementOptions } from "../placement/place-containers";
import { changeDeployment } from "./deployment-lock";
import { templateOfDeployment } from "./deployment-view";
import { getDeployment, type TDeploymentDetail } from "./get-deployment";
import { pinImage } from "./pin-image";
import { revisionDiff } from "./revision-diff";
import { startRollout } from "./start-rollout";
import { readUpdatePolicy, type TUpdatePolicyInput, withPolicyChanges } from "./update-policy";

export interface TDeploymentChange {
  /** The revision this change made; null when the spec did not change (or a dry run). */
  revision: number | null;
  /** Against the current revision; empty when the spec is the same. */
  diff: string;
  dryRun: boolean;
}

export async function updateDeployment(
  options: RunPlacementOptions & {
    id: string;
    /** The new template from the current one; throws AppError("BAD_REQUEST") when the result is invalid. */
    edit: (current: TContainerTemplate) => TContainerTemplate;
    strategy?: PlacementStrategy | undefined;
    constraints?: string | undefined;
    policy?: TUpdatePolicyInput | undefined;
    /** Only say what would change: nothing is pulled or written. */
    dryRun?: boolean | undefined;
    actorEmail: string;
    /** Pulls a new tag on one host to learn its digest. */
    gateway: AgentOperations;
  },
): Promise<TDeploymentDetail & { change: TDeploymentChange }> {
  const { db, id, actorEmail, now } = options;
  const current = await db.deployment.findUnique({
    where: { id },
    select: {
      name: true,
      spec: true,
      imageDigest: true,
      constraints: true,
      strategy: true,
      revision: true,
      updatePolicy: true,
      removedAt: true,
    },
  });
  if (!current) throw new AppError("NOT_FOUND", `no deployment with id ${id}`);
  if (current.removedAt) {
    throw new AppError("PRECONDITION_FAILED", `deployment ${current.name} has been removed`);
  }
  const before = templateOfDeployment(current.spec);
  const edited = options.edit(before);
  const constraints = options.constraints ?? current.constraints;
  const strategy = options.strategy ?? current.strategy;
  const policy = withPolicyChanges(readUpdatePolicy(current.updatePolicy), options.policy);
  const placementBefore = { constraints: current.constraints, strategy: current.strategy };
  const placementAfter = { constraints, strategy };
  if (options.dryRun) {
    // Nothing is pulled: the same tag reads as the same image (applying may still find it moved).
    const sameTag = familiarImageRef({ ...parseImageRef(before.image), digest: null }) === edited.image;
    const shown = sameTag ? { ...edited, image: before.image } : edited;
    const diff = revisionDiff({ ...before, ...placementBefore }, { ...shown, ...placementAfter });
    const detail = await getDeployment({ db, id });
    return { ...detail, change: { revision: null, diff, dryRun: true } };
  }

  let template = edited;
  let imageDigest = current.imageDigest;
  if (edited.image !== before.image) {
    // Outside the transaction: a pull can take minutes, and holds no host lock.
    const pinned = await pinImage({
      db,
      gateway: options.gateway,
      bus: options.bus,
      log: options.log,
      now: () => now,
      image: edited.image,
      constraints,
      actorEmail,
    });
    // Replacing replicas with an image no host can pull would take the deployment down.
    if (pinned.digest === null) {
      throw new AppError(
        "PRECONDITION_FAILED",
        `deployment ${current.name} was not changed: image ${edited.image} could not be resolved to a registry digest (${pinned.problem})`,
      );
    }
    template = { ...edited, image: pinned.image };
    imageDigest = pinned.digest;
  }
  const diff = revisionDiff({ ...before, ...placementBefore }, { ...template, ...placementAfter });

  const started = await changeDeployment(options, id, async (ctx, deployment) => {
    if (deployment.removedAt) {
      throw new AppError("PRECONDITION_FAILED", `deployment ${deployment.name} has been removed`);
    }
    if (deployment.revision !== current.revision) {
      throw new AppError(
        "CONFLICT",
        `deployment ${deployment.name} changed meanwhile (now revision ${deployment.revision}); try again`,
      );
    }
    if (diff === "") {
      await ctx.tx.deployment.update({
        where: { id },
        data: { updatePolicy: policy as unknown as Prisma.InputJsonObject },
        select: { id: true },
      });
      return null;
    }
    return startRollout(ctx, {
      deployment,
      template,
      placement: placementAfter,
      imageDigest,
      diff,
      policy,
      actorEmail,
      what: "changed the spec",
    });
  });
  if (started) options.bus.publish("rollout.started", { deploymentId: id, rolloutId: started.rolloutId });
  const detail = await getDeployment({ db, id });
  return { ...detail, change: { revision: started?.revision ?? null, diff, dryRun: false } };
}
