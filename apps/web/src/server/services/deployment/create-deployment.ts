// A deployment and all its replicas, placed in one transaction: either every
// replica has a host or nothing is written.
import type { PlacementStrategy } from "@fleet/shared/scheduler/types";
import type { Prisma } from "../../db/client";
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import type { AgentOperations } from "../agent/agent-operations";
import type { TContainerTemplate } from "../placement/container-template";
import { placeDrafts, type RunPlacementOptions, runPlacement } from "../placement/place-containers";
import { replicaName } from "./deployment-view";
import { getDeployment, type TDeploymentDetail } from "./get-deployment";
import { pinImage } from "./pin-image";
import { revisionSpecOf } from "./revision-spec";
import { DEFAULT_UPDATE_POLICY, type TUpdatePolicyInput, withPolicyChanges } from "./update-policy";

/** Placement writes in bulk, so this many replicas place in one transaction of a few seconds. */
export const MAX_REPLICAS = 5000;

export async function createDeployment(
  options: RunPlacementOptions & {
    name: string;
    template: TContainerTemplate;
    replicas: number;
    strategy: PlacementStrategy;
    constraints: string;
    /** Unset knobs take their defaults. */
    policy?: TUpdatePolicyInput | undefined;
    actorEmail: string;
    /** Pulls the tag on one host to learn its digest. */
    gateway: AgentOperations;
  },
): Promise<TDeploymentDetail> {
  const { name, replicas, strategy, constraints, actorEmail, now } = options;
  // Checked again under the lock; this only spares a pointless pull.
  const taken = await options.db.deployment.findFirst({
    where: { name, removedAt: null },
    select: { id: true },
  });
  if (taken) throw new AppError("CONFLICT", `a deployment named ${name} already exists`);
  // Outside the placement transaction: a pull can take minutes, and holds no host lock.
  const pinned = await pinImage({
    db: options.db,
    gateway: options.gateway,
    bus: options.bus,
    log: options.log,
    now: () => now,
    image: options.template.image,
    constraints,
    actorEmail,
  });
  const template: TContainerTemplate = { ...options.template, image: pinned.image };
  // Answered once committed: the agents of up to thousands of hosts hear of their replicas right after.
  const id = await runPlacement({ ...options, pushInBackground: true }, async (ctx) => {
    const { tx, effects } = ctx;
    const existing = await tx.deployment.findFirst({
      where: { name, removedAt: null },
      select: { id: true },
    });
    if (existing) throw new AppError("CONFLICT", `a deployment named ${name} already exists`);
    const deployment = await tx.deployment.create({
      data: {
        name,
        spec: template as unknown as Prisma.InputJsonObject,
        replicas,
        strategy,
        constraints,
        imageDigest: pinned.digest,
        revision: 1,
        updatePolicy: withPolicyChanges(
          DEFAULT_UPDATE_POLICY,
          options.policy,
        ) as unknown as Prisma.InputJsonObject,
      },
      select: { id: true },
    });
    await tx.deploymentRevision.create({
      data: {
        deploymentId: deployment.id,
        number: 1,
        spec: revisionSpecOf(template, { constraints, strategy }),
        imageDigest: pinned.digest,
        diff: "created",
        createdBy: actorEmail,
        createdAt: now,
      },
      select: { id: true },
    });
    const drafts = Array.from({ length: replicas }, (_, offset) => ({
      name: replicaName(name, offset + 1),
      template,
      deploymentId: deployment.id,
      replicaIndex: offset + 1,
      revision: 1,
    }));
    const placed = await placeDrafts(ctx, { drafts, strategy, constraints });
    const hosts = [...new Set(placed.map((replica) => replica.hostName))].sort();
    effects.events.push(
      await recordEvent({
        db: tx,
        kind: "deployment.created",
        deploymentId: deployment.id,
        message: `${actorEmail} created deployment ${name} with ${replicas} replica${replicas === 1 ? "" : "s"} on ${hosts.join(", ")}`,
        data: { by: actorEmail, replicas },
        ts: now,
      }),
    );
    return deployment.id;
  });
  return getDeployment({ db: options.db, id });
}
