// A new image for a deployment: the tag is resolved to a digest once (as at
// creation), then the template and every live replica get the pinned
// reference in one transaction. Each replica's spec hash changes with it, so
// the agents replace the replicas on their hosts at the next desired set;
// placement does not change (resources are the template's own).
import type { Prisma } from "../../db/client";
import { containerColumnsOf } from "../../db/container-row";
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import type { AgentOperations } from "../agent/agent-operations";
import type { TContainerTemplate } from "../placement/container-template";
import type { RunPlacementOptions } from "../placement/place-containers";
import { changeDeployment } from "./deployment-lock";
import { templateOfDeployment } from "./deployment-view";
import { getDeployment, type TDeploymentDetail } from "./get-deployment";
import { pinImage } from "./pin-image";

export async function updateDeployment(
  options: RunPlacementOptions & {
    id: string;
    image: string;
    actorEmail: string;
    /** Pulls the tag on one host to learn its digest. */
    gateway: AgentOperations;
  },
): Promise<TDeploymentDetail> {
  const { db, id, image, actorEmail, now } = options;
  // Checked again under the lock; this only spares a pointless pull.
  const current = await db.deployment.findUnique({
    where: { id },
    select: { name: true, constraints: true, removedAt: true },
  });
  if (!current) throw new AppError("NOT_FOUND", `no deployment with id ${id}`);
  if (current.removedAt) {
    throw new AppError("PRECONDITION_FAILED", `deployment ${current.name} has been removed`);
  }
  // Outside the transaction: a pull can take minutes, and holds no host lock.
  const pinned = await pinImage({
    db,
    gateway: options.gateway,
    bus: options.bus,
    log: options.log,
    now: () => now,
    image,
    constraints: current.constraints,
    actorEmail,
  });
  // Unlike creation, nothing runs the new image yet: replacing every replica with an image
  // no host can pull would take the whole deployment down, so nothing changes instead.
  if (pinned.digest === null) {
    throw new AppError(
      "PRECONDITION_FAILED",
      `deployment ${current.name} was not changed: image ${image} could not be resolved to a registry digest (${pinned.problem})`,
    );
  }

  await changeDeployment(options, id, async (ctx, deployment, live) => {
    const { tx, effects } = ctx;
    if (deployment.removedAt) {
      throw new AppError("PRECONDITION_FAILED", `deployment ${deployment.name} has been removed`);
    }
    const previous = templateOfDeployment(deployment.spec);
    const template: TContainerTemplate = { ...previous, image: pinned.image };
    const columns = containerColumnsOf(template);
    await tx.deployment.update({
      where: { id },
      data: { spec: template as unknown as Prisma.InputJsonObject, imageDigest: pinned.digest },
      select: { id: true },
    });
    for (const replica of live) {
      await tx.container.update({
        where: { id: replica.id },
        data: { image: columns.image, imageDigest: columns.imageDigest, spec: columns.spec },
        select: { id: true },
      });
      effects.containerChanged(replica.id, replica.hostId);
    }
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "deployment.updated",
        deploymentId: id,
        message: `${actorEmail} changed the image of deployment ${deployment.name} from ${previous.image} to ${pinned.image}`,
        data: { by: actorEmail, from: previous.image, to: pinned.image, replicas: live.length },
        ts: now,
      }),
    );
  });
  return getDeployment({ db, id });
}
